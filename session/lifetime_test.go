package session

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// waitLost waits until the registry no longer answers for the session.
func waitLost(t *testing.T, reg *Registry, l *Link) {
	t.Helper()
	waitFor(t, "the session to leave the registry", func() bool {
		_, err := reg.Lookup(l.Session().ID(), l.Token())
		return errors.Is(err, ErrSessionLost)
	})
}

func TestDisconnectDelayWithoutReceiver(t *testing.T) {
	reg := newRegistry(t, &Options{DisconnectDelay: 50 * time.Millisecond})
	l := create(t, reg, "websocket")
	s := l.Session()
	cr := recordClose(s)
	if _, err := reg.Lookup(s.ID(), l.Token()); err != nil {
		t.Fatalf("Lookup of a new session: %v", err)
	}
	code, _ := cr.Wait(t)
	if code != protocol.CloseSessionLost {
		t.Errorf("OnClose code = %d, want %d", code, protocol.CloseSessionLost)
	}
	if s.Context().Err() == nil {
		t.Error("Context not cancelled")
	}
	waitLost(t, reg, l)
	if n := reg.Len(); n != 0 {
		t.Errorf("Len = %d, want 0", n)
	}
	fc, _, closed := l.Closed()
	if !closed || fc != protocol.CloseSessionLost {
		t.Errorf("Closed() = %d, %v; want %d", fc, closed, protocol.CloseSessionLost)
	}
	var ce *CloseError
	if err := s.Send("x"); !errors.As(err, &ce) || ce.Code != protocol.CloseSessionLost {
		t.Errorf("Send on a lost session: %v", err)
	}
}

func TestReceiverKeepsSessionAlive(t *testing.T) {
	const delay = 50 * time.Millisecond
	reg := newRegistry(t, &Options{DisconnectDelay: delay})
	l := create(t, reg, "websocket")
	s := l.Session()
	cr := recordClose(s)
	c := startFake(t, l, "websocket", 0)
	time.Sleep(3 * delay) // a negative: nothing may happen meanwhile
	if cr.Calls() != 0 {
		t.Fatal("the session closed while a receiver was attached")
	}
	if _, err := reg.Lookup(s.ID(), l.Token()); err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if err := s.Send("still here"); err != nil {
		t.Fatal(err)
	}
	c.WaitCount(t, 1)
	c.Cut(t) // the delay starts again from here
	if code, _ := cr.Wait(t); code != protocol.CloseSessionLost {
		t.Errorf("OnClose code = %d, want %d", code, protocol.CloseSessionLost)
	}
	waitLost(t, reg, l)
}

func TestTouchRestartsDelay(t *testing.T) {
	const delay = 100 * time.Millisecond
	reg := newRegistry(t, &Options{DisconnectDelay: delay})
	l := create(t, reg, "polling")
	s := l.Session()
	cr := recordClose(s)

	deadline := func() time.Time { return reg.expiry.Deadline(&s.exp) }
	before := deadline()
	time.Sleep(2 * time.Millisecond)
	l.Touch()
	if after := deadline(); !after.After(before) {
		t.Fatalf("Touch did not move the deadline: %v then %v", before, after)
	}

	// A client that keeps sending between polls keeps its session for
	// several delays.
	start := time.Now()
	for time.Since(start) < 3*delay {
		l.Touch()
		time.Sleep(5 * time.Millisecond)
	}
	if cr.Calls() != 0 {
		t.Fatal("the session closed although it was touched within every delay")
	}
	if _, err := reg.Lookup(s.ID(), l.Token()); err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if code, _ := cr.Wait(t); code != protocol.CloseSessionLost {
		t.Errorf("OnClose code = %d after the touches stopped", code)
	}
	waitLost(t, reg, l)

	// Touching a closed session does not revive it.
	l.Touch()
	if _, err := reg.Lookup(s.ID(), l.Token()); !errors.Is(err, ErrSessionLost) {
		t.Errorf("Lookup after a Touch on a collected session: %v", err)
	}
}

func TestTombstoneReplaysThenCloses(t *testing.T) {
	const delay = 150 * time.Millisecond
	reg := newRegistry(t, &Options{DisconnectDelay: delay, MaxBatchBytes: 30})
	l := create(t, reg, "websocket")
	s := l.Session()
	cr := recordClose(s)
	c1 := startFake(t, l, "websocket", 0)
	for i := 1; i <= 5; i++ {
		if err := s.Send(payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	c1.WaitCount(t, 5)
	l.Ack(2)  // the client's ack that reached the server
	c1.Cut(t) // messages 3..5 may not have reached the client
	for i := 6; i <= 7; i++ {
		if err := s.Send(payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	reason := strings.Repeat("r", 200) // longer than a close frame holds
	if err := s.Close(3001, reason); err != nil {
		t.Fatal(err)
	}
	if code, got := cr.Wait(t); code != 3001 || got != reason {
		t.Errorf("OnClose(%d, %q), want 3001 and the full reason", code, got)
	}

	// Within the delay, the client resumes: it got up to 3.
	l2, err := reg.Lookup(s.ID(), l.Token())
	if err != nil {
		t.Fatalf("Lookup of a tombstone within the delay: %v", err)
	}
	c2 := startFake(t, l2, "longpoll", 3, withAutoAck)
	code, frameReason := c2.WaitClose(t)
	checkInOrder(t, c2.Msgs(), 4, 4)
	if code != 3001 || frameReason != protocol.TruncateReason(reason) {
		t.Errorf("close frame %d %q, want 3001 and the truncated reason", code, frameReason)
	}
	if len(frameReason) > protocol.MaxReasonBytes {
		t.Errorf("close frame reason is %d bytes", len(frameReason))
	}
	batches := c2.Batches()
	for _, b := range batches[:len(batches)-1] {
		if b.Close {
			t.Error("a close frame came before the last batch")
		}
	}
	if !batches[len(batches)-1].Close {
		t.Error("the last batch has no close frame")
	}
	waitFor(t, "the carrier to detach after the close frame", c2.Ended)

	// Later requests in the delay get the same close frame and nothing else.
	c3 := startFake(t, l2, "polling", 0)
	if code, _ := c3.WaitClose(t); code != 3001 {
		t.Errorf("later receiver's close frame = %d, want 3001", code)
	}
	if got := c3.Msgs(); len(got) != 0 {
		t.Errorf("a receiver after everything was acked got %d messages", len(got))
	}
	if fc, fr, closed := l2.Closed(); !closed || fc != 3001 || fr != protocol.TruncateReason(reason) {
		t.Errorf("Closed() = %d %q %v", fc, fr, closed)
	}

	// After the delay the tombstone is collected.
	waitLost(t, reg, l)
	if n := reg.Len(); n != 0 {
		t.Errorf("Len = %d after collection", n)
	}
	if cr.Calls() != 1 {
		t.Errorf("OnClose ran %d times", cr.Calls())
	}
}

func TestCloseWhileAttached(t *testing.T) {
	reg := newRegistry(t, &Options{MaxBatchBytes: 10})
	l := create(t, reg, "websocket")
	s := l.Session()
	for i := 1; i <= 20; i++ {
		if err := s.Send(payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(protocol.CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	c := startFake(t, l, "websocket", 0)
	code, reason := c.WaitClose(t)
	checkInOrder(t, c.Msgs(), 1, 20)
	if code != protocol.CloseNormal || reason != "bye" {
		t.Errorf("close frame %d %q", code, reason)
	}
}

func TestClosedSessionErrors(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	cr := recordClose(s)
	select {
	case <-s.Context().Done():
		t.Fatal("Context done before Close")
	default:
	}
	if err := s.Close(3100, "first"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	recv(t, "Context to be cancelled", s.Context().Done())
	var ce *CloseError
	if err := s.Close(protocol.CloseNormal, "second"); !errors.As(err, &ce) || ce.Code != 3100 || ce.Reason != "first" {
		t.Errorf("Close on a closed session: %v, want CloseError 3100 first", err)
	}
	if err := s.Send("x"); !errors.As(err, &ce) || ce.Code != 3100 {
		t.Errorf("Send after close: %v", err)
	}
	if err := s.SendBinary([]byte("x")); !errors.As(err, &ce) || ce.Code != 3100 {
		t.Errorf("SendBinary after close: %v", err)
	}
	if ok, err := l.Deliver(t.Context(), 0, 1, false, []byte("x")); ok || !errors.As(err, &ce) {
		t.Errorf("Deliver after close: %v, %v", ok, err)
	}
	if code, reason := cr.Wait(t); code != 3100 || reason != "first" {
		t.Errorf("OnClose(%d, %q)", code, reason)
	}
	if msg := (&CloseError{Code: 3100, Reason: "first"}).Error(); !strings.Contains(msg, "3100") {
		t.Errorf("CloseError.Error() = %q", msg)
	}

	// A code outside 1000-4999 becomes a normal close.
	s2 := create(t, reg, "websocket").Session()
	cr2 := recordClose(s2)
	if err := s2.Close(42, "odd"); err != nil {
		t.Fatal(err)
	}
	if code, _ := cr2.Wait(t); code != protocol.CloseNormal {
		t.Errorf("Close(42) told OnClose %d, want %d", code, protocol.CloseNormal)
	}
}

func TestPeerClose(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	cr := recordClose(s)
	if err := s.Send("unsent"); err != nil {
		t.Fatal(err)
	}
	l.PeerClose(3005, "client bye")
	if code, reason := cr.Wait(t); code != 3005 || reason != "client bye" {
		t.Errorf("OnClose(%d, %q), want the client's 3005 client bye", code, reason)
	}
	c := startFake(t, l, "websocket", 0)
	if code, _ := c.WaitClose(t); code != protocol.CloseNormal {
		t.Errorf("close frame after a client close = %d, want %d", code, protocol.CloseNormal)
	}
	if got := c.Msgs(); len(got) != 0 {
		t.Errorf("a client that closed was sent %d messages", len(got))
	}
	if fc, _, closed := l.Closed(); !closed || fc != protocol.CloseNormal {
		t.Errorf("Closed() = %d %v", fc, closed)
	}
	if s.Context().Err() == nil {
		t.Error("Context not cancelled")
	}
}

func TestFailDropsLog(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	cr := recordClose(s)
	for i := 1; i <= 3; i++ {
		if err := s.Send(payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Fail(protocol.CloseMessageTooBig, "message too big")
	if code, _ := cr.Wait(t); code != protocol.CloseMessageTooBig {
		t.Errorf("OnClose code = %d", code)
	}
	c := startFake(t, l, "websocket", 0)
	if code, reason := c.WaitClose(t); code != protocol.CloseMessageTooBig || reason != "message too big" {
		t.Errorf("close frame %d %q", code, reason)
	}
	if got := c.Msgs(); len(got) != 0 {
		t.Errorf("after Fail the receiver was replayed %d messages", len(got))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.bytes != 0 || len(s.out.items) != 0 {
		t.Errorf("log keeps %d bytes after Fail", s.out.bytes)
	}
}
