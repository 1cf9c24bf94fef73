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
