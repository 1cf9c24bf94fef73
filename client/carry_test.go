package client

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// The tests of this file cover messages on the send answer (SPEC.md §5,
// carry=1): who asks for them, and that they take the path of received
// messages, duplicates and gaps included.

// carries reports whether a carrier asks for messages on its send answers.
func carries(tr string) bool { return tr == protocol.LongPoll || tr == protocol.Polling }

// sendsOf returns the send requests the fake saw.
func sendsOf(f *fake) []fakeSend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sends)
}

// waitFake waits until cond, called with f.mu held, holds.
func waitFake(t *testing.T, f *fake, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		f.mu.Lock()
		ok := cond()
		f.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// noMore checks that nothing more arrives for a moment.
func noMore(t *testing.T, c *Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if m, err := c.Recv(ctx); err == nil {
		t.Fatalf("extra message %d %q", m.Seq, m.Data)
	}
}

// expect receives one message and checks it.
func expect(t *testing.T, c *Conn, seq uint64, text string) {
	t.Helper()
	if m := recv(t, c); m.Seq != seq || string(m.Data) != text {
		t.Fatalf("got %d %q, want %d %q", m.Seq, m.Data, seq, text)
	}
}

// TestCarryAsked: longpoll and polling send with carry=1, the other HTTP
// carriers without (their receive delivers at once; jsonp's form post can
// never carry).
func TestCarryAsked(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t, nil)
		c := dial(t, f, Options{Transport: tr})
		send(t, c, "one")
		expect(t, c, 1, "one")
		sends := sendsOf(f)
		if tr != protocol.WebSocket && len(sends) == 0 {
			t.Fatal("no send request")
		}
		for i, s := range sends {
			if s.carry != carries(tr) {
				t.Errorf("send %d: carry=1 %v, want %v", i, s.carry, carries(tr))
			}
		}
	})
}

// TestCarriedOnce: the echo comes on the send answer, counts in the next
// poll's ack and the next send's a frame, and when a poll answer brings it
// again it is dropped, without a resume.
func TestCarriedOnce(t *testing.T) {
	for _, tr := range []string{protocol.LongPoll, protocol.Polling} {
		t.Run(tr, func(t *testing.T) {
			f := newFake(t, func(f *fake) { f.carry, f.dupCarried = true, true })
			c := dial(t, f, Options{Transport: tr})
			send(t, c, "one")
			expect(t, c, 1, "one")
			// For longpoll, the poll held since the dial ends with a
			// heartbeat; the next one is answered with the duplicate.
			waitFake(t, f, "a poll answer repeating the carried message", func() bool { return f.recarried > 0 })
			waitFake(t, f, "a poll with ack=1", func() bool {
				return slices.ContainsFunc(f.receives, func(r fakeReceive) bool { return r.ack == 1 })
			})
			send(t, c, "two")
			expect(t, c, 2, "two")
			noMore(t, c)

			sends := sendsOf(f)
			if len(sends) < 2 || !slices.Equal(sends[0].carried, []uint64{1}) {
				t.Fatalf("sends %+v: the first answer did not carry message 1", sends)
			}
			if sends[1].ack != 1 {
				t.Errorf("second send acked %d, want 1 (the carried message)", sends[1].ack)
			}
			f.mu.Lock()
			opens := f.opens
			f.mu.Unlock()
			if opens != 1 {
				t.Errorf("%d handshakes: a duplicate is no reason to resume", opens)
			}
		})
	}
}

// TestCarriedGap: a send answer that skips a number (the message before it
// went on an answer that was lost) makes the Conn resume, and the replay
// brings every message once, in order.
func TestCarriedGap(t *testing.T) {
	for _, tr := range []string{protocol.LongPoll, protocol.Polling} {
		t.Run(tr, func(t *testing.T) {
			f := newFake(t, func(f *fake) { f.carry, f.skipCarry = true, 1 })
			log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := dial(t, f, Options{Transport: tr, ReconnectDelay: 10 * time.Millisecond, Logger: log})
			send(t, c, "twice x")
			expect(t, c, 1, "x")
			expect(t, c, 2, "x again")
			send(t, c, "y")
			expect(t, c, 3, "y")
			noMore(t, c)

			sends := sendsOf(f)
			if len(sends) == 0 || !slices.Equal(sends[0].carried, []uint64{2}) {
				t.Fatalf("sends %+v: the first answer did not carry message 2 alone", sends)
			}
			f.mu.Lock()
			in, opens := f.sessions[c.ID()].in, f.opens
			f.mu.Unlock()
			if opens != 2 {
				t.Errorf("%d handshakes, want 2: the gap must make the client resume once", opens)
			}
			if in != 2 {
				t.Errorf("server accepted %d messages, want 2", in)
			}
		})
	}
}

// TestPollingHurriedByCarry: a polling send answer that ends with `h` (the
// server stopped at its byte bound, SPEC.md §5) cuts the wait before the
// next poll short, so the rest comes now rather than after the interval,
// here half the 60 s dead-peer timeout. Without the `h` the wait is kept.
func TestPollingHurriedByCarry(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.carry, f.carryOne = true, true
		f.hb, f.poll = 30*time.Second, time.Hour
	})
	c := dial(t, f, Options{Transport: protocol.Polling})
	waitFake(t, f, "a first poll", func() bool { return len(f.receives) > 0 })
	send(t, c, "twice x")
	expect(t, c, 1, "x")
	expect(t, c, 2, "x again") // within recv's 5 s: from a poll the h hurried
	if sends := sendsOf(f); len(sends) != 1 || !slices.Equal(sends[0].carried, []uint64{1}) {
		t.Fatalf("sends %+v, want one carrying message 1 alone", sends)
	}
	// The hurried poll counts the carried message in its ack: a server
	// hands a new poll everything after the ack, so an older ack would
	// bring message 1 again instead of the rest.
	if polls, _ := receivesOf(f, protocol.Polling); len(polls) < 2 || polls[1].ack != 1 {
		t.Fatalf("polls %+v, want the second (the hurried one) with ack=1", polls)
	}

	// One message left nothing behind: no h, and no poll before the interval.
	before, _ := receivesOf(f, protocol.Polling)
	send(t, c, "y")
	expect(t, c, 3, "y")
	time.Sleep(300 * time.Millisecond)
	if after, _ := receivesOf(f, protocol.Polling); len(after) > len(before)+1 {
		t.Errorf("%d polls after a send answer without h, want at most the one the last answer asked", len(after)-len(before))
	}
}
