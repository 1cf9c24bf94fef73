package session

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// DeliverInline runs OnMessage before it returns when no callback is
// running, and queues behind a running one otherwise: order and
// serialization hold either way.
func TestDeliverInline(t *testing.T) {
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

	// Idle: the callback has run when DeliverInline returns.
	if ok, err := l.DeliverInline(ctx, 1, false, []byte("one")); !ok || err != nil {
		t.Fatalf("DeliverInline = %v, %v", ok, err)
	}
	if g := snapshot(); !slices.Equal(g, []string{"one"}) {
		t.Fatalf("after an idle DeliverInline, OnMessage saw %q; want it run inline", g)
	}

	// Busy: a callback runs on the session's goroutine; an inline delivery
	// must queue behind it, not overtake it nor run beside it.
	if _, err := l.Deliver(ctx, 2, false, []byte("slow")); err != nil {
		t.Fatal(err)
	}
	<-entered
	if ok, err := l.DeliverInline(ctx, 3, false, []byte("three")); !ok || err != nil {
		t.Fatalf("DeliverInline while busy = %v, %v", ok, err)
	}
	if g := snapshot(); !slices.Equal(g, []string{"one"}) {
		t.Fatalf("DeliverInline ran beside a running callback: %q", g)
	}
	close(release)
	waitFor(t, "the queued messages", func() bool { return len(snapshot()) == 3 })
	if g := snapshot(); !slices.Equal(g, []string{"one", "slow", "three"}) {
		t.Fatalf("order %q", g)
	}
	// A duplicate is dropped inline too.
	if ok, _ := l.DeliverInline(ctx, 3, false, []byte("three")); ok {
		t.Fatal("a duplicate was delivered")
	}
}

// An inline delivery to an idle session allocates nothing of its own: the
// message goes straight to OnMessage, not through the queue.
func TestDeliverInlineDoesNotAllocate(t *testing.T) {
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
		if ok, err := l.DeliverInline(ctx, seq, false, data); !ok || err != nil {
			t.Fatal(ok, err)
		}
	})
	if allocs != 0 || n != 101 {
		t.Fatalf("DeliverInline allocates %.1f times (%d callbacks), want 0", allocs, n)
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
