package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scriptServer is a TCP server on loopback that runs serve on each
// connection it accepts, and counts them.
type scriptServer struct {
	ln       net.Listener
	accepted atomic.Int64
	wg       sync.WaitGroup
}

func newScriptServer(t *testing.T, serve func(i int, c net.Conn)) *scriptServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptServer{ln: ln}
	var conns []net.Conn
	var mu sync.Mutex
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			i := int(s.accepted.Add(1)) - 1
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				serve(i, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// env returns an env aimed at the server (one source address).
func (s *scriptServer) env(t *testing.T) *env {
	t.Helper()
	e, err := newEnv(Config{Target: "http://" + s.ln.Addr().String() + "/", Sources: 1, Timeout: 5 * time.Second, Dials: 4, Conns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

// answerEach reads requests with net/http's parser and answers each with
// answer(request index on this connection), until answer says stop.
func answerEach(answer func(i int, r *http.Request) (resp string, stop bool)) func(int, net.Conn) {
	return func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for i := 0; ; i++ {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, r.Body)
			resp, stop := answer(i, r)
			if _, err := io.WriteString(c, resp); err != nil || stop {
				return
			}
		}
	}
}

const okAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// The request head is what net/http's server parser reads: method,
// target, Host, the driver's header lines, and a Content-Length for a
// body or a POST.
func TestHTTPRequestIsValidHTTP(t *testing.T) {
	type seen struct {
		method, uri, host, token string
		length                   int64
		hasLength                bool
		body                     string
	}
	got := make(chan seen, 3)
	srv := newScriptServer(t, func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(r.Body)
			_, has := r.Header["Content-Length"]
			got <- seen{r.Method, r.RequestURI, r.Host, r.Header.Get("X-Tether-Token"), r.ContentLength, has, string(b)}
			io.WriteString(c, okAnswer)
		}
	})
	h := srv.env(t).newHConn()
	ctx := context.Background()
	for _, tc := range []struct {
		method, target string
		body           []byte
		want           seen
	}{
		{"POST", "/echo/send?sid=a%2Bb", []byte("m1:\"x\"\n"), seen{"POST", "/echo/send?sid=a%2Bb", "", "tok", 7, true, "m1:\"x\"\n"}},
		{"GET", "/echo/longpoll?sid=a&ack=3", nil, seen{"GET", "/echo/longpoll?sid=a&ack=3", "", "tok", 0, false, ""}},
		{"POST", "/x/xhr", nil, seen{"POST", "/x/xhr", "", "tok", 0, true, ""}},
	} {
		status, body, err := h.do(ctx, tc.method, []byte(tc.target), []byte("X-Tether-Token: tok\r\n"), tc.body)
		if err != nil || status != 200 || string(body) != "ok" {
			t.Fatalf("%s %s: %d %q %v", tc.method, tc.target, status, body, err)
		}
		s := <-got
		tc.want.host = srv.ln.Addr().String()
		if s != tc.want {
			t.Errorf("server saw %+v, want %+v", s, tc.want)
		}
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("%d connections for three requests, want one kept alive", n)
	}
}

func TestHTTPConnectionCloseDialsAgain(t *testing.T) {
	srv := newScriptServer(t, answerEach(func(int, *http.Request) (string, bool) {
		return "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", true
	}))
	h := srv.env(t).newHConn()
	for i := range 3 {
		if status, body, err := h.do(context.Background(), "GET", []byte("/"), nil, nil); err != nil || status != 200 || string(body) != "ok" {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
	}
	if n := srv.accepted.Load(); n != 3 {
		t.Errorf("%d connections, want 3 (each answer said close)", n)
	}
}

// A connection that fails in the middle of an answer, or a new connection
// that fails at once, is an error: nothing is sent twice.
func TestHTTPBrokenAnswerIsAnError(t *testing.T) {
	srv := newScriptServer(t, answerEach(func(i int, _ *http.Request) (string, bool) {
		return "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true
	}))
	h := srv.env(t).newHConn()
	if _, _, err := h.do(context.Background(), "GET", []byte("/"), nil, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut answer: %v", err)
	}
	srv2 := newScriptServer(t, func(int, net.Conn) {}) // closes at once
	h2 := srv2.env(t).newHConn()
	if _, _, err := h2.do(context.Background(), "GET", []byte("/"), nil, nil); err == nil {
		t.Fatal("no answer at all was not an error")
	}
	if n := srv2.accepted.Load(); n != 1 {
		t.Errorf("a request that got nothing on a new connection was sent %d times", n)
	}
}

func TestHTTPContextEndsRequest(t *testing.T) {
	hold := make(chan struct{})
	srv := newScriptServer(t, func(_ int, c net.Conn) {
		http.ReadRequest(bufio.NewReader(c))
		<-hold // a parked poll that never answers
	})
	defer close(hold)
	e := srv.env(t)

	// A context per request.
	h := e.newHConn()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := h.do(ctx, "GET", []byte("/"), nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("per-request deadline: %v", err)
	}

	// A slot bound to a session's context.
	sess, end := context.WithCancel(context.Background())
	s := e.slot(sess)
	time.AfterFunc(50*time.Millisecond, end)
	if _, _, err := s.do(sess, "GET", []byte("/"), nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("bound context: %v", err)
	}
	before := srv.accepted.Load()
	if _, _, err := s.do(sess, "GET", []byte("/"), nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("after the session ended: %v", err)
	}
	if srv.accepted.Load() != before {
		t.Fatal("a slot dialled again after its session ended")
	}
}

// Connections between sessions' requests are pooled: a handshake's
// connection serves the session's first slot.
func TestHTTPPool(t *testing.T) {
	srv := newScriptServer(t, answerEach(func(int, *http.Request) (string, bool) { return okAnswer, false }))
	e := srv.env(t)
	ctx := context.Background()
	status, body, err := e.oneShot(ctx, "POST", []byte("/handshake"), nil, []byte("{}"))
	if err != nil || status != 200 || string(body) != "ok" {
		t.Fatalf("one-shot: %d %q %v", status, body, err)
	}
	sess, end := context.WithCancel(ctx)
	s := e.slot(sess)
	if _, _, err := s.do(sess, "GET", []byte("/poll"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Fatalf("%d connections, want the handshake's reused", n)
	}
	e.release(s) // back to the pool, whole
	end()
	s2 := e.slot(context.Background())
	if _, _, err := s2.do(ctx, "GET", []byte("/poll"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Fatalf("%d connections after a release, want 1", n)
	}
	// A slot whose session ended is not pooled.
	sess3, end3 := context.WithCancel(ctx)
	s3 := e.slot(sess3)
	end3()
	e.release(s3)
	if len(e.idle) != 0 {
		t.Fatal("a slot ended by its context went back to the pool")
	}
}

// A kept-alive round trip costs no allocation: the client must not load
// the machine it measures on with garbage.
func TestHTTPRoundTripDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	srv := newScriptServer(t, func(_ int, c net.Conn) {
		buf := make([]byte, 4096)
		have := 0
		for {
			n, err := c.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			if bytes.HasSuffix(buf[:have], []byte("\r\n\r\n")) {
				have = 0
				if _, err := c.Write(answer); err != nil {
					return
				}
			}
		}
	})
	sess, end := context.WithCancel(context.Background())
	defer end()
	h := srv.env(t).slot(sess)
	target, hdr := []byte("/echo/longpoll?sid=x&ack=1"), []byte("X-Tether-Token: t\r\n")
	do := func() {
		if status, body, err := h.do(sess, "GET", target, hdr, nil); err != nil || status != 200 || string(body) != "hello" {
			t.Fatalf("%d %q %v", status, body, err)
		}
	}
	do() // connect, size the buffers
	if n := testing.AllocsPerRun(200, do); n != 0 {
		t.Errorf("%.1f allocations per round trip, want 0", n)
	}
}

func TestHostPort(t *testing.T) {
	for target, want := range map[string]string{
		"http://127.0.0.1:8080/echo": "127.0.0.1:8080", "http://localhost/x": "localhost:80",
		"https://example.test/": "example.test:443", "ws://[::1]:9/": "[::1]:9", "wss://[::1]/": "[::1]:443",
	} {
		e, err := newEnv(Config{Target: target, Sources: 1, Dials: 1, Conns: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.hostPort(); got != want {
			t.Errorf("%s: %s, want %s", target, got, want)
		}
	}
}

// The WebSocket drivers' connections read and write with raw system
// calls: what a net.Conn does still holds (deadlines, as set and as
// cleared, whichever way they were set; the peer's close as io.EOF).
func TestRawConnBehavesAsAConn(t *testing.T) {
	got := make(chan string, 1)
	srv := newScriptServer(t, func(_ int, c net.Conn) {
		b, _ := io.ReadAll(io.LimitReader(c, 3))
		got <- string(b)
		c.Write([]byte("bye"))
	})
	c0, err := net.Dial("tcp", srv.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := withRawIO(c0)
	defer c.Close()
	past := time.Now().Add(-time.Second)
	for i, step := range []struct {
		set  func() error
		fail bool
	}{
		{func() error { return c.SetWriteDeadline(past) }, true},
		{func() error { return c.SetWriteDeadline(past) }, true}, // the same again
		{func() error { return c.SetWriteDeadline(time.Time{}) }, false},
		{func() error { return c.SetDeadline(past) }, true},
		{func() error { return c.SetWriteDeadline(time.Time{}) }, false},
		{func() error { return c.SetDeadline(time.Time{}) }, false},
	} {
		if err := step.set(); err != nil {
			t.Fatal(err)
		}
		_, err := c.Write([]byte("x"))
		if failed := errors.Is(err, os.ErrDeadlineExceeded); failed != step.fail || (!step.fail && err != nil) {
			t.Fatalf("step %d: write error %v, want a deadline error: %v", i, err, step.fail)
		}
	}
	if s := <-got; s != "xxx" {
		t.Fatalf("server read %q", s)
	}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "bye" {
		t.Fatalf("read to the end: %q %v", b, err)
	}
}

// A request's own context callback that fires late (the request was over)
// costs at most a new connection, never a later request.
func TestHTTPLateContextCallback(t *testing.T) {
	srv := newScriptServer(t, answerEach(func(int, *http.Request) (string, bool) { return okAnswer, false }))
	h := srv.env(t).newHConn()
	get := func() {
		t.Helper()
		if status, _, err := h.do(context.Background(), "GET", []byte("/"), nil, nil); err != nil || status != 200 {
			t.Fatalf("%d %v", status, err)
		}
	}
	get()
	h.abortCall(h.call) // between calls: closes the idle connection
	get()
	if n := srv.accepted.Load(); n != 2 {
		t.Fatalf("%d connections, want a new one after the late callback", n)
	}
	h.abortCall(1) // a callback of a call long over
	get()
	if n := srv.accepted.Load(); n != 2 {
		t.Fatalf("%d connections, want the kept-alive one", n)
	}
}

// -no-raw-io leaves connections as net.Conn made them; otherwise, on
// Linux, reads and writes are raw system calls.
func TestNoRawIO(t *testing.T) {
	srv := newScriptServer(t, answerEach(func(int, *http.Request) (string, bool) { return okAnswer, false }))
	for _, off := range []bool{false, true} {
		e := srv.env(t)
		e.cfg.NoRawIO = off
		c, err := e.dialRaw(context.Background(), "tcp", srv.ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, plain := c.(*net.TCPConn)
		c.Close()
		h := e.newHConn()
		if _, _, err := h.do(context.Background(), "GET", []byte("/"), nil, nil); err != nil {
			t.Fatal(err)
		}
		_, plainHTTP := h.c.(*net.TCPConn)
		if want := off || runtime.GOOS != "linux"; plain != want || plainHTTP != want {
			t.Errorf("-no-raw-io %v: WebSocket connection plain %v, HTTP plain %v, want %v", off, plain, plainHTTP, want)
		}
	}
}

// An https target gets TLS, its name checked against the certificate.
func TestHTTPOverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure "+r.URL.Path)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()
	e, err := newEnv(Config{Target: srv.URL + "/", Sources: 1, Timeout: 5 * time.Second, Dials: 1, Conns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	if _, _, err := e.oneShot(context.Background(), "GET", []byte("/x"), nil, nil); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
	e.tlsConf = &tls.Config{RootCAs: roots}
	for range 2 {
		status, body, err := e.oneShot(context.Background(), "GET", []byte("/x"), nil, nil)
		if err != nil || status != 200 || string(body) != "secure /x" {
			t.Fatalf("%d %q %v", status, body, err)
		}
	}
	// TLS runs over the same raw I/O as plain connections (on Linux).
	h := e.getIdle()
	defer h.close()
	tc, ok := h.c.(*tls.Conn)
	if !ok {
		t.Fatalf("pooled connection %T, want *tls.Conn", h.c)
	}
	if _, plain := tc.NetConn().(*net.TCPConn); plain != (runtime.GOOS != "linux") {
		t.Errorf("TLS over %T", tc.NetConn())
	}
}
