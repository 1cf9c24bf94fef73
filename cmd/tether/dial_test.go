package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// echoServer is a minimal longpoll-only tether/1 server with an echo app;
// "close <code> <reason>" makes the app close the session. The client
// package's tests cover the protocol; this one only drives the command.
type echoServer struct {
	mu        sync.Mutex
	in        uint64
	out       [][]byte // frame of message seq i+1
	closing   []byte
	changed   chan struct{}
	gotClose  protocol.CloseCode
	refuseMsg string
}

func newEchoServer(t *testing.T) (*echoServer, string) {
	e := &echoServer{changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo/handshake", func(w http.ResponseWriter, r *http.Request) {
		if e.refuseMsg != "" {
			http.Error(w, e.refuseMsg, http.StatusForbidden)
			return
		}
		open := protocol.AppendOpen(nil, protocol.Open{V: 1, SID: "s1", Token: "tokentokentokentokentok", Heartbeat: 200, Timeout: 400})
		w.Write(append(open, '\n'))
	})
	mux.HandleFunc("GET /echo/longpoll", e.poll)
	mux.HandleFunc("POST /echo/send", e.send)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return e, srv.URL + "/echo"
}

func (e *echoServer) poll(w http.ResponseWriter, r *http.Request) {
	ack, _ := strconv.ParseUint(r.URL.Query().Get("ack"), 10, 64)
	timer := time.NewTimer(200 * time.Millisecond)
	defer timer.Stop()
	for {
		e.mu.Lock()
		var b []byte
		for _, f := range e.out[min(ack, uint64(len(e.out))):] {
			b = append(append(b, f...), '\n')
		}
		if e.closing != nil {
			b = append(append(b, e.closing...), '\n')
		}
		ch := e.changed
		e.mu.Unlock()
		if b != nil {
			w.Write(b)
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			w.Write([]byte("h\n"))
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (e *echoServer) send(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	frames, err := protocol.DecodeBatch(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range frames {
		switch {
		case f.Type == protocol.FrameClose:
			e.gotClose = f.Code
		case f.Type != protocol.FrameText || f.Seq != e.in+1:
		case strings.HasPrefix(string(f.Data), "close "):
			e.in = f.Seq
			code, reason, _ := strings.Cut(strings.TrimPrefix(string(f.Data), "close "), " ")
			n, _ := strconv.Atoi(code)
			e.closing = protocol.AppendClose(nil, protocol.CloseCode(n), reason)
		default:
			e.in = f.Seq
			e.out = append(e.out, protocol.AppendText(nil, uint64(len(e.out)+1), f.Data))
		}
	}
	close(e.changed)
	e.changed = make(chan struct{})
	w.Write(append(protocol.AppendAck(nil, e.in), '\n'))
}

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code = run(ctx, args, stdio{strings.NewReader(stdin), &out, &errb})
	return code, out.String(), errb.String()
}

func TestDialEcho(t *testing.T) {
	e, url := newEchoServer(t)
	code, out, errs := runCmd(t, "hello\nworld\n", "dial", url, "-transport", "longpoll", "-wait", "100ms", "-H", "X-Test: 1")
	if code != 0 || out != "hello\nworld\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gotClose != protocol.CloseNormal {
		t.Errorf("server got close code %d, want 1000", e.gotClose)
	}
}

func TestDialServerCloses(t *testing.T) {
	_, url := newEchoServer(t)
	code, out, errs := runCmd(t, "hi\nclose 3001 go away\n", "dial", "-transport=longpoll", url)
	if code != 1 || out != "hi\n" || errs != "closed: 3001 go away\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestDialRefused(t *testing.T) {
	e, url := newEchoServer(t)
	e.refuseMsg = "origin not allowed"
	code, _, errs := runCmd(t, "", "dial", url, "-transport", "longpoll", "-origin", "http://evil.example")
	if code != 1 || errs != "handshake refused: 403 origin not allowed\n" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"dial"},
		{"dial", "http://a/echo", "http://b/echo"},
		{"dial", "ftp://a/echo"},
		{"dial", "http://a/echo", "-H", "no colon"},
		{"dial", "http://a/echo", "-transport", "pigeon"},
	} {
		if code, _, errs := runCmd(t, "", args...); code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
}
