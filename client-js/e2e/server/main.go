// Command server is the Go test server of the browser client's end-to-end
// tests (client-js/e2e): an echo app mounted at /echo, and at / a page that
// loads /echo/tether.js and gives the tests a few hooks (window.connect,
// window.events, window.msgs). /bare is the same page with XMLHttpRequest,
// fetch, WebSocket and EventSource deleted before the client loads, for
// the jsonp test.
//
// The echo app greets each session with "Welcome" and answers every text
// message with "new message: <text>" and every binary message with the
// same bytes, except for these commands:
//
//	close <code> <reason>  closes the session with that code and reason
//	push <n>               sends "push 1" … "push <n>" at once
//	tick <n> <ms>          sends "tick 1" … "tick <n>", one every <ms> ms
//	n <i>                  a numbered message: recorded, then echoed
//	check                  answers "check ok <k>" when the numbered messages
//	                       received so far are exactly 1…k in order, else
//	                       "check bad <what was received>"
//	transport              answers "transport <carrier the server sees>"
//	whoami                 answers "remote <Conn.RemoteAddr>"
//	server                 answers "server <the address this process listens on>"
//
// It prints "listening on http://<addr>" on stdout once it accepts
// connections, and stops on SIGTERM or SIGINT.
//
//	go run ./client-js/e2e/server -addr 127.0.0.1:8080 -hb 1s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	transports := flag.String("transports", "", "comma-separated carriers the router serves (default: all six)")
	noWebSocket := flag.Bool("no-websocket", false, "serve every carrier but websocket")
	hb := flag.Duration("hb", 0, "heartbeat interval (0: the router's default, 25s)")
	hbTimeout := flag.Duration("hb-timeout", 0, "dead-peer timeout (0: 2 × heartbeat interval)")
	disconnect := flag.Duration("disconnect-delay", 0, "disconnect delay (0: the router's default, 30s)")
	maxStream := flag.Int("max-stream-bytes", 0, "bytes after which a streaming answer ends (0: default)")
	trusted := flag.String("trusted-proxies", "", "comma-separated TrustedProxies (addresses or CIDR prefixes)")
	verbose := flag.Bool("v", false, "log sessions, carrier changes and the router's logs on stderr")
	watchStdin := flag.Bool("exit-on-stdin-eof", false, "exit when standard input closes (the test process that started it died)")
	flag.Parse()

	if *watchStdin {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			os.Exit(3)
		}()
	}

	opts := &router.Options{
		Transports:        list(*transports),
		TrustedProxies:    list(*trusted),
		HeartbeatInterval: *hb,
		HeartbeatTimeout:  *hbTimeout,
		DisconnectDelay:   *disconnect,
		MaxStreamBytes:    *maxStream,
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if *noWebSocket {
		if opts.Transports == nil {
			opts.Transports = protocol.Carriers
		}
		var ts []string
		for _, t := range opts.Transports {
			if t != protocol.WebSocket {
				ts = append(ts, t)
			}
		}
		opts.Transports = ts
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	self := ln.Addr().String()
	echo := router.New(func(s *session.Session) { serveEcho(s, self, *verbose) }, opts)

	mux := http.NewServeMux()
	mux.Handle("/echo/", echo)
	mux.HandleFunc("/{$}", page(false))
	mux.HandleFunc("/bare", page(true))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		echo.Shutdown(sctx)
		srv.Shutdown(sctx)
	}()
	fmt.Printf("listening on http://%s\n", self)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// serveEcho runs the echo app for one session (see the package comment).
func serveEcho(s *session.Session, self string, verbose bool) {
	var mu sync.Mutex
	var numbered []int // the numbers of the "n <i>" messages, as received
	if verbose {
		log.Printf("session %s opened on %s from %s", s.ID(), s.Transport(), s.RemoteAddr())
		s.OnTransport(func(name string) { log.Printf("session %s now on %s", s.ID(), name) })
	}
	s.OnClose(func(code protocol.CloseCode, reason string) {
		if verbose {
			log.Printf("session %s closed: %d %q", s.ID(), code, reason)
		}
	})
	s.Send("Welcome")
	s.OnMessage(func(m session.Message) {
		if m.Binary {
			s.SendBinary(m.Data)
			return
		}
		text := m.Text()
		f := strings.Fields(text)
		switch {
		case len(f) >= 2 && f[0] == "close":
			code, err := strconv.Atoi(f[1])
			if err == nil {
				s.Close(protocol.CloseCode(code), strings.Join(f[2:], " "))
				return
			}
		case len(f) == 2 && f[0] == "push":
			if n, err := strconv.Atoi(f[1]); err == nil {
				for i := 1; i <= n; i++ {
					s.Send("push " + strconv.Itoa(i))
				}
				return
			}
		case len(f) == 3 && f[0] == "tick":
			n, err1 := strconv.Atoi(f[1])
			ms, err2 := strconv.Atoi(f[2])
			if err1 == nil && err2 == nil {
				go tick(s, n, time.Duration(ms)*time.Millisecond)
				return
			}
		case len(f) == 2 && f[0] == "n":
			if i, err := strconv.Atoi(f[1]); err == nil {
				mu.Lock()
				numbered = append(numbered, i)
				mu.Unlock()
			}
		case text == "check":
			mu.Lock()
			got := append([]int(nil), numbered...)
			mu.Unlock()
			s.Send(check(got))
			return
		case text == "transport":
			s.Send("transport " + s.Transport())
			return
		case text == "whoami":
			s.Send("remote " + s.RemoteAddr())
			return
		case text == "server":
			s.Send("server " + self)
			return
		}
		s.Send("new message: " + text)
	})
}

// tick sends n numbered messages, one every d, until the session ends.
func tick(s *session.Session, n int, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for i := 1; i <= n; i++ {
		select {
		case <-s.Context().Done():
			return
		case <-t.C:
		}
		if s.Send("tick "+strconv.Itoa(i)) != nil {
			return
		}
	}
}

// check tells whether got is exactly 1…len(got).
func check(got []int) string {
	for i, v := range got {
		if v != i+1 {
			return fmt.Sprint("check bad ", got)
		}
	}
	return "check ok " + strconv.Itoa(len(got))
}

// page serves the test page. bare deletes the APIs every carrier but jsonp
// needs before the client loads.
func page(bare bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		remove := ""
		if bare {
			remove = bareScript
		}
		fmt.Fprintf(w, pageHTML, remove)
	}
}

const bareScript = `<script>
  delete window.XMLHttpRequest; delete window.fetch; delete window.WebSocket; delete window.EventSource;
  window.bare = typeof XMLHttpRequest + typeof fetch + typeof WebSocket + typeof EventSource;
</script>`

// pageHTML is the test page: window.connect(options) opens a Tether on
// /echo; every event goes to window.events, every message to window.msgs
// (binary ones as "bin:<bytes, comma-separated>").
const pageHTML = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>tether e2e</title></head>
<body>
<p>tether end-to-end test page: <code>connect({transports: ["longpoll"]})</code> in the console.</p>
%s
<script src="/echo/tether.js"></script>
<script>
  window.events = [];
  window.msgs = [];
  window.connect = function (options) {
    var t = new Tether('/echo', options || {});
    window.t = t;
    ['open', 'error', 'reconnecting', 'reconnected', 'transport'].forEach(function (type) {
      t.addEventListener(type, function (e) {
        events.push({
          type: type, at: Date.now(), recovered: e.recovered, transport: e.transport,
          previous: e.previous, attempt: e.attempt, delay: e.delay, message: e.message,
          unconfirmed: e.unconfirmed ? e.unconfirmed.length : undefined
        });
      });
    });
    // close and message through the on… properties, the others through addEventListener.
    t.onclose = function (e) {
      events.push({ type: 'close', at: Date.now(), code: e.code, reason: e.reason, wasClean: e.wasClean });
    };
    t.onmessage = function (e) {
      msgs.push(typeof e.data === 'string' ? e.data : 'bin:' + Array.prototype.join.call(new Uint8Array(e.data), ','));
    };
    return true;
  };
  window.sendBytes = function (bytes) { return t.send(new Uint8Array(bytes).buffer); };
</script>
</body>
</html>
`
