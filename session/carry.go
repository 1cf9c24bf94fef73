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

// HoldWakes starts the handling of a send whose answer carries messages:
// until Carry, messages the app sends from its callbacks do not wake the
// attached receiver. The caller must call Carry once it has applied the
// send's frames, whatever came of them.
func (l *Link) HoldWakes() {
	l.s.mu.Lock()
	l.s.replying = true
	l.s.mu.Unlock()
}

// Carry fills b with the messages the send's answer carries: those from
// the client's ack + 1 on, up to maxBytes of payload (at least one),
// unless the attached receiver has handed out messages the client has not
// acknowledged yet. The receiver goes on after what b took. Then it ends
// HoldWakes, waking the receiver if it was owed a wake-up and has
// messages left to take. A nil b only ends HoldWakes (the client left).
// It reports whether b holds messages.
func (l *Link) Carry(b *Batch, maxBytes int) bool {
	s := l.s
	s.mu.Lock()
	s.replying = false
	r := s.rcv
	took := false
	if b != nil {
		b.Msgs, b.Ack, b.Close, b.More = b.Msgs[:0], 0, false, false
		if r == nil || r.ended || r.next <= s.out.acked+1 {
			took = s.takeLocked(b, s.out.acked+1, maxBytes)
		}
		if took && r != nil && !r.ended {
			r.next = max(r.next, b.Msgs[len(b.Msgs)-1].Seq+1)
		}
	}
	var ready func()
	if s.wakeOwed {
		s.wakeOwed = false
		if r != nil && s.untakenLocked(r) {
			r.wake()
			ready = r.onReady
		}
	}
	s.mu.Unlock()
	if ready != nil {
		ready()
	}
	return took
}
