package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// The tests of this file cover how a Conn ends, or avoids ending: lost
// sessions, server closes, silent servers and servers gone for good.

// cutCarrier makes the Conn's carrier fail, so that it resumes.
func cutCarrier(f *fake, tr string) {
	if tr == protocol.WebSocket {
		f.dropWebSockets()
	} else {
		f.cutPolls(1)
	}
}

func TestSessionLost(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t, nil)
		c := dial(t, f, Options{Transport: tr})
		send(t, c, "one")
		recv(t, c)
		f.forget()
		cutCarrier(f, tr)
		err := recvEnd(t, c)
		if CloseStatus(err) != protocol.CloseSessionLost {
			t.Fatalf("Recv: %v, want a CloseError 4200", err)
		}
		if err := c.Send(context.Background(), "two"); CloseStatus(err) != protocol.CloseSessionLost {
			t.Errorf("Send after the end: %v", err)
		}
		// The Conn stopped by itself: no Close needed.
		noConnGoroutines(t)
	})
}

func TestServerClose(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t, nil)
		c := dial(t, f, Options{Transport: tr})
		send(t, c, "last words")
		send(t, c, "close 3001 app says bye")
		if m := recv(t, c); string(m.Data) != "last words" {
			t.Fatalf("got %q", m.Data)
		}
		var ce *CloseError
		if err := recvEnd(t, c); !errors.As(err, &ce) || ce.Code != 3001 || ce.Reason != "app says bye" {
			t.Fatalf("Recv: %v, want CloseError 3001", err)
		}
	})
}

func TestGiveUp(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t, nil)
		c := dial(t, f, Options{Transport: tr, MaxAttempts: 2, ReconnectDelay: 10 * time.Millisecond})
		f.close()
		err := recvEnd(t, c)
		if err == nil || CloseStatus(err) != -1 || !strings.Contains(err.Error(), "gave up") {
			t.Fatalf("Recv: %v, want a give-up error", err)
		}
	})
}

// TestDeadPeer mutes the server: with nothing received for the dead-peer
// timeout (2 heartbeats here), the Conn must give up on the carrier and
// resume on a new one, without being told.
func TestDeadPeer(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t, nil)
		c := dial(t, f, Options{Transport: tr, ReconnectDelay: 10 * time.Millisecond})
		f.mu.Lock()
		f.mute = true
		f.mu.Unlock()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			f.mu.Lock()
			opens := f.opens
			f.mu.Unlock()
			if opens >= 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no resume after the server went silent")
			}
		}
		f.mu.Lock()
		f.mute = false
		f.mu.Unlock()
		send(t, c, "still there?")
		if m := recv(t, c); string(m.Data) != "still there?" {
			t.Fatalf("got %q", m.Data)
		}
	})
}
