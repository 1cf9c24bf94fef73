package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

func dial(t *testing.T, f *fake, o Options) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, f.url, &o)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close(protocol.CloseNormal, "") })
	return c
}

func recv(t *testing.T, c *Conn) Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.Recv(ctx)
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	return m
}

func send(t *testing.T, c *Conn, text string) {
	t.Helper()
	if err := c.Send(context.Background(), text); err != nil {
		t.Fatalf("Send(%q): %v", text, err)
	}
}

// recvEnd waits for the error that ends c's messages.
func recvEnd(t *testing.T, c *Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			return err
		}
		t.Logf("message before the end: %d %q", m.Seq, m.Data)
	}
}

// testWriter sends a Conn's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func forEachTransport(t *testing.T, fn func(t *testing.T, transport string)) {
	for _, tr := range Transports() {
		t.Run(tr, func(t *testing.T) { fn(t, tr) })
	}
}

func TestEcho(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t, nil)
		c := dial(t, f, Options{Transport: tr})
		if c.ID() == "" || c.Transport() != tr {
			t.Fatalf("ID %q, Transport %q", c.ID(), c.Transport())
		}
		send(t, c, "hello")
		send(t, c, "two\nlines, \"quoted\" \u2028")
		if err := c.SendBinary(context.Background(), []byte{0, 1, 2, 255}); err != nil {
			t.Fatal(err)
		}
		if err := c.Send(context.Background(), strings.Repeat("x", 64<<10+1)); err != ErrMessageTooBig {
			t.Fatalf("oversized Send: %v, want ErrMessageTooBig", err)
		}
		want := []Message{
			{Seq: 1, Data: []byte("hello")},
			{Seq: 2, Data: []byte("two\nlines, \"quoted\" \u2028")},
			{Seq: 3, Binary: true, Data: []byte{0, 1, 2, 255}},
		}
		for _, w := range want {
			if m := recv(t, c); m.Seq != w.Seq || m.Binary != w.Binary || string(m.Data) != string(w.Data) {
				t.Fatalf("got %+v, want %+v", m, w)
			}
		}
		if err := c.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(protocol.CloseNormal, "bye"); err != nil {
			t.Fatalf("Close: %v", err)
		}
		// Close waits for them; the retry only covers the instant between
		// a goroutine's last statement and its exit.
		noConnGoroutines(t)
		// The frame is out; the server reads it a moment later.
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			f.mu.Lock()
			closedBy := f.closedBy
			f.mu.Unlock()
			if closedBy == protocol.CloseNormal {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("server saw close code %d, want 1000", closedBy)
			}
		}
		if err := c.Send(context.Background(), "late"); err != ErrClosed {
			t.Errorf("Send after Close: %v", err)
		}
		if _, err := c.Recv(context.Background()); err != ErrClosed {
			t.Errorf("Recv after Close: %v", err)
		}
	})
}

// TestResume cuts the carrier twice (a receive, then a send before the
// server applied it) while the server replays more than asked: every
// message must still arrive once, in order, both ways.
func TestResume(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t, func(f *fake) { f.sloppy = true })
		log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c := dial(t, f, Options{Transport: tr, ReconnectDelay: 10 * time.Millisecond, Logger: log})
		id := c.ID()
		check := func(from, to int) {
			t.Helper()
			for i := from; i <= to; i++ {
				if m := recv(t, c); m.Seq != uint64(i) || string(m.Data) != fmt.Sprint("msg ", i) {
					t.Fatalf("got %d %q, want %d %q", m.Seq, m.Data, i, fmt.Sprint("msg ", i))
				}
			}
		}
		for i := 1; i <= 10; i++ {
			send(t, c, fmt.Sprint("msg ", i))
		}
		check(1, 10)

		if tr == protocol.WebSocket {
			f.dropWebSockets()
		} else {
			f.cutPolls(1)
		}
		f.mu.Lock()
		f.cutSend = 1 // every carrier but websocket sends by POST
		f.mu.Unlock()
		for i := 11; i <= 20; i++ {
			send(t, c, fmt.Sprint("msg ", i))
		}
		check(11, 20)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if m, err := c.Recv(ctx); err == nil {
			t.Fatalf("extra message %d %q", m.Seq, m.Data)
		}
		if c.ID() != id {
			t.Errorf("ID changed from %s to %s", id, c.ID())
		}
		f.mu.Lock()
		in, opens := f.sessions[id].in, f.opens
		f.mu.Unlock()
		if in != 20 {
			t.Errorf("server accepted %d messages, want 20", in)
		}
		if opens < 2 {
			t.Errorf("%d handshakes: the cut did not make the client resume", opens)
		}
	})
}

func TestHandshakeRefused(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		for _, tc := range []struct {
			status int
			reason string
		}{
			{http.StatusForbidden, "origin not allowed"},
			{http.StatusUnauthorized, "bad credentials"},
			{http.StatusServiceUnavailable, "too many sessions"},
		} {
			f := newFake(t, func(f *fake) {
				f.refuse = func(*http.Request) (int, string) { return tc.status, tc.reason }
			})
			_, err := Dial(context.Background(), f.url, &Options{Transport: tr})
			var he *HandshakeError
			if !errors.As(err, &he) || he.Status != tc.status || he.Reason != tc.reason || he.Code != 0 {
				t.Errorf("Dial: %v, want HandshakeError %d %q", err, tc.status, tc.reason)
			}
		}
	})
}

func TestUnknownTransport(t *testing.T) {
	_, err := Dial(context.Background(), "http://127.0.0.1:1/echo", &Options{Transport: "pigeon"})
	if err == nil || !strings.Contains(err.Error(), "pigeon") {
		t.Errorf("Dial with pigeon: %v", err)
	}
}
