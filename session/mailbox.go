package session

import (
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
	running bool          // a drain goroutine is active
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
	s.runLocked()
	ready := s.readyFuncLocked() // for the ack, if the callbacks sent nothing
	s.mu.Unlock()
	if ready != nil {
		ready()
	}
}

// runLocked runs queued callbacks, outside the lock, until the queue is
// empty. The caller holds s.mu and has set box.running.
func (s *Session) runLocked() {
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
		switch e.kind {
		case evMessage:
			if onMessage != nil {
				onMessage(e.msg)
			}
		case evTransport:
			if onTransport != nil {
				onTransport(e.name)
			}
		case evClose:
			if onClose != nil {
				onClose(e.code, e.reason)
			}
		}
		s.mu.Lock()
	}
	s.box.queue = nil
	s.box.running = false
	// Replies the callbacks queued already carry the ack; if they sent
	// nothing, wake the receiver so the client still hears it promptly.
	if s.rcv != nil && s.rcv.sentIn < s.inSeq {
		s.rcv.wake()
	}
}

// runInlineLocked runs OnMessage on m right away, on the caller's
// goroutine, then whatever queued meanwhile. m never enters the queue, so
// an inline delivery allocates nothing. The caller holds s.mu and has set
// box.running on an empty queue.
func (s *Session) runInlineLocked(m Message) {
	onMessage := s.box.onMessage
	s.mu.Unlock()
	if onMessage != nil {
		onMessage(m)
	}
	s.mu.Lock()
	s.runLocked()
}
