// Command push delivers server-side events to every open page:
// `GET /push?msg=...` (or a POST) broadcasts a message, and -tail FILE
// streams each new line of a growing file (a log) to every page.
//
//	go run ./examples/push -tail /var/log/syslog
//	curl 'http://127.0.0.1:8080/push?msg=deploy+finished'
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tether-rt/tether"
	"github.com/tether-rt/tether/hub"
)

//go:embed index.html
var page []byte

// everyone is the one room every page joins.
const everyone = "pages"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	tail := flag.String("tail", "", "file whose new lines are pushed to every page")
	flag.Parse()

	pages := hub.New()
	server := tether.New(func(c *tether.Conn) { pages.Join(c, everyone) }, nil)

	mux := http.NewServeMux()
	mux.Handle("/events/", server)
	mux.HandleFunc("/push", func(w http.ResponseWriter, r *http.Request) { push(pages, w, r) })
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	srv := &http.Server{Addr: *addr, Handler: mux}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *tail != "" {
		go func() {
			err := follow(ctx, *tail, 250*time.Millisecond, func(line string) { pages.Broadcast(everyone, line) })
			if err != nil && ctx.Err() == nil {
				log.Printf("push: -tail %s: %v", *tail, err)
			}
		}()
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(sctx)
		srv.Shutdown(sctx)
	}()
	log.Printf("push: open http://%s/ then curl 'http://%s/push?msg=hello'", *addr, *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// push broadcasts the msg of a GET query, a POST form, or a POST body.
func push(pages *hub.Hub, w http.ResponseWriter, r *http.Request) {
	var msg string
	switch r.Method {
	case http.MethodGet:
		msg = r.URL.Query().Get("msg")
	case http.MethodPost:
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			msg = r.PostFormValue("msg")
		} else {
			b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			msg = strings.TrimRight(string(b), "\r\n")
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if msg == "" {
		http.Error(w, "nothing to push: give msg=... or a body", http.StatusBadRequest)
		return
	}
	n := pages.Deliver(hub.Envelope{Room: everyone, Data: []byte(msg)})
	fmt.Fprintf(w, "pushed to %d pages\n", n)
}
