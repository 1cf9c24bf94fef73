package session

import (
	"context"

	"github.com/tether-rt/tether/protocol"
)

// Link is the carriers' face of a session: attach a receiver, hand over
// client frames, acknowledge, close on a protocol error. Apps never see it.
type Link struct {
	s *Session
}

// Session returns the app's face of the session.
func (l *Link) Session() *Session { return l.s }

// Token returns the session's secret resume token.
func (l *Link) Token() string { return l.s.token }

// InAck returns the last client message the session accepted.
func (l *Link) InAck() uint64 {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.inSeq
}

// AckAnswer returns the last client message the session accepted, for an
// answer that acknowledges it (a send answer, a handshake), and notes that
// the client is told: receivers then put an ack at the front of a batch
// only once a later message is accepted. Without this every poll, a new
// receiver each time, repeated an ack its client already had.
func (l *Link) AckAnswer() uint64 {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.inTold = l.s.inSeq
	return l.s.inSeq
}

// Closed reports the close frame a closed session answers with.
func (l *Link) Closed() (code protocol.CloseCode, reason string, closed bool) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if l.s.cl == nil {
		return 0, "", false
	}
	return l.s.cl.frame.code, l.s.cl.frame.reason, true
}

// Attach makes a carrier named name the session's receiver, after the
// client acknowledged everything up to ack: the receiver is handed every
// later message, which is how a resume replays. It fails with
// ErrReceiverBusy while another receiver is attached; that one is told
// through its OnWake probe, and decides: a WebSocket pings its peer, a
// native stream gives way (SPEC.md §5), the others carry on. A closed
// session still attaches, to hand out what was sent before the close and
// then the close frame.
func (l *Link) Attach(name string, ack uint64) (*Receiver, error) {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.ack(ack)
	if s.rcv != nil {
		if probe := s.rcv.onProbe; probe != nil {
			go probe() // the lock is held here; refusals are rare
		}
		return nil, ErrReceiverBusy
	}
	r := &Receiver{s: s, name: name, next: s.out.acked + 1}
	s.rcv = r
	if !s.closed {
		s.disarmLocked()
		if name != s.transport {
			s.transport = name
			s.box.enqueueLocked(s, event{kind: evTransport, name: name})
		}
	}
	r.wake() // let the carrier look at once: replay, close
	return r, nil
}

// Ack records the client's cumulative ack and frees what it covers.
func (l *Link) Ack(n uint64) {
	l.s.mu.Lock()
	l.s.out.ack(n)
	l.s.mu.Unlock()
}

// Touch tells the session its client is active though no receiver is
// attached (a send request between polls), restarting the disconnect delay.
func (l *Link) Touch() {
	s := l.s
	s.mu.Lock()
	if s.rcv == nil && !s.closed {
		s.armLocked()
	}
	s.mu.Unlock()
}

// Deliver records the client's cumulative ack (0: none), then hands the
// client's message number seq to the app, with one taking of the session's
// lock for both: what a client's batch mostly is. The ack is recorded
// whatever comes of the message. Deliver reports whether the message was
// new: a duplicate (seq already accepted) and a gap (seq beyond the next
// expected) are dropped, the duplicate being already acknowledged and the
// gap to be re-sent by the client. Deliver keeps data; the caller must not
// reuse it.
//
// The caller is a goroutine of a carrier's own (a WebSocket's reader, a
// send request's handler), so when no callback is running Deliver runs
// OnMessage right there: no goroutine hand-off per message, and the app's
// replies are in the log before the carrier answers. A slow app then slows
// that carrier's reading or that send's answer, which is the back-pressure
// a client wants. When a callback is running the message is queued behind
// it, and while MaxInboundBytes of messages wait for the app, Deliver waits
// for room or for ctx. Callbacks stay serialized and in order either way.
func (l *Link) Deliver(ctx context.Context, ack, seq uint64, binary bool, data []byte) (bool, error) {
	if seq == nextSeq {
		l.Ack(ack)
		return false, nil // never the next one: numbers start at 1
	}
	return l.deliver(ctx, ack, seq, binary, data)
}

// DeliverNext is Deliver of the message after the last one accepted,
// numbered under the session's lock: for a dialect whose client does not
// number its messages (SockJS), which so never loses the number to a
// concurrent delivery and needs no InAck first. Such a client is told no
// acks either: the message counts as told, so no receiver wakes up or
// frames an ack for it.
func (l *Link) DeliverNext(ctx context.Context, binary bool, data []byte) error {
	_, err := l.deliver(ctx, 0, nextSeq, binary, data)
	return err
}

// nextSeq, as deliver's seq, numbers the message as the next one.
const nextSeq = 0

// deliver is Deliver; of the next message in order when seq is nextSeq.
func (l *Link) deliver(ctx context.Context, ack, seq uint64, binary bool, data []byte) (bool, error) {
	s := l.s
	next := seq == nextSeq
	for {
		s.mu.Lock()
		if ack != 0 {
			s.out.ack(ack)
			ack = 0
		}
		if next {
			seq = s.inSeq + 1
		}
		if s.closed {
			err := s.closeErrLocked()
			s.mu.Unlock()
			return false, err
		}
		if seq != s.inSeq+1 {
			s.mu.Unlock()
			return false, nil
		}
		if s.box.bytes > 0 && s.box.bytes+len(data) > s.reg.opts.MaxInboundBytes {
			if s.box.space == nil {
				s.box.space = make(chan struct{})
			}
			space := s.box.space
			closed := s.contextLocked().Done()
			s.waiting++
			s.mu.Unlock()
			var err error
			select {
			case <-space:
			case <-ctx.Done():
				err = ctx.Err()
			case <-closed: // report the close on the next turn
			}
			s.mu.Lock()
			s.waiting--
			s.mu.Unlock()
			if err != nil {
				return false, err
			}
			continue
		}
		s.inSeq = seq
		if next {
			s.inTold = seq // see DeliverNext
		}
		m := Message{Data: data, Binary: binary}
		if !s.box.running && !s.box.done {
			// box.running is what Shutdown waits on for an inline run:
			// the registry's WaitGroup, shared by every session, would
			// cost two contended atomics per message.
			s.box.running = true
			// The caller waits for the app meanwhile (a send request does
			// not answer before): its client counts as active.
			s.waiting++
			ready := s.runInlineLocked(m)
			s.waiting--
			s.mu.Unlock()
			if ready != nil {
				ready()
			}
			return true, nil
		}
		s.box.enqueueLocked(s, event{kind: evMessage, msg: m})
		s.mu.Unlock()
		return true, nil
	}
}

// Fail closes the session for a client fault (a protocol error, an
// oversize message). Unlike an app close it drops the unsent log: the
// session is unusable.
func (l *Link) Fail(code protocol.CloseCode, reason string) {
	l.s.mu.Lock()
	l.s.closeLocked(code, reason, false)
	l.s.mu.Unlock()
}

// PeerClose closes the session because the client asked to. OnClose is
// told the client's code and reason; later requests are answered with a
// normal close.
func (l *Link) PeerClose(code protocol.CloseCode, reason string) {
	l.s.mu.Lock()
	l.s.closeAsLocked(code, reason, closeFrame{protocol.CloseNormal, "closed by client"}, false)
	l.s.mu.Unlock()
}
