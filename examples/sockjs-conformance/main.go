// Command sockjs-conformance serves the four SockJS services the official
// protocol suite (sockjs/sockjs-protocol) and sockjs-client's own tests
// expect, on tether's SockJS dialect:
//
//	/echo                     echoes every message; 4096-byte response limit
//	/close                    closes every session at once with 3000 "Go away!"
//	/disabled_websocket_echo  /echo without the websocket transport
//	/cookie_needed_echo       /echo with the JSESSIONID cookie on
//
// Like the suite's reference server it accepts every origin, which a real
// deployment should not (see docs/migrate-sockjs.md).
//
//	go run ./examples/sockjs-conformance -addr 127.0.0.1:8081
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

	"github.com/gorilla/mux"
	"github.com/tether-rt/tether"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	client := flag.String("client", "", "a sockjs-client build (sockjs.min.js) to serve at /sockjs.js; "+
		"the iframe page then loads it from there instead of jsDelivr")
	flag.Parse()

	if *client != "" {
		if _, err := os.Stat(*client); err != nil {
			log.Fatal(err)
		}
	}
	m, servers := newServer(*client)
	srv := &http.Server{Addr: *addr, Handler: m}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range servers {
			s.Shutdown(sctx)
		}
		srv.Shutdown(sctx)
	}()
	log.Printf("sockjs-conformance: serving SockJS at http://%s/echo, /close, /disabled_websocket_echo, /cookie_needed_echo", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// newServer mounts the four services, and the page at /; client, when set,
// is a sockjs-client build served at /sockjs.js for both pages.
func newServer(client string) (http.Handler, []*tether.SockJSServer) {
	// gorilla/mux, told not to clean paths: http.ServeMux would redirect
	// the suite's malformed URLs (/echo//xhr) where it wants 404s.
	m := mux.NewRouter().SkipClean(true)
	clientURL := ""
	if client != "" {
		clientURL = "/sockjs.js"
		m.Methods(http.MethodGet).Path("/sockjs.js").HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
			http.ServeFile(w, r, client)
		})
	}
	echo := func(c *tether.Conn) {
		c.OnMessage(func(m tether.Message) {
			if m.Binary {
				c.SendBinary(m.Data) // the raw WebSocket endpoint only
				return
			}
			c.Send(m.Text())
		})
	}
	goAway := func(c *tether.Conn) { c.Close(3000, "Go away!") }
	services := []struct {
		prefix  string
		handler func(*tether.Conn)
		opts    tether.SockJSOptions
	}{
		{"/echo", echo, tether.SockJSOptions{ResponseLimit: 4096}},
		{"/close", goAway, tether.SockJSOptions{}},
		{"/disabled_websocket_echo", echo, tether.SockJSOptions{DisableWebSocket: true}},
		{"/cookie_needed_echo", echo, tether.SockJSOptions{JSessionID: tether.DefaultJSessionID}},
	}
	var servers []*tether.SockJSServer
	for _, sv := range services {
		opts := sv.opts
		opts.AllowedOrigins = []string{"*"} // as the suite's reference server
		opts.ClientURL = clientURL
		s := tether.NewSockJS(sv.prefix, sv.handler, &opts)
		m.Path(sv.prefix).Handler(s)
		m.PathPrefix(sv.prefix + "/").Handler(s)
		servers = append(servers, s)
	}
	m.Methods(http.MethodGet).Path("/").HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page(clientURL))
	})
	return m, servers
}
