package session

import (
	"context"
	"sync"
	"testing"
)

// echoApp makes s answer each message with the same text.
func echoApp(t *testing.T, s *Session) {
	s.OnMessage(func(m Message) {
		if err := s.Send(m.Text()); err != nil {
			t.Errorf("Send: %v", err)
		}
	})
}

// carried returns the payloads and numbers of what b holds.
func carried(b *Batch) (texts []string, seqs []uint64) {
	for _, m := range b.Msgs {
		texts = append(texts, string(m.Data))
		seqs = append(seqs, m.Seq)
	}
	return texts, seqs
}

// carryRig is a longpoll session with a receiver attached whose
// wake-ups are counted in *woken, as a parked poll's would be answered.
func carryRig(t *testing.T) (l *Link, rcv *Receiver, woken *int) {
	r := newRegistry(t, nil)
	l = create(t, r, "longpoll")
	rcv = attached(t, l, "longpoll", 0)
	woken = new(int)
	rcv.OnWake(func() { *woken++ }, nil)
	return l, rcv, woken
}

// A reply sent from OnMessage while a carrying send is handled goes on the
// send's answer: the held poll is not woken for it and never hands it out.
func TestCarryTakesTheReply(t *testing.T) {
	l, rcv, woken := carryRig(t)
	rcv.AcksOnData()
	echoApp(t, l.Session())
	var idle Batch
	rcv.Next(&idle, 1000) // the attach's own signal, as a poll that found nothing
	ready := rcv.Ready()

	l.HoldWakes()
	if ok, err := l.Deliver(context.Background(), 0, 1, false, []byte("ping")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if *woken != 0 || len(ready) != 0 {
		t.Fatalf("the reply woke the receiver (callback %d, channel %d) before the send answer took it", woken, len(ready))
	}
	var b Batch
	if !l.Carry(&b, 1000) {
		t.Fatal("Carry took nothing; want the reply")
	}
	if texts, seqs := carried(&b); len(texts) != 1 || texts[0] != "ping" || seqs[0] != 1 {
		t.Fatalf("carried %q %v, want the reply as message 1", texts, seqs)
	}
	l.ReleaseWakes(true)
	if *woken != 0 || len(ready) != 0 {
		t.Fatal("the receiver was woken for a reply the send answer carries")
	}
	if rcv.Next(&idle, 1000) {
		t.Fatalf("the poll hands out %+v after the send answer carried it", idle)
	}
	// Once over, a reply wakes the receiver again.
	if ok, err := l.Deliver(context.Background(), 0, 2, false, []byte("pong")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if *woken != 1 {
		t.Fatalf("a reply outside a carrying send woke the receiver %d times, want once", *woken)
	}
}

// What the answer leaves (over the byte bound) wakes the receiver once
// the answer is released; a send whose client left takes nothing, and its
// replies go to the receiver.
func TestCarryWakesForTheRest(t *testing.T) {
	l, rcv, woken := carryRig(t)
	s := l.Session()
	s.OnMessage(func(m Message) {
		s.Send("first")
		s.Send("second")
	})

	l.HoldWakes()
	l.Deliver(context.Background(), 0, 1, false, []byte("x"))
	var b Batch
	if !l.Carry(&b, 1) {
		t.Fatal("Carry took nothing")
	}
	if texts, _ := carried(&b); len(texts) != 1 || texts[0] != "first" || !b.More {
		t.Fatalf("carried %q (More %v), want the first reply alone, with More", texts, b.More)
	}
	if *woken != 0 {
		t.Fatal("the receiver was woken for the reply left over before the answer was released")
	}
	l.ReleaseWakes(true)
	if *woken != 1 {
		t.Fatalf("the receiver was woken %d times for the reply left over, want once", *woken)
	}
	var next Batch
	if !rcv.Next(&next, 1000) || len(next.Msgs) != 1 || string(next.Msgs[0].Data) != "second" {
		t.Fatalf("the receiver took %+v, want the second reply alone", next)
	}

	// A client that left: its replies go to the receiver.
	l.HoldWakes()
	l.Deliver(context.Background(), 2, 2, false, []byte("y"))
	if *woken != 1 {
		t.Fatal("a reply woke the receiver while the send was handled")
	}
	l.ReleaseWakes(false)
	if *woken != 2 {
		t.Fatalf("ReleaseWakes woke the receiver %d times in all, want 2", *woken)
	}
}

// While the receiver has handed out messages the client has not
// acknowledged, the answer carries nothing (they may arrive after it),
// and the receiver is woken for the reply as usual.
func TestCarryNothingPastAnUnackedPoll(t *testing.T) {
	l, rcv, woken := carryRig(t)
	s := l.Session()
	if err := s.Send("news"); err != nil {
		t.Fatal(err)
	}
	var b Batch
	if !rcv.Next(&b, 1000) || len(b.Msgs) != 1 {
		t.Fatalf("the poll took %+v, want the news", b)
	}
	echoApp(t, s)
	*woken = 0 // the news's

	l.HoldWakes()
	l.Deliver(context.Background(), 0, 1, false, []byte("ping")) // no ack of message 1
	if l.Carry(&b, 1000) {
		texts, _ := carried(&b)
		t.Fatalf("carried %q while message 1 was handed out and not acknowledged", texts)
	}
	l.ReleaseWakes(false)
	if *woken != 1 {
		t.Fatalf("the receiver was woken %d times for the reply, want once", *woken)
	}
	if !rcv.Next(&b, 1000) || len(b.Msgs) != 1 || b.Msgs[0].Seq != 2 {
		t.Fatalf("the poll took %+v, want the reply, message 2", b)
	}

	// Acknowledged in the send itself: the answer carries from the ack on.
	l.HoldWakes()
	l.Deliver(context.Background(), 2, 2, false, []byte("again"))
	if !l.Carry(&b, 1000) {
		t.Fatal("Carry took nothing once every message handed out was acknowledged")
	}
	if texts, seqs := carried(&b); len(texts) != 1 || texts[0] != "again" || seqs[0] != 3 {
		t.Fatalf("carried %q %v, want message 3", texts, seqs)
	}
	l.ReleaseWakes(true)
}

// With no receiver attached (between polls) the answer carries every
// message after the send's ack: what the client has not acknowledged it
// may lack, and numbers let it drop what it has.
func TestCarryWithoutReceiver(t *testing.T) {
	r := newRegistry(t, nil)
	l := create(t, r, "polling")
	s := l.Session()
	s.Send("one")
	s.Send("two")
	echoApp(t, s)
	l.HoldWakes()
	l.Deliver(context.Background(), 1, 1, false, []byte("three"))
	var b Batch
	if !l.Carry(&b, 1000) {
		t.Fatal("Carry took nothing")
	}
	if texts, seqs := carried(&b); len(texts) != 2 || texts[0] != "two" || seqs[0] != 2 || texts[1] != "three" || seqs[1] != 3 {
		t.Fatalf("carried %q %v, want two and three (2, 3)", texts, seqs)
	}
	l.ReleaseWakes(true)
	// A poll that attaches with the client's ack goes on from there.
	rcv := attached(t, l, "polling", 3)
	if rcv.Next(&b, 1000) && len(b.Msgs) > 0 {
		t.Fatalf("the poll handed out %+v after the client acknowledged everything", b)
	}
}

// While a send is handled, sends from outside the app's callbacks (another
// goroutine of the app) wake the receiver as always; once its answer
// carries messages, every send waits for the answer to be released, so
// that no poll answer overtakes it.
func TestCarryHoldsEverySendOnceCarried(t *testing.T) {
	l, rcv, woken := carryRig(t)
	echoApp(t, l.Session())
	l.HoldWakes()
	if err := l.Session().Send("push"); err != nil {
		t.Fatal(err)
	}
	if *woken != 1 {
		t.Fatalf("a send outside callbacks woke the receiver %d times, want once", *woken)
	}
	var b Batch
	if !rcv.Next(&b, 1000) {
		t.Fatal("the poll took nothing")
	}
	l.Deliver(context.Background(), 1, 1, false, []byte("ping"))
	if !l.Carry(&b, 1000) || len(b.Msgs) != 1 || b.Msgs[0].Seq != 2 {
		t.Fatalf("carried %+v, want the reply, message 2", b)
	}
	if err := l.Session().Send("later"); err != nil {
		t.Fatal(err)
	}
	if *woken != 1 {
		t.Fatal("a send after the answer carried messages woke the receiver before the answer was released")
	}
	l.ReleaseWakes(true)
	if *woken != 2 {
		t.Fatalf("ReleaseWakes woke the receiver %d times in all, want 2", *woken)
	}
	if !rcv.Next(&b, 1000) || len(b.Msgs) != 1 || b.Msgs[0].Seq != 3 {
		t.Fatalf("the poll took %+v, want message 3", b)
	}
	l.HoldWakes() // nothing carried: nothing owed
	l.ReleaseWakes(false)
	if *woken != 2 {
		t.Fatal("ReleaseWakes woke the receiver for nothing owed")
	}
}

// A wake-up given before an answer carried messages (an app goroutine's
// Send, whose poll has not run yet) must not let the poll hand out what
// came after them before the answer is released: it would overtake the
// answer, and the client would see a gap.
func TestCarryStaleWakeDoesNotOvertake(t *testing.T) {
	l, rcv, woken := carryRig(t)
	rcv.AcksOnData()
	s := l.Session()
	echoApp(t, s)
	var idle Batch
	rcv.Next(&idle, 1000)
	ready := rcv.Ready()
	s.Send("push") // wakes the poll, which has not looked yet
	if *woken != 1 || len(ready) != 1 {
		t.Fatalf("the push woke the receiver %d times, channel %d; want once", *woken, len(ready))
	}
	l.HoldWakes()
	l.Deliver(context.Background(), 0, 1, false, []byte("ping"))
	var b Batch
	if !l.Carry(&b, 1000) || len(b.Msgs) != 2 {
		t.Fatalf("carried %+v, want the push and the reply", b)
	}
	s.Send("later") // message 3
	<-ready         // the poll looks now, on the old signal
	var p Batch
	if rcv.Next(&p, 1000) {
		_, seqs := carried(&p)
		t.Fatalf("before the carrying answer was released, the poll handed out %v", seqs)
	}
	l.ReleaseWakes(true)
	if *woken != 2 {
		t.Fatalf("the release woke the receiver %d times in all, want 2", *woken)
	}
	if !rcv.Next(&p, 1000) || len(p.Msgs) != 1 || p.Msgs[0].Seq != 3 {
		t.Fatalf("the poll took %+v after the release, want message 3", p)
	}
}

// Two sends handled at once (a client retried one whose handler still
// runs) each hold until their own release: the first's release does not
// end the second's.
func TestCarryOverlappingSends(t *testing.T) {
	l, rcv, woken := carryRig(t)
	rcv.AcksOnData()
	echoApp(t, l.Session())
	var idle Batch
	rcv.Next(&idle, 1000)
	l.HoldWakes() // the first
	l.HoldWakes() // the second
	l.Deliver(context.Background(), 0, 1, false, []byte("ping"))
	var b Batch
	if !l.Carry(&b, 1000) { // the second's answer carries the reply
		t.Fatal("Carry took nothing")
	}
	l.ReleaseWakes(false) // the first ends
	l.Session().Send("later")
	if *woken != 0 {
		t.Fatal("a Send woke the receiver while the second answer, which carries messages, was not released")
	}
	l.ReleaseWakes(true)
	if *woken != 1 {
		t.Fatalf("the second release woke the receiver %d times, want once", *woken)
	}
}

// A carrying send whose callback runs on (a slow query after a progress
// report) holds back neither what it sent nor what other goroutines send
// for long: the late watch hands them to the receiver while the callback
// still runs.
func TestCarryLongCallbackReleases(t *testing.T) {
	l, rcv, woken := carryRig(t)
	rcv.AcksOnData()
	var idle Batch
	rcv.Next(&idle, 1000)
	s := l.Session()
	var mu sync.Mutex
	wokenNow := func() int { mu.Lock(); defer mu.Unlock(); return *woken }
	rcv.OnWake(func() { mu.Lock(); *woken++; mu.Unlock() }, nil)
	block := make(chan struct{})
	s.OnMessage(func(Message) {
		s.Send("working on it")
		<-block
		s.Send("done")
	})
	l.HoldWakes()
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Deliver(context.Background(), 0, 1, false, []byte("slow"))
	}()
	waitFor(t, "the progress report reaching the receiver while the callback runs", func() bool { return wokenNow() == 1 })
	if err := s.Send("from another goroutine"); err != nil {
		t.Fatal(err)
	}
	if n := wokenNow(); n != 2 {
		t.Fatalf("a Send after the hold ran late woke the receiver %d times in all, want 2", n)
	}
	close(block)
	<-done
	var b Batch
	if !rcv.Next(&b, 1000) || len(b.Msgs) != 3 {
		t.Fatalf("the poll took %+v, want the three messages", b)
	}
	l.ReleaseWakes(l.Carry(&b, 1000))
}

// A wake-up owed while another send's answer was on its way is not left
// until a second send, whose callback runs long, is released: the late
// watch hands it on while that callback still runs.
func TestCarryOwedWhileAnswering(t *testing.T) {
	l, rcv, woken := carryRig(t)
	rcv.AcksOnData()
	s := l.Session()
	var mu sync.Mutex
	wokenNow := func() int { mu.Lock(); defer mu.Unlock(); return *woken }
	rcv.OnWake(func() { mu.Lock(); *woken++; mu.Unlock() }, nil)
	var idle Batch
	rcv.Next(&idle, 1000)
	s.Send("news") // wakes the poll, which has not looked yet
	started, goOn, sent, block := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	s.OnMessage(func(Message) {
		close(started)
		<-goOn
		s.Send("working on it")
		close(sent)
		<-block // a slow query
	})
	l.HoldWakes() // send B
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Deliver(context.Background(), 0, 1, false, []byte("slow"))
	}()
	<-started
	l.HoldWakes() // send A, which carries the news
	var a Batch
	if !l.Carry(&a, 1000) {
		t.Fatal("A carried nothing")
	}
	close(goOn)
	<-sent // owed while A's answer is on its way
	l.ReleaseWakes(true)
	waitFor(t, "the progress report reaching the receiver while B's callback runs", func() bool { return wokenNow() == 2 })
	close(block)
	<-done
	var b Batch
	l.ReleaseWakes(l.Carry(&b, 1000))
}

// A poll that found nothing because a carrying answer was on its way is
// told of the answer's release through Ready, whether the release comes
// before or after it asks, and whether or not anything is left to take:
// it takes the rest at once, or answers empty at once, instead of
// waiting for a wake-up that a complete answer would never give.
func TestHeldBackPollHearsTheRelease(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replies  int  // messages the app sends; the answer carries the first (bound 4 bytes)
		askFirst bool // Ready asked for before the release
	}{
		{"rest left, release first", 2, false},
		{"rest left, Ready first", 2, true},
		{"nothing left, release first", 1, false},
		{"nothing left, Ready first", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRegistry(t, nil)
			l := create(t, r, "polling")
			s := l.Session()
			s.OnMessage(func(Message) {
				for range tc.replies {
					s.Send("abc")
				}
			})
			l.HoldWakes()
			if ok, err := l.Deliver(context.Background(), 0, 1, false, []byte("go")); !ok || err != nil {
				t.Fatalf("Deliver = %v, %v", ok, err)
			}
			l.AckAnswer() // the send answer's a1
			var carriedB Batch
			if !l.Carry(&carriedB, 4) || carriedB.More != (tc.replies > 1) {
				t.Fatalf("carried %+v", carriedB)
			}
			rcv := attached(t, l, "polling", 1)
			rcv.AcksOnData() // as a polling answer does
			var b Batch
			if rcv.Next(&b, 4) || !rcv.HeldBack() {
				t.Fatalf("Next took %+v or was not held back while the answer was on its way", b)
			}
			var ready <-chan struct{}
			if tc.askFirst {
				ready = rcv.Ready()
			}
			l.ReleaseWakes(true)
			if !rcv.HeldBack() {
				t.Fatal("HeldBack forgot the look that was held back")
			}
			if ready == nil {
				ready = rcv.Ready()
			}
			select {
			case <-ready:
			default:
				t.Fatal("the release did not signal Ready")
			}
			took := rcv.Next(&b, 4)
			if want := tc.replies > 1; took != want || took && (len(b.Msgs) != 1 || b.Msgs[0].Seq != 2) {
				t.Fatalf("after the release Next took %v %+v, want message 2: %v", took, b.Msgs, want)
			}
			if rcv.HeldBack() {
				t.Fatal("HeldBack after a look that was not held back")
			}
		})
	}
}
