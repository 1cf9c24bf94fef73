package session

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/tether-rt/tether/protocol"
)

// syncBuffer is a log sink the test reads while callbacks write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An OnMessage that panics, whether it runs inline on the caller's
// goroutine or queued on the session's own, closes that session with
// CloseInternalError: the panic is logged with its stack, OnClose runs,
// what the callback sent before panicking is still delivered, later
// messages are refused, Shutdown does not wait for the dead callback, and
// another session of the registry is untouched.
func TestCallbackPanicClosesSession(t *testing.T) {
	for _, inline := range []bool{true, false} {
		name := "queued"
		if inline {
			name = "inline"
		}
		t.Run(name, func(t *testing.T) {
			var logs syncBuffer
			r := newRegistry(t, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			l := create(t, r, "websocket")
			s := l.Session()
			closed := recordClose(s)
			s.OnMessage(func(m Message) {
				s.Send("before the panic")
				if m.Text() == "boom" {
					panic("app bug")
				}
			})
			other := create(t, r, "websocket")
			echoed := recordMessages(other.Session())

			ctx := context.Background()
			var hold chan struct{}
			if !inline {
				// Queued behind an OnTransport that the session's own
				// goroutine runs, "boom" runs there after it.
				hold = make(chan struct{})
				s.OnTransport(func(string) { <-hold })
				rcv, err := l.Attach("longpoll", 0)
				if err != nil {
					t.Fatal(err)
				}
				rcv.Detach()
			}
			if ok, err := l.Deliver(ctx, 0, 1, false, []byte("boom")); !ok || err != nil {
				t.Fatalf("Deliver = %v, %v", ok, err)
			}
			if hold != nil {
				close(hold)
			}
			code, reason := closed.Wait(t)
			if code != protocol.CloseInternalError || reason != "internal error" {
				t.Fatalf("OnClose(%d, %q); want %d internal error", code, reason, protocol.CloseInternalError)
			}
			if log := logs.String(); !strings.Contains(log, "app bug") || !strings.Contains(log, "panic_test.go") {
				t.Fatalf("the panic and its stack were not logged:\n%s", log)
			}
			// What was sent before the panic is kept for the client, then
			// the close frame.
			f := startFake(t, l, "websocket", 0)
			if msgs := f.WaitCount(t, 1); string(msgs[0].Data) != "before the panic" {
				t.Fatalf("first message %q", msgs[0].Data)
			}
			if c, _ := f.WaitClose(t); c != protocol.CloseInternalError {
				t.Fatalf("close frame %d", c)
			}
			if _, err := l.Deliver(ctx, 0, 2, false, []byte("after")); err == nil {
				t.Fatal("a message after the panic was accepted")
			}
			if closed.Calls() != 1 {
				t.Fatalf("OnClose ran %d times", closed.Calls())
			}
			if ok, err := other.Deliver(ctx, 0, 1, false, []byte("still here")); !ok || err != nil {
				t.Fatalf("the other session: %v, %v", ok, err)
			}
			if got := echoed.WaitLen(t, 1); got[0] != "still here" {
				t.Fatalf("the other session got %q", got)
			}
			// newRegistry's cleanup shuts the registry down and fails the
			// test if Shutdown waits for the panicked callback.
		})
	}
}

// A panic in OnClose is logged and goes no further.
func TestOnClosePanicIsContained(t *testing.T) {
	var logs syncBuffer
	r := newRegistry(t, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	l := create(t, r, "websocket")
	s := l.Session()
	s.OnClose(func(protocol.CloseCode, string) { panic("close bug") })
	if err := s.Close(protocol.CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the logged panic", func() bool { return strings.Contains(logs.String(), "close bug") })
	if c, _, closed := l.Closed(); !closed || c != protocol.CloseNormal {
		t.Fatalf("Closed() = %d, %v; want the app's own close kept", c, closed)
	}
}
