package session

// A send answer may carry server messages (SPEC.md §5, carry=1): over the
// polling carriers an app's reply to a client message then reaches the
// client on the answer to the send that brought the message, one HTTP
// exchange instead of two, rather than on a poll that must first be
// answered and made again. Two things make that work. The reply must not
// wake the attached receiver first: a held poll would take it and end for
// it, and the exchange saved would be spent after all; so while such a
// send is handled and the app's callbacks run, Send leaves the wake-up
// owed. And the answer must never open a gap in what the client receives:
// it carries messages from the client's ack on, and none while the
// receiver has handed out messages the client has not acknowledged (they
// may still be on their way, and would arrive after).

// What a carrying send holds (Session.replying).
const (
	replyNone     = iota
	replyHandling // its messages are handled: sends from callbacks owe their wake-up
	replyAnswered // its answer carries messages: every send owes it, until ReleaseWakes
)

// HoldWakes starts the handling of a send whose answer carries messages:
// until ReleaseWakes, messages the app sends from its callbacks do not
// wake the attached receiver. The caller must call ReleaseWakes once it
// is done, whatever came of the send.
func (l *Link) HoldWakes() {
	l.s.mu.Lock()
	l.s.replying = replyHandling
	l.s.mu.Unlock()
}

// Carry fills b with the messages the send's answer carries: those from
// the client's ack + 1 on, up to maxBytes of payload (at least one),
// unless the attached receiver has handed out messages the client has not
// acknowledged yet. The receiver goes on after what b took. When b took
// any, every send (not only the callbacks') owes its wake-up until
// ReleaseWakes, which the caller calls once the answer is on its way: a
// receiver woken before could hand out a later message that overtakes the
// answer, and the client would see a gap. It reports whether b holds
// messages.
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
	s.replying = replyAnswered
	if r != nil && !r.ended {
		r.next = max(r.next, b.Msgs[len(b.Msgs)-1].Seq+1)
	}
	return true
}

// ReleaseWakes ends HoldWakes, waking the receiver if it was owed a
// wake-up and has messages left to take.
func (l *Link) ReleaseWakes() {
	s := l.s
	s.mu.Lock()
	s.replying = replyNone
	var ready func()
	if r := s.rcv; s.wakeOwed && r != nil && s.untakenLocked(r) {
		r.wake()
		ready = r.onReady
	}
	s.wakeOwed = false
	s.mu.Unlock()
	if ready != nil {
		ready()
	}
}
