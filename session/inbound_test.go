package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

func TestDeliverDedupAndGaps(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	mr := recordMessages(s)
	cr := recordClose(s)
	steps := []struct {
		seq   uint64
		data  string
		isNew bool
		inAck uint64
	}{
		{1, "c1", true, 1},
		{2, "c2", true, 2},
		{2, "dup2", false, 2},
		{1, "dup1", false, 2},
		{3, "c3", true, 3},
		{5, "gap5", false, 3},
		{4, "c4", true, 4},
		{5, "c5", true, 5},
	}
	for _, st := range steps {
		ok, err := l.Deliver(t.Context(), 0, st.seq, false, []byte(st.data))
		if err != nil {
			t.Fatalf("Deliver(%d): %v", st.seq, err)
		}
		if ok != st.isNew {
			t.Errorf("Deliver(%d, %q) = %v, want %v", st.seq, st.data, ok, st.isNew)
		}
		if got := l.InAck(); got != st.inAck {
			t.Errorf("after Deliver(%d): InAck = %d, want %d", st.seq, got, st.inAck)
		}
	}
	// OnClose runs after every queued message, so once it ran the list is
	// final.
	if err := s.Close(protocol.CloseNormal, "done"); err != nil {
		t.Fatal(err)
	}
	cr.Wait(t)
	if got, want := mr.Got(), []string{"c1", "c2", "c3", "c4", "c5"}; !slices.Equal(got, want) {
		t.Errorf("OnMessage saw %q, want %q", got, want)
	}
	if ok, err := l.Deliver(t.Context(), 0, 6, false, []byte("late")); ok || err == nil {
		t.Errorf("Deliver after close = %v, %v; want false and a CloseError", ok, err)
	}
}

func TestBinaryMessages(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	got := make(chan Message, 1)
	s.OnMessage(func(m Message) { got <- m })
	if _, err := l.Deliver(t.Context(), 0, 1, true, []byte{0, 0xff}); err != nil {
		t.Fatal(err)
	}
	m := recv(t, "OnMessage", got)
	if !m.Binary || string(m.Data) != "\x00\xff" {
		t.Errorf("OnMessage got %+v, want binary 00ff", m)
	}
}

func TestAckPiggyback(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	r, err := l.Attach("websocket", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { r.Detach() }()
	var b Batch
	if r.Next(&b, 1000) {
		t.Fatalf("fresh receiver took %+v", b)
	}
	deliver := func(seq uint64) {
		t.Helper()
		if _, err := l.Deliver(t.Context(), 0, seq, false, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	deliver(1)
	deliver(2)
	if !r.Next(&b, 1000) || b.Ack != 2 || len(b.Msgs) != 0 || b.Close {
		t.Fatalf("after two client messages the batch is %+v, want Ack 2 alone", b)
	}
	if r.Next(&b, 1000) {
		t.Fatalf("the ack was handed out twice: %+v", b)
	}
	deliver(2) // duplicate: nothing new to acknowledge
	deliver(4) // gap: not accepted, not acknowledged
	if r.Next(&b, 1000) {
		t.Fatalf("a duplicate or a gap produced %+v", b)
	}
	if err := s.Send("reply"); err != nil {
		t.Fatal(err)
	}
	if !r.Next(&b, 1000) || b.Ack != 0 || len(b.Msgs) != 1 {
		t.Fatalf("batch = %+v, want the reply with no ack", b)
	}
	deliver(3)
	if err := s.Send("reply2"); err != nil {
		t.Fatal(err)
	}
	if !r.Next(&b, 1000) || b.Ack != 3 || len(b.Msgs) != 1 || b.Msgs[0].Seq != 2 {
		t.Fatalf("batch = %+v, want Ack 3 riding on message 2", b)
	}

	// When the app sends nothing back, the receiver is woken once the
	// callbacks ran, so the ack still goes out promptly.
	for len(r.Ready()) > 0 {
		<-r.Ready()
	}
	deliver(4)
	recv(t, "wake-up for the ack", r.Ready())
	if !r.Next(&b, 1000) || b.Ack != 4 {
		t.Fatalf("batch = %+v, want Ack 4", b)
	}

	// A new carrier starts from the ack the client was already handed:
	// the ack comes again only with a newer message.
	r.Detach()
	r, err = l.Attach("longpoll", 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Next(&b, 1000) {
		t.Fatalf("new carrier's first batch = %+v, want nothing: the client has Ack 4", b)
	}
	deliver(5)
	if !r.Next(&b, 1000) || b.Ack != 5 || len(b.Msgs) != 0 {
		t.Fatalf("batch = %+v, want Ack 5", b)
	}
}

// A send answer hands the client the ack (AckAnswer): receivers, the one
// attached and any later one, leave it out.
func TestAckAnswerIsTold(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "longpoll")
	r, err := l.Attach("longpoll", 0)
	if err != nil {
		t.Fatal(err)
	}
	<-r.Ready() // Attach's own signal
	if _, err := l.Deliver(t.Context(), 0, 1, false, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := l.AckAnswer(); got != 1 {
		t.Fatalf("AckAnswer = %d, want 1", got)
	}
	var b Batch
	if r.Next(&b, 1000) {
		t.Fatalf("batch after the send answer = %+v, want nothing", b)
	}
	r.Detach()
	if r, err = l.Attach("longpoll", 0); err != nil {
		t.Fatal(err)
	}
	defer r.Detach()
	if r.Next(&b, 1000) {
		t.Fatalf("a new receiver's batch = %+v, want nothing", b)
	}
	// Inline, with nothing sent back: once the send answer told the ack,
	// a receiver woken for it finds nothing to take.
	for len(r.Ready()) > 0 {
		<-r.Ready()
	}
	if _, err := l.Deliver(t.Context(), 0, 2, false, []byte("y")); err != nil {
		t.Fatal(err)
	}
	l.AckAnswer()
	if r.Next(&b, 1000) {
		t.Fatalf("batch = %+v, want nothing after AckAnswer", b)
	}
}

// TestCallbacksSerialized delivers from many goroutines at once, with
// duplicates and gaps, while carriers come and go. OnMessage and
// OnTransport must never overlap, must see each message once in order, and
// OnClose must run once, last.
func TestCallbacksSerialized(t *testing.T) {
	const n, writers = 300, 8
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()

	var active atomic.Int32
	var overlaps atomic.Int32
	enter := func() {
		if active.Add(1) != 1 {
			overlaps.Add(1)
		}
		runtime.Gosched() // widen the window an overlap would need
	}
	leave := func() { active.Add(-1) }

	var mu sync.Mutex
	var seen []string
	var transports int
	s.OnMessage(func(m Message) {
		enter()
		defer leave()
		mu.Lock()
		seen = append(seen, m.Text())
		mu.Unlock()
	})
	s.OnTransport(func(string) {
		enter()
		defer leave()
		mu.Lock()
		transports++
		mu.Unlock()
	})
	var closes atomic.Int32
	var seenAtClose atomic.Int32
	s.OnClose(func(protocol.CloseCode, string) {
		enter()
		defer leave()
		closes.Add(1)
		mu.Lock()
		seenAtClose.Store(int32(len(seen)))
		mu.Unlock()
	})

	stopFlap := make(chan struct{})
	flapped := make(chan struct{})
	go func() { // move between carriers to queue OnTransport callbacks
		defer close(flapped)
		names := []string{"longpoll", "websocket"}
		for i := 0; ; i++ {
			select {
			case <-stopFlap:
				return
			default:
			}
			if r, err := l.Attach(names[i%2], 0); err == nil {
				r.Detach()
			}
			runtime.Gosched()
		}
	}()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for {
				seq := l.InAck() + 1
				if seq > n {
					return
				}
				switch rng.IntN(4) {
				case 0:
					// A gap, never past n: by the time it arrives another
					// writer may have made it the next message, which
					// must then be a message the test expects.
					if seq < n {
						seq++
					}
				case 1:
					if seq > 1 {
						seq-- // a duplicate
					}
				}
				if _, err := l.Deliver(context.Background(), 0, seq, false, []byte(fmt.Sprint(seq))); err != nil {
					t.Errorf("Deliver(%d): %v", seq, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stopFlap)
	<-flapped

	if err := s.Close(protocol.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	// Every way to close again must not run OnClose a second time.
	l.PeerClose(protocol.CloseNormal, "")
	l.Fail(protocol.CloseProtocolError, "")
	if err := s.Close(protocol.CloseNormal, ""); err == nil {
		t.Error("second Close returned nil")
	}
	waitFor(t, "OnClose", func() bool { return closes.Load() > 0 })
	if err := waitIdle(s); err != nil {
		t.Fatal(err)
	}
	if got := closes.Load(); got != 1 {
		t.Errorf("OnClose ran %d times", got)
	}
	if got := overlaps.Load(); got != 0 {
		t.Errorf("callbacks overlapped %d times", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Fatalf("OnMessage ran %d times, want %d", len(seen), n)
	}
	for i, m := range seen {
		if m != fmt.Sprint(i+1) {
			t.Fatalf("message %d is %q, want %d", i, m, i+1)
		}
	}
	if got := seenAtClose.Load(); got != n {
		t.Errorf("OnClose ran after %d of %d messages", got, n)
	}
	t.Logf("%d OnTransport calls", transports)
}

// waitIdle waits until the session's callback goroutine is gone.
func waitIdle(s *Session) error {
	deadline := time.Now().Add(waitTimeout)
	for {
		s.mu.Lock()
		running := s.box.running
		s.mu.Unlock()
		if !running {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("callbacks still running")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOnCloseAfterQueuedMessages(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	s.OnMessage(func(m Message) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		mu.Lock()
		seen = append(seen, m.Text())
		mu.Unlock()
	})
	var seenAtClose []string
	cr := &closeRecorder{ch: make(chan struct{})}
	s.OnClose(func(code protocol.CloseCode, reason string) {
		mu.Lock()
		seenAtClose = append([]string(nil), seen...)
		mu.Unlock()
		cr.mu.Lock()
		cr.calls++
		cr.code, cr.reason = code, reason
		cr.mu.Unlock()
		close(cr.ch)
	})
	// The first runs inline on a deliverer of its own, which then runs
	// the rest, queued behind it, and OnClose.
	first := deliverAsync(l, 1, []byte("1"))
	recv(t, "first OnMessage", entered)
	for i := 2; i <= 5; i++ {
		if ok, err := l.Deliver(t.Context(), 0, uint64(i), false, []byte(fmt.Sprint(i))); !ok || err != nil {
			t.Fatalf("Deliver(%d) = %v, %v", i, ok, err)
		}
	}
	if err := s.Close(3007, "app done"); err != nil {
		t.Fatal(err)
	}
	if s.Context().Err() == nil {
		t.Error("Context not cancelled by Close")
	}
	if cr.Calls() != 0 {
		t.Fatal("OnClose ran while a message callback was still running")
	}
	close(release)
	if err := recv(t, "Deliver(1)", first); err != nil {
		t.Fatal(err)
	}
	code, reason := cr.Wait(t)
	if code != 3007 || reason != "app done" {
		t.Errorf("OnClose(%d, %q), want 3007 app done", code, reason)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"1", "2", "3", "4", "5"}; !slices.Equal(seenAtClose, want) {
		t.Errorf("at OnClose the app had seen %q, want %q", seenAtClose, want)
	}
}

func TestOnTransport(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	var mu sync.Mutex
	var names []string
	s.OnTransport(func(name string) {
		mu.Lock()
		names = append(names, name)
		mu.Unlock()
	})
	mr := recordMessages(s)
	var seq uint64
	// settle waits until every callback queued so far ran, by queueing a
	// message behind them, and returns the OnTransport calls so far.
	settle := func() []string {
		t.Helper()
		seq++
		if _, err := l.Deliver(t.Context(), 0, seq, false, []byte("sync")); err != nil {
			t.Fatal(err)
		}
		mr.WaitLen(t, int(seq))
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), names...)
	}
	attach := func(name string) {
		t.Helper()
		r, err := l.Attach(name, 0)
		if err != nil {
			t.Fatal(err)
		}
		r.Detach()
	}

	attach("websocket") // the carrier the session was created with
	if got := settle(); len(got) != 0 {
		t.Fatalf("OnTransport(%q) for the session's first carrier", got)
	}
	attach("longpoll")
	if got := settle(); !slices.Equal(got, []string{"longpoll"}) {
		t.Fatalf("OnTransport calls %q, want [longpoll]", got)
	}
	if got := s.Transport(); got != "longpoll" {
		t.Errorf("Transport() = %q, want longpoll", got)
	}
	attach("longpoll") // a reconnect on the same carrier is no move
	attach("websocket")
	if got := settle(); !slices.Equal(got, []string{"longpoll", "websocket"}) {
		t.Fatalf("OnTransport calls %q, want [longpoll websocket]", got)
	}
}

func TestInboundBound(t *testing.T) {
	reg := newRegistry(t, &Options{MaxInboundBytes: 10})
	l := create(t, reg, "websocket")
	s := l.Session()
	entered := make(chan string, 10)
	release := make(chan struct{})
	s.OnMessage(func(m Message) {
		entered <- m.Text()
		<-release
	})
	msg := func(i int) []byte { return fmt.Appendf(nil, "message-%02d", i) } // 10 bytes

	// Message 1 runs inline on a deliverer of its own, blocked in the app,
	// out of the queue.
	done1 := deliverAsync(l, 1, msg(1))
	first := recv(t, "OnMessage(1)", entered)
	// One message always fits in an empty queue, whatever its size.
	if ok, err := l.Deliver(t.Context(), 0, 2, false, msg(2)); !ok || err != nil {
		t.Fatalf("Deliver(2) = %v, %v", ok, err)
	}
	// The queue is full: Deliver waits for the app, then gives up with ctx.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	ok, err := l.Deliver(ctx, 0, 3, false, msg(3))
	cancel()
	if ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Deliver(3) on a full queue = %v, %v; want false, DeadlineExceeded", ok, err)
	}
	if got := l.InAck(); got != 2 {
		t.Fatalf("InAck = %d after a refused Deliver, want 2", got)
	}

	// A waiting Deliver proceeds once the app catches up.
	done := deliverAsync(l, 3, msg(3))
	select {
	case err := <-done:
		t.Fatalf("Deliver(3) returned (%v) while the queue was full", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if err := recv(t, "Deliver(3)", done); err != nil {
		t.Fatalf("Deliver(3) after the app caught up: %v", err)
	}
	got := []string{first}
	for range 2 {
		got = append(got, recv(t, "OnMessage", entered))
	}
	if err := recv(t, "Deliver(1)", done1); err != nil {
		t.Fatalf("Deliver(1): %v", err)
	}
	if want := []string{"message-01", "message-02", "message-03"}; !slices.Equal(got, want) {
		t.Errorf("OnMessage saw %q, want %q", got, want)
	}
}

func TestInboundWaiterReleasedByClose(t *testing.T) {
	reg := newRegistry(t, &Options{MaxInboundBytes: 4})
	l := create(t, reg, "websocket")
	s := l.Session()
	entered := make(chan struct{}, 4)
	release := make(chan struct{})
	s.OnMessage(func(Message) {
		entered <- struct{}{}
		<-release
	})
	defer close(release)
	deliverAsync(l, 1, []byte("abcd")) // runs inline, held in the app
	recv(t, "OnMessage(1)", entered)
	if _, err := l.Deliver(t.Context(), 0, 2, false, []byte("abcd")); err != nil {
		t.Fatal(err)
	}
	done := deliverAsync(l, 3, []byte("abcd"))
	time.Sleep(5 * time.Millisecond)
	if err := s.Close(protocol.CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	var ce *CloseError
	if err := recv(t, "Deliver to return", done); !errors.As(err, &ce) {
		t.Fatalf("waiting Deliver after Close: err = %v, want *CloseError", err)
	}
}
