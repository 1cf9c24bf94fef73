package session

import (
	"runtime/debug"

	"github.com/tether-rt/tether/protocol"
)

type eventKind uint8

const (
	evMessage eventKind = iota
	evTransport
	evClose
)

type event struct {
	kind   eventKind
	msg    Message
	name   string
	code   protocol.CloseCode
	reason string
}

// mailbox runs app callbacks one at a time, in order. Its goroutine exists
// only while events are queued, so an idle session costs none; it is
// guarded by the session's mutex.
type mailbox struct {
	onMessage   func(Message)
	onClose     func(protocol.CloseCode, string)
	onTransport func(string)

	queue   []event
	bytes   int           // message bytes queued, for MaxInboundBytes
	space   chan struct{} // closed when bytes drop; made by waiters
	running bool          // callbacks run: on a drain goroutine, or inline on a carrier's
	done    bool          // OnClose ran; nothing more is run
}

func (b *mailbox) enqueueLocked(s *Session, e event) {
	if b.done {
		return
	}
	b.queue = append(b.queue, e)
	b.bytes += len(e.msg.Data)
	if !b.running {
		b.running = true
		s.reg.wg.Add(1)
		go s.drain()
	}
}

// drain runs queued callbacks on a goroutine of their own.
func (s *Session) drain() {
	defer s.reg.wg.Done()
	s.mu.Lock()
	ready := s.runLocked()
	s.mu.Unlock()
	if ready != nil {
		ready()
	}
}

// runLocked runs queued callbacks, outside the lock, until the queue is
// empty. The caller holds s.mu and has set box.running. When the client's
// messages left an ack due that the attached receiver takes alone, it
// signals the receiver's Ready and returns its OnWake ready callback, which
// the caller must run once it released s.mu: a carrier that waits on the
// callback (a parked poll) would otherwise hear of the ack only at its
// heartbeat.
func (s *Session) runLocked() (ready func()) {
	for len(s.box.queue) > 0 {
		e := s.box.queue[0]
		s.box.queue[0] = event{}
		s.box.queue = s.box.queue[1:]
		s.box.bytes -= len(e.msg.Data)
		if s.box.space != nil {
			close(s.box.space)
			s.box.space = nil
		}
		onMessage, onClose, onTransport := s.box.onMessage, s.box.onClose, s.box.onTransport
		if e.kind == evClose {
			s.box.done = true
			s.box.queue = nil
		}
		s.mu.Unlock()
		var failed any
		switch e.kind {
		case evMessage:
			failed = s.call(func() {
				if onMessage != nil {
					onMessage(e.msg)
				}
			})
		case evTransport:
			failed = s.call(func() {
				if onTransport != nil {
					onTransport(e.name)
				}
			})
		case evClose:
			failed = s.call(func() {
				if onClose != nil {
					onClose(e.code, e.reason)
				}
			})
		}
		s.mu.Lock()
		s.failedLocked(failed)
	}
	s.box.queue = nil
	s.box.running = false
	// Replies the callbacks queued already carry the ack, and their Send
	// woke the receiver; if there are none, wake it so the client still
	// hears the ack promptly. (An echo on a WebSocket would otherwise wake
	// its carrier twice per message.)
	// A send answer that may carry messages (s.holding) tells the ack itself.
	if r := s.rcv; r != nil && s.inTold < s.inSeq && !r.acksOnData && s.holding == 0 && !s.untakenLocked(r) {
		r.wake()
		return r.onReady
	}
	return nil
}

// untakenLocked reports whether the log holds messages r has not taken
// yet: r was woken for them when they were sent, and whatever it takes
// next carries the ack. The caller holds s.mu.
func (s *Session) untakenLocked(r *Receiver) bool {
	return max(r.next, s.out.acked+1) <= s.out.seq
}

// runInlineLocked runs OnMessage on m right away, on the caller's
// goroutine, then whatever queued meanwhile. m never enters the queue, so
// an inline delivery allocates nothing. The caller holds s.mu and has set
// box.running on an empty queue. It returns what runLocked does.
func (s *Session) runInlineLocked(m Message) (ready func()) {
	onMessage := s.box.onMessage
	s.mu.Unlock()
	failed := s.call(func() {
		if onMessage != nil {
			onMessage(m)
		}
	})
	s.mu.Lock()
	s.failedLocked(failed)
	return s.runLocked()
}

// call runs one app callback and returns what it panicked with, if it
// did. A panic is the app's bug in one session: recovered here, the
// mailbox stays consistent (later callbacks, OnClose among them, still
// run, and Shutdown does not wait for a callback that never returns) and
// the process's other sessions carry on, as net/http does for a handler.
// Left alone it would end the process when the callback runs on a
// goroutine of ours, and leave the session's callbacks stuck when it runs
// on net/http's (an inline delivery), whose recovery hides it.
func (s *Session) call(fn func()) (failed any) {
	defer func() {
		if v := recover(); v != nil {
			failed = v
			s.reg.opts.Logger.Error("tether: app callback panicked; closing its session",
				"id", s.id, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	fn()
	return nil
}

// failedLocked closes the session with CloseInternalError after a callback
// panicked (failed != nil), keeping what was sent before for the client.
// The caller holds s.mu.
func (s *Session) failedLocked(failed any) {
	if failed != nil {
		s.closeLocked(protocol.CloseInternalError, protocol.CloseInternalError.String(), true)
	}
}
