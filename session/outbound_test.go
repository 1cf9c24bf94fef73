package session

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// payload returns message i's text; lengths vary so batches split at
// different places, and every 17th is longer than the test's batch bound.
func payload(i int) string {
	n := 1 + (i*7)%40
	if i%17 == 0 {
		n = 150
	}
	return fmt.Sprintf("%d:%s", i, strings.Repeat("x", n))
}

func checkInOrder(t *testing.T, msgs []Outgoing, from uint64, n int) {
	t.Helper()
	if len(msgs) != n {
		t.Fatalf("got %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		seq := from + uint64(i)
		if m.Seq != seq {
			t.Fatalf("message %d has seq %d, want %d", i, m.Seq, seq)
		}
		if got, want := string(m.Data), payload(int(seq)); got != want {
			t.Fatalf("seq %d carries %q, want %q", seq, got, want)
		}
	}
}

// checkBatchBounds checks each batch against the bound: several messages
// fit in max bytes; one message may be larger, alone.
func checkBatchBounds(t *testing.T, batches []Batch, max int) {
	t.Helper()
	for i, b := range batches {
		size := 0
		for _, m := range b.Msgs {
			size += len(m.Data)
		}
		if len(b.Msgs) > 1 && size > max {
			t.Errorf("batch %d: %d messages, %d bytes > MaxBatchBytes %d", i, len(b.Msgs), size, max)
		}
		if len(b.Msgs) == 0 && b.Ack == 0 && !b.Close {
			t.Errorf("batch %d is empty", i)
		}
	}
}

func TestSendOrderQueuedBeforeAttach(t *testing.T) {
	const n, max = 200, 100
	reg := newRegistry(t, &Options{MaxBatchBytes: max})
	l := create(t, reg, "longpoll")
	s := l.Session()
	for i := 1; i <= n; i++ {
		if err := s.Send(payload(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	c := startFake(t, l, "longpoll", 0)
	msgs := c.WaitCount(t, n)
	checkInOrder(t, msgs, 1, n)
	batches := c.Batches()
	checkBatchBounds(t, batches, max)
	// Everything was queued up front, so each batch must be as full as the
	// bound allows: the next batch's first message would not have fitted.
	for i := 0; i+1 < len(batches); i++ {
		size := 0
		for _, m := range batches[i].Msgs {
			size += len(m.Data)
		}
		if next := batches[i+1].Msgs[0]; size+len(next.Data) <= max {
			t.Errorf("batch %d (%d bytes) stopped before seq %d (%d bytes) that fits in %d",
				i, size, next.Seq, len(next.Data), max)
		}
	}
	if len(batches) < 2 {
		t.Fatalf("only %d batches for %d messages over a %d-byte bound", len(batches), n, max)
	}
}

func TestSendOrderConcurrentWithCarrier(t *testing.T) {
	const n, max = 500, 64
	reg := newRegistry(t, &Options{MaxBatchBytes: max})
	l := create(t, reg, "websocket")
	s := l.Session()
	c := startFake(t, l, "websocket", 0, withAutoAck)
	for i := 1; i <= n; i++ {
		var err error
		if i%5 == 0 {
			err = s.SendBinary([]byte(payload(i)))
		} else {
			err = s.Send(payload(i))
		}
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		if i%32 == 0 {
			runtime.Gosched()
		}
	}
	msgs := c.WaitCount(t, n)
	checkInOrder(t, msgs, 1, n)
	for _, m := range msgs {
		if m.Binary != (m.Seq%5 == 0) {
			t.Errorf("seq %d: Binary = %v", m.Seq, m.Binary)
		}
	}
	checkBatchBounds(t, c.Batches(), max)
	waitFor(t, "acks to empty the log", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.out.bytes == 0 && s.out.acked == n
	})
}

func TestSendBinaryCopiesAndTextIsUTF8(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "polling")
	s := l.Session()
	b := []byte{0, 1, 2, 0xff}
	if err := s.SendBinary(b); err != nil {
		t.Fatal(err)
	}
	b[0] = 9 // the caller may reuse its buffer
	if err := s.Send("a\xffb"); err != nil {
		t.Fatal(err)
	}
	c := startFake(t, l, "polling", 0)
	msgs := c.WaitCount(t, 2)
	if got := msgs[0].Data; string(got) != "\x00\x01\x02\xff" || !msgs[0].Binary {
		t.Errorf("binary message = %q (binary %v), want the bytes as sent", got, msgs[0].Binary)
	}
	if got := string(msgs[1].Data); got != "a\uFFFDb" || msgs[1].Binary {
		t.Errorf("text message = %q, want invalid UTF-8 replaced by U+FFFD", got)
	}
}

// TestReplayAcrossCuts moves a session across many carriers, cutting each
// at a random point, while the app keeps sending. The client keeps a
// prefix of what each carrier took (batches in flight are lost when a
// carrier is cut) and resumes with ack = the last message it kept; the
// messages it ends up with must be exactly 1..N.
func TestReplayAcrossCuts(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	const n = 600
	reg := newRegistry(t, &Options{MaxBatchBytes: 120})
	l := create(t, reg, "websocket")
	s := l.Session()

	sent := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			if err := s.Send(payload(i)); err != nil {
				sent <- fmt.Errorf("Send %d: %w", i, err)
				return
			}
			if i%8 == 0 {
				runtime.Gosched()
			}
		}
		sent <- nil
	}()

	names := []string{"websocket", "longpoll", "streaming", "eventsource"}
	var client []Outgoing // what the client kept, in order
	var last uint64       // the client's last kept seq, its resume ack
	cuts := 0
	for last < n {
		cuts++
		if cuts > 10*n {
			t.Fatalf("no progress after %d carriers", cuts)
		}
		autoAck := rng.IntN(3) == 0
		var opts []fakeOpt
		if autoAck {
			opts = append(opts, withAutoAck)
		}
		// The carrier drops after a random number of messages, or is cut
		// from outside at once (having taken some or none).
		want := 0
		if rng.IntN(8) != 0 {
			want = 1 + rng.IntN(min(n-int(last), 40))
			opts = append(opts, withDropAt(want))
		}
		c := startFake(t, l, names[rng.IntN(len(names))], last, opts...)
		waitFor(t, "carrier progress", func() bool { return c.Count() >= want })
		c.Cut(t)
		got := c.Msgs()
		for i, m := range got {
			if m.Seq != last+1+uint64(i) {
				t.Fatalf("carrier %d attached with ack=%d: message %d has seq %d, want %d",
					cuts, last, i, m.Seq, last+1+uint64(i))
			}
		}
		keep := len(got)
		if !autoAck {
			keep = rng.IntN(len(got) + 1) // the rest was lost in flight
		}
		client = append(client, got[:keep]...)
		last += uint64(keep)
		if rng.IntN(4) == 0 && last > 0 {
			l.Ack(uint64(rng.IntN(int(last))) + 1) // an ack that reached the server
		}
	}
	if err := recv(t, "sender", sent); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d carriers", cuts)
	if len(client) != n {
		t.Fatalf("client kept %d messages, want %d", len(client), n)
	}
	for i, m := range client {
		if m.Seq != uint64(i+1) || string(m.Data) != payload(i+1) {
			t.Fatalf("client message %d: seq %d %q, want seq %d %q", i, m.Seq, m.Data, i+1, payload(i+1))
		}
	}
	l.Ack(n)
	s.mu.Lock()
	bytes, live := s.out.bytes, len(s.out.items)-s.out.head
	s.mu.Unlock()
	if bytes != 0 || live != 0 {
		t.Errorf("after the final ack the log holds %d messages, %d bytes", live, bytes)
	}
}

func TestAckOnlyGrows(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	for i := 1; i <= 10; i++ {
		if err := s.Send(payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Ack(6)
	l.Ack(2) // lower than one already seen: ignored
	c := startFake(t, l, "websocket", 3)
	checkInOrder(t, c.WaitCount(t, 4), 7, 4)
	c.Cut(t)
	l.Ack(99) // past what was sent: acknowledges everything
	if err := s.Send(payload(11)); err != nil {
		t.Fatal(err)
	}
	c = startFake(t, l, "websocket", 10)
	checkInOrder(t, c.WaitCount(t, 1), 11, 1)
}

func TestSecondReceiverRefused(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	first := startFake(t, l, "websocket", 0)
	if err := s.Send(payload(1)); err != nil {
		t.Fatal(err)
	}
	first.WaitCount(t, 1)
	if _, err := l.Attach("longpoll", 0); !errors.Is(err, ErrReceiverBusy) {
		t.Fatalf("second Attach: err = %v, want ErrReceiverBusy", err)
	}
	if _, err := l.Attach("websocket", 1); !errors.Is(err, ErrReceiverBusy) {
		t.Fatalf("second Attach, same carrier name: err = %v, want ErrReceiverBusy", err)
	}
	for i := 2; i <= 5; i++ {
		if err := s.Send(payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	checkInOrder(t, first.WaitCount(t, 5), 1, 5)
	if first.Ended() {
		t.Fatal("the first receiver ended after a refused Attach")
	}
	if got := s.Transport(); got != "websocket" {
		t.Errorf("Transport() = %q after a refused Attach, want websocket", got)
	}
	first.Cut(t)
	second := startFake(t, l, "longpoll", 5)
	if err := s.Send(payload(6)); err != nil {
		t.Fatal(err)
	}
	checkInOrder(t, second.WaitCount(t, 1), 6, 1)
}

func TestDetachIsIdempotentAndStale(t *testing.T) {
	reg := newRegistry(t, nil)
	l := create(t, reg, "websocket")
	s := l.Session()
	r1, err := l.Attach("websocket", 0)
	if err != nil {
		t.Fatal(err)
	}
	r1.Detach()
	r1.Detach()
	r2, err := l.Attach("websocket", 0)
	if err != nil {
		t.Fatalf("Attach after Detach: %v", err)
	}
	defer r2.Detach()
	r1.Detach() // a stale receiver must not detach its successor
	if _, err := l.Attach("websocket", 0); !errors.Is(err, ErrReceiverBusy) {
		t.Fatalf("stale Detach freed the session's receiver: Attach err = %v", err)
	}
	if err := s.Send("x"); err != nil {
		t.Fatal(err)
	}
	var b Batch
	if r1.Next(&b, 100) {
		t.Errorf("a detached receiver took %+v", b)
	}
	if !r2.Next(&b, 100) || len(b.Msgs) != 1 {
		t.Errorf("the attached receiver took %+v", b)
	}
}

func TestOutboundBound(t *testing.T) {
	reg := newRegistry(t, &Options{MaxOutboundBytes: 100})
	la := create(t, reg, "websocket")
	lb := create(t, reg, "websocket")
	a, b := la.Session(), lb.Session()

	release := make(chan struct{})
	closed := make(chan protocol.CloseCode, 1)
	a.OnClose(func(code protocol.CloseCode, _ string) {
		closed <- code
		<-release // a slow OnClose must hold nobody else up
	})
	defer close(release)
	ca := startFake(t, la, "websocket", 0) // takes but never acks
	for i := 0; i < 10; i++ {
		if err := a.Send(strings.Repeat("a", 10)); err != nil {
			t.Fatalf("Send %d within the bound: %v", i+1, err)
		}
	}
	err := a.Send("z")
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != protocol.CloseSlowConsumer {
		t.Fatalf("Send past the bound: err = %v, want *CloseError with CloseSlowConsumer", err)
	}
	if code := recv(t, "OnClose", closed); code != protocol.CloseSlowConsumer {
		t.Errorf("OnClose code = %d, want %d", code, protocol.CloseSlowConsumer)
	}
	if code, _ := ca.WaitClose(t); code != protocol.CloseSlowConsumer {
		t.Errorf("close frame code = %d, want %d", code, protocol.CloseSlowConsumer)
	}
	if err := a.Send("y"); !errors.As(err, &ce) || ce.Code != protocol.CloseSlowConsumer {
		t.Errorf("Send after the close: err = %v", err)
	}
	if a.Context().Err() == nil {
		t.Error("Context not cancelled")
	}
	a.mu.Lock()
	if a.out.bytes != 0 {
		t.Errorf("the slow consumer's log still holds %d bytes", a.out.bytes)
	}
	a.mu.Unlock()

	// b lives on while a's OnClose is still blocked.
	msgs := recordMessages(b)
	cb := startFake(t, lb, "websocket", 0, withAutoAck)
	for i := 1; i <= 30; i++ {
		if err := b.Send(fmt.Sprint(i)); err != nil { // 51 bytes in all
			t.Fatalf("other session's Send %d: %v", i, err)
		}
	}
	for i, m := range cb.WaitCount(t, 30) {
		if m.Seq != uint64(i+1) || string(m.Data) != fmt.Sprint(i+1) {
			t.Fatalf("other session's message %d: seq %d %q", i, m.Seq, m.Data)
		}
	}
	if ok, err := lb.Deliver(t.Context(), 0, 1, false, []byte("hi")); !ok || err != nil {
		t.Fatalf("other session's Deliver = %v, %v", ok, err)
	}
	msgs.WaitLen(t, 1)
	if _, _, isClosed := lb.Closed(); isClosed {
		t.Error("the other session closed")
	}
}

func TestOutboundBoundFreedByAcks(t *testing.T) {
	reg := newRegistry(t, &Options{MaxOutboundBytes: 100})
	l := create(t, reg, "websocket")
	s := l.Session()
	c := startFake(t, l, "websocket", 0, withAutoAck)
	// 100 times the bound in total, but acks keep the log small.
	for i := 0; i < 1000; i++ {
		var err error
		waitFor(t, "room in the log", func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.out.bytes+10 <= 100
		})
		if err = s.Send(strings.Repeat("b", 10)); err != nil {
			t.Fatalf("Send %d: %v", i+1, err)
		}
	}
	c.WaitCount(t, 1000)
}

func TestSendPreparedShared(t *testing.T) {
	reg := newRegistry(t, nil)
	p := NewPrepared([]byte("news"), false)
	var carriers []*fakeCarrier
	for range 3 {
		l := create(t, reg, "websocket")
		if err := l.Session().SendPrepared(p); err != nil {
			t.Fatal(err)
		}
		carriers = append(carriers, startFake(t, l, "websocket", 0))
	}
	encodes := 0
	for i, c := range carriers {
		m := c.WaitCount(t, 1)[0]
		if m.Seq != 1 || string(m.Data) != "news" || m.Binary || m.Prepared != p {
			t.Fatalf("session %d got %+v", i, m)
		}
		b := m.Prepared.Encoded("json", func(d []byte) []byte { encodes++; return append([]byte("m:"), d...) })
		if string(b) != "m:news" {
			t.Errorf("Encoded = %q", b)
		}
	}
	if encodes != 1 {
		t.Errorf("a framing encoded the broadcast %d times, want once", encodes)
	}

	small := newRegistry(t, &Options{MaxOutboundBytes: 3})
	l := create(t, small, "websocket")
	var ce *CloseError
	if err := l.Session().SendPrepared(p); !errors.As(err, &ce) || ce.Code != protocol.CloseSlowConsumer {
		t.Errorf("SendPrepared past the bound: %v, want CloseSlowConsumer", err)
	}
}

// Batch.More says Next stopped at maxBytes with messages left, and only
// then: the last batch of what is there has it clear.
func TestNextMore(t *testing.T) {
	r := newRegistry(t, nil)
	l := create(t, r, "websocket")
	s := l.Session()
	for range 5 {
		if err := s.Send("0123456789"); err != nil {
			t.Fatal(err)
		}
	}
	rcv := attached(t, l, "websocket", 0)
	var b Batch
	var sizes []int
	var more []bool
	for rcv.Next(&b, 20) {
		sizes = append(sizes, len(b.Msgs))
		more = append(more, b.More)
	}
	if fmt.Sprint(sizes, more) != "[2 2 1] [true true false]" {
		t.Fatalf("batches %v, More %v; want [2 2 1] [true true false]", sizes, more)
	}
	if b.More {
		t.Fatal("More set on an empty Next")
	}
}
