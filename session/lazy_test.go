package session

import (
	"errors"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// TestContextMadeOnDemand: a session has no context until one is asked
// for; asked before the close it is cancelled by the close, asked after
// it is already cancelled.
func TestContextMadeOnDemand(t *testing.T) {
	reg := newRegistry(t, &Options{DisconnectDelay: time.Hour})
	a, b := create(t, reg, "longpoll").Session(), create(t, reg, "longpoll").Session()
	a.mu.Lock()
	made := a.ctx != nil
	a.mu.Unlock()
	if made {
		t.Fatal("a new session made a context nobody asked for")
	}
	ctx := a.Context()
	if ctx != a.Context() || ctx.Err() != nil {
		t.Fatal("Context changed between calls, or is cancelled while open")
	}
	a.Close(protocol.CloseNormal, "")
	b.Close(protocol.CloseNormal, "")
	if ctx.Err() == nil {
		t.Fatal("the close did not cancel the context asked for before it")
	}
	if b.Context().Err() == nil {
		t.Fatal("a context asked for after the close is not cancelled")
	}
}

// TestExpiryIsOneQueue: sessions wait out their disconnect delay in the
// registry's queue, not on timers of their own: armed while no receiver
// is attached, stopped while one is, and gone once collected.
func TestExpiryIsOneQueue(t *testing.T) {
	reg := newRegistry(t, &Options{DisconnectDelay: time.Hour})
	l := create(t, reg, "longpoll")
	s := l.Session()
	if reg.expiry.Deadline(&s.exp).IsZero() {
		t.Fatal("a new session is not waiting out its delay")
	}
	rcv, err := l.Attach("longpoll", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reg.expiry.Deadline(&s.exp).IsZero() {
		t.Fatal("a session with a receiver is still waiting out its delay")
	}
	rcv.Detach()
	if reg.expiry.Deadline(&s.exp).IsZero() {
		t.Fatal("a detached session is not waiting out its delay")
	}
	expireNow(s)
	if _, err := reg.Lookup(s.ID(), l.Token()); !errors.Is(err, ErrSessionLost) {
		t.Fatalf("an expired session still answers: %v", err)
	}
	if !reg.expiry.Deadline(&s.exp).IsZero() {
		t.Fatal("a collected session is still queued")
	}
}
