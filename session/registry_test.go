package session

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

func TestOptionsDefaults(t *testing.T) {
	var nilOpts *Options
	d := nilOpts.WithDefaults()
	if d.HeartbeatInterval != DefaultHeartbeatInterval || d.HeartbeatTimeout != 2*DefaultHeartbeatInterval ||
		d.DisconnectDelay != DefaultDisconnectDelay || d.MaxMessageSize != DefaultMaxMessageSize ||
		d.MaxOutboundBytes != DefaultMaxOutboundBytes || d.MaxInboundBytes != DefaultMaxInboundBytes ||
		d.MaxBatchBytes != DefaultMaxBatchBytes || d.MaxSessions != DefaultMaxSessions || d.Logger == nil {
		t.Errorf("nil options: %+v", d)
	}
	o := &Options{HeartbeatInterval: time.Second, MaxSessions: 3}
	d = o.WithDefaults()
	if d.HeartbeatTimeout != 2*time.Second || d.MaxSessions != 3 {
		t.Errorf("partial options: %+v", d)
	}
	if o.HeartbeatTimeout != 0 {
		t.Error("WithDefaults modified its receiver")
	}
	if got := NewRegistry(o).Options().MaxSessions; got != 3 {
		t.Errorf("Registry.Options().MaxSessions = %d", got)
	}
}

func TestRequestAccessors(t *testing.T) {
	reg := newRegistry(t, nil)
	req := Request{
		Header:     http.Header{"X-A": {"1"}},
		Query:      url.Values{"q": {"v"}},
		Cookies:    []*http.Cookie{{Name: "c", Value: "cv"}},
		RemoteAddr: "192.0.2.1:1234",
		Host:       "example.com",
		Path:       "/rt",
	}
	l, err := reg.Create(req, "websocket")
	if err != nil {
		t.Fatal(err)
	}
	s := l.Session()
	if s.Header().Get("X-A") != "1" || s.Query().Get("q") != "v" || s.RemoteAddr() != "192.0.2.1:1234" ||
		s.Request().Host != "example.com" || s.Request().Path != "/rt" {
		t.Errorf("request accessors: %+v", s.Request())
	}
	if c := s.Cookie("c"); c == nil || c.Value != "cv" {
		t.Errorf("Cookie(c) = %v", c)
	}
	if c := s.Cookie("none"); c != nil {
		t.Errorf("Cookie(none) = %v", c)
	}
	if s.Transport() != "websocket" {
		t.Errorf("Transport() = %q", s.Transport())
	}
}

func TestMaxSessions(t *testing.T) {
	reg := newRegistry(t, &Options{MaxSessions: 2, DisconnectDelay: 100 * time.Millisecond})
	l1 := create(t, reg, "websocket")
	l2 := create(t, reg, "websocket")
	startFake(t, l2, "websocket", 0) // keeps l2 alive throughout
	if _, err := reg.Create(Request{}, "websocket"); !errors.Is(err, ErrTooManySessions) {
		t.Fatalf("Create past MaxSessions: %v, want ErrTooManySessions", err)
	}
	// A tombstone still counts until it is collected.
	if err := l1.Session().Close(protocol.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Create(Request{}, "websocket"); !errors.Is(err, ErrTooManySessions) {
		t.Fatalf("Create while a tombstone holds a slot: %v, want ErrTooManySessions", err)
	}
	waitFor(t, "the tombstone to be collected", func() bool { return reg.Len() == 1 })
	create(t, reg, "websocket")
	if n := reg.Len(); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
}

func TestLookupWrongToken(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	cr := recordClose(s)
	c := startFake(t, l, "websocket", 0)
	tok := l.Token()
	for _, bad := range []string{"", tok[:len(tok)-1], tok + "A", flip(tok)} {
		if got, err := reg.Lookup(s.ID(), bad); !errors.Is(err, ErrSessionLost) || got != nil {
			t.Errorf("Lookup(id, %q) = %v, %v; want ErrSessionLost", bad, got, err)
		}
	}
	if _, err := reg.Lookup("00000000-0000-4000-8000-000000000000", tok); !errors.Is(err, ErrSessionLost) {
		t.Errorf("Lookup(unknown id, token) = %v", err)
	}
	// The session is untouched: same receiver, still open, still sending.
	if err := s.Send("after"); err != nil {
		t.Fatal(err)
	}
	c.WaitCount(t, 1)
	if c.Ended() || cr.Calls() != 0 {
		t.Fatal("a wrong-token Lookup disturbed the session")
	}
	got, err := reg.Lookup(s.ID(), tok)
	if err != nil || got.Session() != s {
		t.Fatalf("Lookup with the right token = %v, %v", got, err)
	}
	if got.InAck() != 0 {
		t.Errorf("InAck = %d", got.InAck())
	}
}

// flip changes the token's first character, keeping its length.
func flip(tok string) string {
	b := []byte(tok)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIDsAndTokens(t *testing.T) {
	reg := newRegistry(t, nil)
	ids, tokens := map[string]bool{}, map[string]bool{}
	for range 200 {
		l := create(t, reg, "websocket")
		id, tok := l.Session().ID(), l.Token()
		if !uuidV4.MatchString(id) {
			t.Fatalf("id %q is not a UUID v4", id)
		}
		if len(tok) < 22 {
			t.Fatalf("token %q is %d characters, want 22 or more", tok, len(tok))
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) < 16 {
			t.Fatalf("token %q is not unpadded base64url of 128 bits or more: %v", tok, err)
		}
		if ids[id] || tokens[tok] {
			t.Fatalf("repeated id %q or token %q", id, tok)
		}
		ids[id], tokens[tok] = true, true
	}
}

func TestShutdown(t *testing.T) {
	reg := newRegistry(t, nil)
	var onCloseDone atomic.Int32
	var carriers []*fakeCarrier
	for i := range 3 {
		l := create(t, reg, "websocket")
		s := l.Session()
		if err := s.Send("before shutdown"); err != nil {
			t.Fatal(err)
		}
		s.OnClose(func(code protocol.CloseCode, _ string) {
			if code != protocol.CloseShutdown {
				t.Errorf("OnClose code = %d, want %d", code, protocol.CloseShutdown)
			}
			time.Sleep(20 * time.Millisecond) // Shutdown must wait for this
			onCloseDone.Add(1)
		})
		// Two carriers are slow to detach after the close frame.
		carriers = append(carriers, startFake(t, l, "websocket", 0, withHold(time.Duration(i)*15*time.Millisecond)))
	}
	// An idle session with no receiver at all.
	idle := create(t, reg, "longpoll")
	idleClose := recordClose(idle.Session())

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := reg.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := onCloseDone.Load(); n != 3 {
		t.Errorf("Shutdown returned before OnClose finished (%d of 3)", n)
	}
	if code, _ := idleClose.Wait(t); code != protocol.CloseShutdown {
		t.Errorf("idle session's OnClose code = %d", code)
	}
	for i, c := range carriers {
		c.mu.Lock()
		detaching, got, code := c.detaching, c.gotClose, c.code
		c.mu.Unlock()
		if !got || code != protocol.CloseShutdown {
			t.Errorf("carrier %d: close frame %v %d, want %d", i, got, code, protocol.CloseShutdown)
		}
		if !detaching {
			t.Errorf("carrier %d: Shutdown returned before it detached", i)
		}
	}
	if n := reg.Len(); n != 0 {
		t.Errorf("Len = %d after Shutdown", n)
	}
	if _, err := reg.Create(Request{}, "websocket"); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("Create after Shutdown: %v, want ErrShuttingDown", err)
	}
}

func TestShutdownContextEnds(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	r, err := l.Attach("websocket", 0) // a receiver that never takes its close frame
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := reg.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a stuck receiver: %v, want DeadlineExceeded", err)
	}
	if _, err := reg.Create(Request{}, "websocket"); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("Create after Shutdown: %v", err)
	}
	var b Batch
	if !r.Next(&b, 100) || !b.Close || b.CloseCode != protocol.CloseShutdown {
		t.Errorf("stuck receiver's batch = %+v, want the shutdown close frame", b)
	}
	r.Detach()
}

func TestShutdownContextEndsInOnClose(t *testing.T) {
	reg := newRegistry(t, nil)
	s := create(t, reg, "websocket").Session()
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	s.OnClose(func(protocol.CloseCode, string) { <-release })
	shutdownWaits(t, reg, "OnClose is stuck")
	unblock()
	// Shutdown may be called again, and completes once OnClose returned.
	ctx2, cancel2 := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel2()
	if err := reg.Shutdown(ctx2); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

// Shutdown waits for the OnClose of a session that left the registry just
// before (its disconnect delay passed): that session is not among those it
// closes and watches, only the registry's count of callback goroutines
// holds it.
func TestShutdownWaitsForOnCloseOfLostSession(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	s.OnClose(func(protocol.CloseCode, string) {
		close(entered)
		<-release
	})
	expireNow(s)
	<-entered
	if reg.Len() != 0 {
		t.Fatal("the lost session is still in the registry")
	}
	shutdownWaits(t, reg, "a lost session's OnClose runs")
}

// A closed session whose callbacks still run inline, on a deliverer's
// goroutine, is not collected at the end of its tombstone delay: Shutdown
// then still finds it and waits for the callback and the OnClose queued
// behind it.
func TestTombstoneKeptWhileInlineCallbackRuns(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	entered, release := make(chan struct{}), make(chan struct{})
	s.OnMessage(func(Message) {
		close(entered)
		<-release
	})
	closed := recordClose(s)
	delivered := deliverAsync(l, 1, []byte("hold"))
	<-entered
	s.Close(protocol.CloseNormal, "bye")
	expireNow(s) // the tombstone's delay passed
	if reg.Len() != 1 {
		t.Fatal("the tombstone was collected while its callbacks ran")
	}
	shutdownWaits(t, reg, "an inline callback runs")
	close(release)
	if err := recv(t, "the inline Deliver", delivered); err != nil {
		t.Fatal(err)
	}
	closed.Wait(t)
}

// After Shutdown collected a session, its client still hears "shutting
// down" (4202, reconnect elsewhere), not "session lost".
func TestLookupAfterShutdownSaysShuttingDown(t *testing.T) {
	r := NewRegistry(&Options{DisconnectDelay: time.Minute})
	l, err := r.Create(Request{}, "longpoll")
	if err != nil {
		t.Fatal(err)
	}
	id, token := l.Session().ID(), l.Token()
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Lookup(id, token); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("Lookup after Shutdown = %v, want ErrShuttingDown", err)
	}
	if _, err := r.Lookup("unknown", "x"); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("Lookup of an unknown id after Shutdown = %v, want ErrShuttingDown", err)
	}
}

// Shutdown waits for a callback that runs inline, on the deliverer's
// goroutine, and for the OnClose that run queues behind it.
func TestShutdownWaitsForInlineCallback(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	entered, release := make(chan struct{}), make(chan struct{})
	var returned, closedAfter atomic.Bool
	s.OnMessage(func(Message) {
		close(entered)
		<-release
		returned.Store(true)
	})
	s.OnClose(func(protocol.CloseCode, string) { closedAfter.Store(returned.Load()) })
	deliverAsync(l, 1, []byte("hold"))
	<-entered
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		done <- reg.Shutdown(ctx)
	}()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) while an inline callback ran", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if !returned.Load() || !closedAfter.Load() {
		t.Fatal("Shutdown returned before the inline callback and OnClose after it ran")
	}
}
