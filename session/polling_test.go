package session

import (
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// Polls attach and detach over and over; the timer is not reset for each
// (armLocked leaves a running one alone), yet the session lives as long as
// the cycles go on, and is lost one disconnect delay after they stop.
func TestPollCyclesKeepSessionAlive(t *testing.T) {
	const delay = 100 * time.Millisecond
	reg := newRegistry(t, &Options{DisconnectDelay: delay})
	l := create(t, reg, "longpoll")
	s := l.Session()
	cr := recordClose(s)
	start := time.Now()
	for time.Since(start) < 4*delay {
		r, err := l.Attach("longpoll", 0)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
		r.Detach()
		l.Touch() // a send between polls
	}
	if cr.Calls() != 0 {
		t.Fatal("the session closed although a poll came within every delay")
	}
	if code, _ := cr.Wait(t); code != protocol.CloseSessionLost {
		t.Errorf("OnClose code = %d after the polls stopped", code)
	}
	waitLost(t, reg, l)
}

// A receiver attached when the timer fires holds the session; the timer
// stops, and the receiver's detach starts the delay again.
func TestTimerFiresWhileAttached(t *testing.T) {
	const delay = 30 * time.Millisecond
	reg := newRegistry(t, &Options{DisconnectDelay: delay})
	l := create(t, reg, "longpoll")
	cr := recordClose(l.Session())
	r, err := l.Attach("longpoll", 0) // the timer keeps running
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * delay) // a negative: nothing may happen meanwhile
	if cr.Calls() != 0 {
		t.Fatal("the session closed while a receiver was attached")
	}
	r.Detach()
	if code, _ := cr.Wait(t); code != protocol.CloseSessionLost {
		t.Errorf("OnClose code = %d after the detach", code)
	}
}

// A send request that runs the app's callback inline counts as client
// activity: a callback longer than the disconnect delay does not lose the
// session under it.
func TestInlineCallbackKeepsSessionAlive(t *testing.T) {
	const delay = 30 * time.Millisecond
	reg := newRegistry(t, &Options{DisconnectDelay: delay})
	l := create(t, reg, "longpoll")
	s := l.Session()
	var closedDuring bool
	s.OnMessage(func(Message) {
		time.Sleep(4 * delay)
		_, _, closedDuring = l.Closed()
	})
	l.Touch()
	if ok, err := l.Deliver(t.Context(), 0, 1, false, []byte("slow")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if closedDuring {
		t.Fatal("the session was lost while an inline callback ran")
	}
}

// A refused attach calls the attached receiver's probe, each time, and
// does not disturb a receiver that set none.
func TestRefusalProbes(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	r := attached(t, l, "websocket", 0)
	refuse := func() {
		t.Helper()
		if _, err := l.Attach("longpoll", 0); err != ErrReceiverBusy {
			t.Fatalf("second Attach: %v, want ErrReceiverBusy", err)
		}
	}
	refuse() // no probe set
	probed := make(chan struct{}, 2)
	r.OnWake(nil, func() { probed <- struct{}{} })
	refuse()
	recv(t, "the first refusal's probe", probed)
	refuse()
	recv(t, "the second refusal's probe", probed)
}

// A receiver with AcksOnData hands the ack out only with data, is not
// woken for an ack alone, and an ack it left out stays due for the next
// receiver's data.
func TestAcksOnData(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "longpoll")
	s := l.Session()
	r, err := l.Attach("longpoll", 0)
	if err != nil {
		t.Fatal(err)
	}
	r.AcksOnData()
	ready := r.Ready()
	<-ready // Attach's own signal
	if ok, err := l.Deliver(t.Context(), 0, 1, false, []byte("x")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if len(ready) != 0 {
		t.Error("woken for an ack alone")
	}
	var b Batch
	if r.Next(&b, 1000) {
		t.Fatalf("batch %+v, want nothing: an ack alone", b)
	}
	r.Detach()
	if r, err = l.Attach("longpoll", 0); err != nil {
		t.Fatal(err)
	}
	defer r.Detach()
	r.AcksOnData()
	if err := s.Send("data"); err != nil {
		t.Fatal(err)
	}
	if !r.Next(&b, 1000) || b.Ack != 1 || len(b.Msgs) != 1 {
		t.Fatalf("batch %+v, want Ack 1 riding on the message", b)
	}
}

// TakeAck hands out a due ack whatever AcksOnData says (a poll's heartbeat
// answer tells it), once: it is then told, and rides on no later batch.
func TestTakeAck(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "longpoll")
	s := l.Session()
	r := attached(t, l, "longpoll", 0)
	r.AcksOnData()
	var b Batch
	if r.TakeAck(&b); b.Ack != 0 {
		t.Fatalf("ack %d with nothing received", b.Ack)
	}
	if ok, err := l.Deliver(t.Context(), 0, 1, false, []byte("x")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if r.Next(&b, 1000) {
		t.Fatalf("batch %+v, want nothing: an ack alone", b)
	}
	if r.TakeAck(&b); b.Ack != 1 {
		t.Fatalf("TakeAck gave ack %d, want 1", b.Ack)
	}
	b = Batch{}
	if r.TakeAck(&b); b.Ack != 0 {
		t.Fatalf("a second TakeAck gave ack %d, want none", b.Ack)
	}
	if err := s.Send("data"); err != nil {
		t.Fatal(err)
	}
	if !r.Next(&b, 1000) || b.Ack != 0 || len(b.Msgs) != 1 {
		t.Fatalf("batch %+v, want the message without the ack told already", b)
	}
}

// A poll that looked (Next) before it first asked for Ready finds no
// stale signal in it, and a signal that comes after the look.
func TestReadyAfterNextHasNoStaleSignal(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "longpoll")
	r := attached(t, l, "longpoll", 0)
	var b Batch
	if r.Next(&b, 1000) {
		t.Fatalf("batch %+v, want nothing", b)
	}
	ready := r.Ready()
	if len(ready) != 0 {
		t.Fatal("Ready signalled for what Next already looked at")
	}
	if err := l.Session().Send("x"); err != nil {
		t.Fatal(err)
	}
	if len(ready) != 1 {
		t.Fatal("a Send after the look did not signal Ready")
	}
}
