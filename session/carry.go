package session

import (
	"math"
	"time"

	"github.com/tether-rt/tether/internal/latewatch"
)

// A send answer may carry server messages (SPEC.md §5, carry=1): over the
// polling carriers an app's reply to a client message then reaches the
// client on the answer to the send that brought the message, one HTTP
// exchange instead of two, rather than on a poll that must first be
// answered and made again. Three things make that work.
//
//   - The reply must not wake the attached receiver first: a held poll
//     would take it and end for it, and the exchange saved would be spent
//     after all. So while such a send is handled and callbacks run, Send
//     leaves the wake-up owed (HoldWakes). Callbacks that run on past
//     holdLateAfter (a slow query, a progress report) stop the hold: the
//     late watch hands what they sent to the receiver, and what they send
//     next wakes it as usual.
//   - The answer must never open a gap in what the client receives: it
//     carries messages from the client's ack on, and none while the
//     receiver has handed out messages the client has not acknowledged
//     (they may still be on their way, and would arrive after it).
//   - Nothing logged after the carried messages may overtake them: from
//     Carry until ReleaseWakes, which the caller calls once the answer is
//     flushed, the receiver hands out nothing and no Send wakes it.

// holdLateAfter is how long a carrying send's callbacks may run before
// what they sent goes to the receiver (at least this, at most twice).
const holdLateAfter = 5 * time.Millisecond

var holdWatch = latewatch.New(holdLateAfter, (*Session).lookHold)

// HoldWakes starts the handling of a send whose answer carries messages:
// until ReleaseWakes, messages the app sends while callbacks run do not
// wake the attached receiver. It reports false, holding nothing, in the
// unlikely case that too many sends of the session are handled at once;
// the send then does not carry. After true the caller must call
// ReleaseWakes once it is done, whatever came of the send.
func (l *Link) HoldWakes() bool {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holding == math.MaxUint16 {
		return false
	}
	if s.holding == 0 {
		s.holdGen++
		s.holdLate = false
	}
	s.holding++
	return true
}

// Carry fills b with the messages the send's answer carries: those from
// the client's ack + 1 on, up to maxBytes of payload (at least one), and
// the close frame when the session is closed and b took every message.
// It takes none while the attached receiver has handed out messages the
// client has not acknowledged. The receiver goes on after what b took,
// and until ReleaseWakes it hands out nothing and is not woken, so that
// nothing overtakes the answer. It reports whether b holds messages; the
// caller passes that on to ReleaseWakes.
func (l *Link) Carry(b *Batch, maxBytes int) bool {
	s := l.s
	b.Msgs, b.Ack, b.Close, b.More = b.Msgs[:0], 0, false, false
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rcv
	if r != nil && !r.ended && r.next > s.out.acked+1 {
		return false
	}
	if !s.takeLocked(b, s.out.acked+1, maxBytes) {
		return false
	}
	s.answering++
	last := b.Msgs[len(b.Msgs)-1].Seq
	if r != nil && !r.ended {
		r.next = max(r.next, last+1)
	}
	if s.closed && last == s.out.seq {
		b.Close, b.CloseCode, b.Reason = true, s.cl.frame.code, s.cl.frame.reason
	}
	return true
}

// ReleaseWakes ends HoldWakes; carried is what Carry reported. It wakes
// the receiver if it was owed a wake-up and has something left to take.
func (l *Link) ReleaseWakes(carried bool) {
	s := l.s
	s.mu.Lock()
	if s.holding > 0 {
		s.holding--
	}
	if carried && s.answering > 0 {
		s.answering--
	}
	ready := s.settleWakeLocked()
	if s.wakeOwed && s.holding > 0 {
		// Still owed to another send's hold, which may have run long
		// already (owed while an answer was on its way, no watch was set).
		s.oweWakeLocked()
	}
	s.mu.Unlock()
	if ready != nil {
		ready()
	}
}

// HeldBack reports whether the last Next found nothing because a send
// answer carrying messages was on its way. Its release (ReleaseWakes)
// then signals Ready even when nothing is left to take, so a carrier that
// waits for it learns at once that the answer went out; a release that
// came before Ready was asked for is in the channel already.
func (r *Receiver) HeldBack() bool {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.heldBack
}

// holdsWakeLocked reports whether a Send now owes the receiver its
// wake-up rather than giving it. The caller holds s.mu.
func (s *Session) holdsWakeLocked() bool {
	return s.answering > 0 || s.holding > 0 && s.box.running && !s.holdLate
}

// oweWakeLocked records a wake-up held back, and has the late watch look
// at the hold if its callbacks run on. The caller holds s.mu.
func (s *Session) oweWakeLocked() {
	s.wakeOwed = true
	if !s.holdWatched && s.answering == 0 {
		s.holdWatched = true
		s.watchGen = s.holdGen
		holdWatch.Add(s)
	}
}

// settleWakeLocked gives the receiver the wake-up it is owed, once no
// hold keeps it, when there is something for it; it returns the OnWake
// callback to run after s.mu is released. The caller holds s.mu.
func (s *Session) settleWakeLocked() (ready func()) {
	if !s.wakeOwed || s.holdsWakeLocked() {
		return nil
	}
	s.wakeOwed = false
	r := s.rcv
	switch {
	case r == nil:
	case s.untakenLocked(r) || s.closed:
		r.wake()
		return r.onReady
	case r.heldBack:
		r.wake() // nothing to take: a poll waiting on Ready answers now (HeldBack)
	}
	return nil
}

// lookHold is the late watch's look at s, a tick or two after a Send owed
// a wake-up: when the same hold still runs its callbacks, it stops holding
// them back and settles the wake-up. A later hold gets a tick of its own;
// an answer on its way is waited for.
func (s *Session) lookHold() (again bool) {
	s.mu.Lock()
	if s.holding == 0 || !s.wakeOwed {
		s.holdWatched = false
		s.mu.Unlock()
		return false
	}
	if s.answering > 0 || s.watchGen != s.holdGen {
		s.watchGen = s.holdGen
		s.mu.Unlock()
		return true
	}
	s.holdLate = true
	s.holdWatched = false
	ready := s.settleWakeLocked()
	s.mu.Unlock()
	if ready != nil {
		ready()
	}
	return false
}
