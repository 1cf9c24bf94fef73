// Command echo is the smallest tether server: it greets each client with
// "Welcome" and answers every message with "new message: <text>".
//
//	go run ./examples/echo
//	printf 'hi\n' | go run ./cmd/tether dial http://127.0.0.1:8080/echo
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tether-rt/tether"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	echo := tether.New(func(c *tether.Conn) {
		c.Send("Welcome")
		c.OnMessage(func(m tether.Message) {
			if m.Binary {
				c.SendBinary(m.Data)
				return
			}
			c.Send("new message: " + m.Text())
		})
	}, nil)

	mux := http.NewServeMux()
	mux.Handle("/echo/", echo)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("tether echo server: connect a tether client to /echo\n"))
	})
	srv := &http.Server{Addr: *addr, Handler: mux}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		// Tell every client to reconnect elsewhere, then stop serving.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		echo.Shutdown(sctx)
		srv.Shutdown(sctx)
	}()
	log.Printf("echo: serving tether at http://%s/echo", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
