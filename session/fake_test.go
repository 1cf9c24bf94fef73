package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// This file holds the test doubles: a fake carrier that drives a Receiver
// the way every real carrier does (wait on Ready, take batches with Next,
// ack, detach), and small helpers. Like database/sql's fakedb, it lets the
// tests exercise the session layer without HTTP or frames.

// waitTimeout bounds every polling wait, so a broken session fails a test
// instead of hanging it.
const waitTimeout = 5 * time.Second

// waitFor polls cond until it holds, failing the test after waitTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recv waits for a value on ch, failing the test after waitTimeout.
func recv[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// newRegistry returns a registry with quiet logging, shut down when the
// test ends (after the test's own cleanups, which detach its carriers).
func newRegistry(t testing.TB, o *Options) *Registry {
	t.Helper()
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := NewRegistry(&opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("cleanup Shutdown: %v", err)
		}
	})
	return r
}

func create(t testing.TB, r *Registry, transport string) *Link {
	t.Helper()
	l, err := r.Create(Request{}, transport)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return l
}

// attached attaches a receiver named name to l, acknowledging ack, for
// the rest of the test.
func attached(t testing.TB, l *Link, name string, ack uint64) *Receiver {
	t.Helper()
	rcv, err := l.Attach(name, ack)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	t.Cleanup(rcv.Detach)
	return rcv
}

// fakeCarrier is a receiving carrier in memory. Everything it takes is
// recorded in order; Cut ends it as a dropped connection would.
type fakeCarrier struct {
	link    *Link
	rcv     *Receiver
	max     int
	autoAck bool          // ack each batch's last message, as a client would
	hold    time.Duration // wait this long after the close frame before detaching
	dropAt  int           // when > 0, detach once this many messages were taken

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	mu        sync.Mutex
	batches   []Batch // deep copies
	msgs      []Outgoing
	acks      []uint64 // piggybacked acks, in order
	gotClose  bool
	code      protocol.CloseCode
	reason    string
	detaching bool // set just before Detach after a close frame
}

type fakeOpt func(*fakeCarrier)

func withAutoAck(c *fakeCarrier)       { c.autoAck = true }
func withHold(d time.Duration) fakeOpt { return func(c *fakeCarrier) { c.hold = d } }

// withDropAt makes the carrier drop (detach, no close frame) as soon as it
// has taken n messages or more, as a connection lost mid-stream would.
func withDropAt(n int) fakeOpt { return func(c *fakeCarrier) { c.dropAt = n } }

func startFake(t testing.TB, l *Link, name string, ack uint64, opts ...fakeOpt) *fakeCarrier {
	t.Helper()
	c, err := tryFake(t, l, name, ack, opts...)
	if err != nil {
		t.Fatalf("Attach(%q, %d): %v", name, ack, err)
	}
	return c
}

// tryFake attaches a fake carrier; the attach error is returned as is.
func tryFake(t testing.TB, l *Link, name string, ack uint64, opts ...fakeOpt) (*fakeCarrier, error) {
	t.Helper()
	r, err := l.Attach(name, ack)
	if err != nil {
		return nil, err
	}
	c := &fakeCarrier{
		link: l,
		rcv:  r,
		max:  l.s.reg.opts.MaxBatchBytes,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	go c.run()
	t.Cleanup(func() { c.Cut(t) })
	return c, nil
}

func (c *fakeCarrier) run() {
	defer close(c.done)
	defer c.rcv.Detach()
	var b Batch
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		select {
		case <-c.stop:
			return
		case <-c.rcv.Ready():
		}
		for c.rcv.Next(&b, c.max) {
			c.record(&b)
			if c.autoAck && len(b.Msgs) > 0 {
				c.link.Ack(b.Msgs[len(b.Msgs)-1].Seq)
			}
			if c.dropAt > 0 && c.Count() >= c.dropAt {
				return
			}
			if b.Close {
				if c.hold > 0 {
					time.Sleep(c.hold)
				}
				c.mu.Lock()
				c.detaching = true
				c.mu.Unlock()
				return
			}
		}
	}
}

func (c *fakeCarrier) record(b *Batch) {
	cp := *b
	cp.Msgs = append([]Outgoing(nil), b.Msgs...)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, cp)
	c.msgs = append(c.msgs, cp.Msgs...)
	if b.Ack != 0 {
		c.acks = append(c.acks, b.Ack)
	}
	if b.Close {
		c.gotClose, c.code, c.reason = true, b.CloseCode, b.Reason
	}
}

// Cut ends the carrier without a close frame (a dropped connection) and
// waits until it detached. It is idempotent.
func (c *fakeCarrier) Cut(t testing.TB) {
	t.Helper()
	c.stopOnce.Do(func() { close(c.stop) })
	recv(t, "fake carrier to end", c.done)
}

// Ended reports whether the carrier's goroutine returned (and detached).
func (c *fakeCarrier) Ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *fakeCarrier) Msgs() []Outgoing {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Outgoing(nil), c.msgs...)
}

func (c *fakeCarrier) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

func (c *fakeCarrier) Batches() []Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Batch(nil), c.batches...)
}

func (c *fakeCarrier) Acks() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint64(nil), c.acks...)
}

// CloseFrame returns the close frame the carrier took, if any.
func (c *fakeCarrier) CloseFrame() (protocol.CloseCode, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason, c.gotClose
}

func (c *fakeCarrier) WaitCount(t testing.TB, n int) []Outgoing {
	t.Helper()
	waitFor(t, "carrier messages", func() bool { return c.Count() >= n })
	return c.Msgs()
}

func (c *fakeCarrier) WaitClose(t testing.TB) (protocol.CloseCode, string) {
	t.Helper()
	waitFor(t, "close frame on the carrier", func() bool { _, _, ok := c.CloseFrame(); return ok })
	code, reason, _ := c.CloseFrame()
	return code, reason
}

// closeRecorder is an OnClose that remembers its calls.
type closeRecorder struct {
	mu     sync.Mutex
	calls  int
	code   protocol.CloseCode
	reason string
	ch     chan struct{} // closed at the first call
}

func recordClose(s *Session) *closeRecorder {
	cr := &closeRecorder{ch: make(chan struct{})}
	s.OnClose(func(code protocol.CloseCode, reason string) {
		cr.mu.Lock()
		defer cr.mu.Unlock()
		cr.calls++
		if cr.calls == 1 {
			cr.code, cr.reason = code, reason
			close(cr.ch)
		}
	})
	return cr
}

// Wait waits for OnClose and returns what it was told.
func (cr *closeRecorder) Wait(t testing.TB) (protocol.CloseCode, string) {
	t.Helper()
	recv(t, "OnClose", cr.ch)
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.code, cr.reason
}

func (cr *closeRecorder) Calls() int {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.calls
}

// msgRecorder is an OnMessage that remembers the texts it was given.
type msgRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func recordMessages(s *Session) *msgRecorder {
	mr := &msgRecorder{}
	s.OnMessage(func(m Message) {
		mr.mu.Lock()
		mr.msgs = append(mr.msgs, m.Text())
		mr.mu.Unlock()
	})
	return mr
}

func (mr *msgRecorder) Got() []string {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	return append([]string(nil), mr.msgs...)
}

func (mr *msgRecorder) WaitLen(t testing.TB, n int) []string {
	t.Helper()
	waitFor(t, "OnMessage calls", func() bool { return len(mr.Got()) >= n })
	return mr.Got()
}

// deliverAsync delivers message seq on a goroutine of its own, as another
// carrier would, so that a callback it runs inline and holds blocks that
// goroutine, not the test's. The channel gives Deliver's error once it
// returned, or one saying the message was not new.
func deliverAsync(l *Link, seq uint64, data []byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		ok, err := l.Deliver(context.Background(), 0, seq, false, data)
		if err == nil && !ok {
			err = fmt.Errorf("message %d was not new", seq)
		}
		done <- err
	}()
	return done
}

// shutdownWaits checks that Shutdown, given a moment, is still waiting
// when the moment ends: for what, which is still running.
func shutdownWaits(t *testing.T, reg *Registry, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := reg.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown while %s: %v, want DeadlineExceeded", what, err)
	}
}
