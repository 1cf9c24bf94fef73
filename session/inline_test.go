package session

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// Deliver runs OnMessage before it returns when no callback is running,
// and queues behind a running one otherwise: order and serialization hold
// either way.
func TestDeliverRunsInline(t *testing.T) {
	r := newRegistry(t, nil)
	l := create(t, r, "websocket")
	ctx := context.Background()

	var mu sync.Mutex
	var got []string
	release := make(chan struct{})
	entered := make(chan struct{})
	l.Session().OnMessage(func(m Message) {
		if m.Text() == "slow" {
			close(entered)
			<-release
		}
		mu.Lock()
		got = append(got, m.Text())
		mu.Unlock()
	})
	snapshot := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}

	// Idle: the callback has run when Deliver returns.
	if ok, err := l.Deliver(ctx, 0, 1, false, []byte("one")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if g := snapshot(); !slices.Equal(g, []string{"one"}) {
		t.Fatalf("after an idle Deliver, OnMessage saw %q; want it run inline", g)
	}

	// Busy: a callback runs on another deliverer's goroutine (another
	// send request); a delivery must queue behind it, not overtake it nor
	// run beside it, and that goroutine runs it too before it returns.
	slow := deliverAsync(l, 2, []byte("slow"))
	<-entered
	if ok, err := l.Deliver(ctx, 0, 3, false, []byte("three")); !ok || err != nil {
		t.Fatalf("Deliver while busy = %v, %v", ok, err)
	}
	if g := snapshot(); !slices.Equal(g, []string{"one"}) {
		t.Fatalf("Deliver ran beside a running callback: %q", g)
	}
	close(release)
	if err := recv(t, "the slow Deliver", slow); err != nil {
		t.Fatal(err)
	}
	if g := snapshot(); !slices.Equal(g, []string{"one", "slow", "three"}) {
		t.Fatalf("order %q", g)
	}
	// A duplicate is dropped inline too.
	if ok, _ := l.Deliver(ctx, 0, 3, false, []byte("three")); ok {
		t.Fatal("a duplicate was delivered")
	}
}

// A delivery to an idle session allocates nothing of its own: the message
// goes straight to OnMessage, not through the queue.
func TestDeliverDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	r := newRegistry(t, nil)
	l := create(t, r, "websocket")
	n := 0
	l.Session().OnMessage(func(Message) { n++ })
	ctx := context.Background()
	data := []byte("T1779999999123456789.xxxxxxxx")
	seq := uint64(0)
	allocs := testing.AllocsPerRun(100, func() {
		seq++
		if ok, err := l.Deliver(ctx, 0, seq, false, data); !ok || err != nil {
			t.Fatal(ok, err)
		}
	})
	if allocs != 0 || n != 101 {
		t.Fatalf("Deliver allocates %.1f times (%d callbacks), want 0", allocs, n)
	}
}

// Send logs the text without copying it: an echo's reply costs the
// session no allocation once the log has room.
func TestSendDoesNotCopy(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	r := newRegistry(t, nil)
	l := create(t, r, "websocket")
	s := l.Session()
	text := "T1779999999123456789.xxxxxxxx"
	seq := uint64(0)
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.Send(text); err != nil {
			t.Fatal(err)
		}
		seq++
		l.Ack(seq)
	})
	if allocs != 0 {
		t.Fatalf("Send allocates %.1f times, want 0", allocs)
	}
}

// Deliver records the ack, then delivers: the acknowledged replies leave
// the log, the message runs inline; and on a closed session the ack still
// counts while the message is refused.
func TestDeliverRecordsAck(t *testing.T) {
	r := newRegistry(t, nil)
	l := create(t, r, "websocket")
	s := l.Session()
	var got []string
	s.OnMessage(func(m Message) {
		got = append(got, m.Text())
		s.Send("re " + m.Text())
	})
	ctx := context.Background()
	if ok, err := l.Deliver(ctx, 0, 1, false, []byte("one")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if ok, err := l.Deliver(ctx, 1, 2, false, []byte("two")); !ok || err != nil {
		t.Fatalf("Deliver with an ack = %v, %v", ok, err)
	}
	if !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("callbacks saw %q", got)
	}
	s.mu.Lock()
	acked, left := s.out.acked, len(s.out.items)-s.out.head
	s.mu.Unlock()
	if acked != 1 || left != 1 {
		t.Fatalf("after the ack: acked %d, %d messages left; want 1, 1", acked, left)
	}
	s.Close(4000, "done")
	if _, err := l.Deliver(ctx, 2, 3, false, []byte("three")); err == nil {
		t.Fatal("a message to a closed session was accepted")
	}
	s.mu.Lock()
	acked = s.out.acked
	s.mu.Unlock()
	if acked != 2 {
		t.Fatalf("the ack to a closed session: acked %d, want 2", acked)
	}
	if len(got) != 2 {
		t.Fatalf("callbacks saw %q", got)
	}
}

// DeliverNext numbers each message as the next one: deliveries from
// several goroutines at once are all taken, each once, and Deliver of
// number 0 (which would mean "the next") is dropped.
func TestDeliverNext(t *testing.T) {
	r := newRegistry(t, nil)
	l := create(t, r, "websocket")
	var mu sync.Mutex
	seen := map[string]int{}
	l.Session().OnMessage(func(m Message) {
		mu.Lock()
		seen[m.Text()]++
		mu.Unlock()
	})
	ctx := context.Background()
	if ok, _ := l.Deliver(ctx, 0, 0, false, []byte("zero")); ok {
		t.Fatal("message number 0 was taken")
	}
	const senders, each = 4, 100
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := l.DeliverNext(ctx, false, fmt.Appendf(nil, "%d.%d", g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, "every message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == senders*each
	})
	mu.Lock()
	defer mu.Unlock()
	for m, n := range seen {
		if n != 1 {
			t.Fatalf("%s delivered %d times", m, n)
		}
	}
	if seen["zero"] != 0 {
		t.Fatal("message number 0 was delivered")
	}
	if got := l.InAck(); got != senders*each {
		t.Fatalf("InAck = %d, want %d", got, senders*each)
	}
}

// A message DeliverNext took counts as told: SockJS clients hear no acks,
// so no receiver is woken for one or frames one.
func TestDeliverNextTellsNoAck(t *testing.T) {
	r := newRegistry(t, nil)
	l := create(t, r, "websocket")
	rcv := attached(t, l, "websocket", 0)
	ready := rcv.Ready()
	<-ready // Attach's own signal
	if err := l.DeliverNext(context.Background(), false, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if len(ready) != 0 {
		t.Error("woken for an ack")
	}
	var b Batch
	if rcv.Next(&b, 1000) {
		t.Fatalf("batch %+v, want nothing", b)
	}
}

// An inline delivery that leaves an ack due calls the receiver's OnWake
// ready callback, not only its Ready channel, before it returns: a carrier
// that waits on the callback (a parked JSONP poll, which takes an ack
// alone) answers with the ack at once rather than at its heartbeat. A
// receiver that takes acks only with data is not called for one.
func TestInlineAckCallsReady(t *testing.T) {
	r := newRegistry(t, nil)
	l := create(t, r, "jsonp")
	rcv := attached(t, l, "jsonp", 0)
	var b Batch
	called := 0
	rcv.OnWake(func() {
		called++
		if !rcv.Next(&b, 1000) || b.Ack != 1 {
			t.Errorf("the ready callback took %+v, want Ack 1", b)
		}
	}, nil)
	ctx := context.Background()
	if ok, err := l.Deliver(ctx, 0, 1, false, []byte("x")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if called != 1 {
		t.Fatalf("the ready callback ran %d times for the ack, want once", called)
	}
	rcv.AcksOnData()
	if ok, err := l.Deliver(ctx, 0, 2, false, []byte("y")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if called != 1 {
		t.Fatal("a receiver that takes acks only with data was called for one")
	}
}

// TestInlineReplyWakesOnce: a reply sent from OnMessage wakes the
// receiver once, and the ack rides on it; the delivery does not wake the
// receiver a second time for an ack the reply already carries.
func TestInlineReplyWakesOnce(t *testing.T) {
	r := newRegistry(t, nil)
	l := create(t, r, "websocket")
	rcv := attached(t, l, "websocket", 0)
	s := l.Session()
	s.OnMessage(func(m Message) {
		if err := s.Send(m.Text()); err != nil {
			t.Errorf("Send: %v", err)
		}
	})
	called := 0
	rcv.OnWake(func() { called++ }, nil)
	ctx := context.Background()
	if ok, err := l.Deliver(ctx, 0, 1, false, []byte("x")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if called != 1 {
		t.Fatalf("the ready callback ran %d times for one reply, want once", called)
	}
	var b Batch
	if !rcv.Next(&b, 1000) || len(b.Msgs) != 1 || b.Ack != 1 {
		t.Fatalf("took %+v, want the reply with Ack 1", b)
	}
	// Taken: the next message, left without a reply, wakes it for its ack.
	s.OnMessage(func(Message) {})
	if ok, err := l.Deliver(ctx, 0, 2, false, []byte("y")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	if called != 2 {
		t.Fatalf("the ready callback ran %d times in all, want 2 (the second for the ack alone)", called)
	}
	if !rcv.Next(&b, 1000) || len(b.Msgs) != 0 || b.Ack != 2 {
		t.Fatalf("took %+v, want Ack 2 alone", b)
	}
}
