package session

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/tether-rt/tether/internal/expiry"
	"github.com/tether-rt/tether/protocol"
)

// Message is one message from the client.
type Message struct {
	Data   []byte
	Binary bool
}

// Text returns the message as a string.
func (m Message) Text() string { return string(m.Data) }

// Session is one logical connection as the app sees it. The root package
// calls it Conn. All methods are safe for concurrent use.
//
// Its fields are ordered to pack: an idle or abandoned session is mostly
// this struct, so each word is a share of a crowd's memory.
type Session struct {
	id    string
	token string
	reg   *Registry
	req   Request
	link  Link // handed out by the registry, so a lookup allocates nothing

	mu sync.Mutex
	// ctx is made on the first Context call: most apps never ask, and it
	// was a twentieth of an idle session.
	ctx       context.Context
	cancel    context.CancelFunc
	transport string
	out       outLog
	rcv       *Receiver
	inSeq     uint64                 // last client message accepted
	inTold    uint64                 // last ack of client messages handed to the client
	cl        *closeRecord           // how it closed, once closed
	exp       expiry.Entry[*Session] // the disconnect delay, in the registry's queue
	waiting   int32                  // Deliver calls waiting for inbound room: client activity
	// The hold of sends whose answers carry messages on the receiver's
	// wake-ups (carry.go).
	holding     uint16 // sends between HoldWakes and ReleaseWakes
	answering   uint16 // of those, the ones whose answers carry messages
	holdGen     uint32 // holds begun, so the late watch tells one from the next
	watchGen    uint32 // the hold the late watch looks at
	wakeOwed    bool   // a wake-up was held back
	holdLate    bool   // the hold's callbacks ran long: their sends wake as usual
	holdWatched bool   // on the late watch
	closed      bool
	collected   bool

	box mailbox
}

// closeRecord is how a session closed, made at the close: an open session
// does not carry its room.
type closeRecord struct {
	code   protocol.CloseCode // what OnClose was told
	reason string
	frame  closeFrame // what later requests are answered with
}

// closeFrame is the close a closed session answers with.
type closeFrame struct {
	code   protocol.CloseCode
	reason string
}

// ID returns the server-assigned session id, stable across carriers.
func (s *Session) ID() string { return s.id }

// Context returns a context cancelled when the session closes.
func (s *Session) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contextLocked()
}

func (s *Session) contextLocked() context.Context {
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.closed {
			s.cancel()
		}
	}
	return s.ctx
}

// Request returns what the opening request said.
func (s *Session) Request() *Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.req.fill()
	return &s.req
}

// Header returns the opening request's headers.
func (s *Session) Header() http.Header { return s.Request().Header }

// Query returns the opening request's query parameters, nil (which reads
// as empty) when there were none.
func (s *Session) Query() url.Values { return s.Request().Query }

// RemoteAddr returns the client's address as the router resolved it.
func (s *Session) RemoteAddr() string { return s.req.RemoteAddr }

// Cookie returns the named cookie of the opening request, or nil.
func (s *Session) Cookie(name string) *http.Cookie {
	for _, c := range s.Request().Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Transport returns the name of the carrier the session receives on now.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Send queues a text message for the client. It never waits for the
// network: it fails only when the session is closed, or when the message
// would push the unacknowledged bytes past MaxOutboundBytes, in which case
// the session is closed with CloseSlowConsumer. Invalid UTF-8 reaches the
// client as U+FFFD; use SendBinary for bytes.
func (s *Session) Send(text string) error {
	// The log shares text's bytes rather than copying them: a string never
	// changes, and nothing writes to a logged message (Outgoing.Data).
	return s.push(false, unsafe.Slice(unsafe.StringData(text), len(text)))
}

// SendBinary queues a binary message. It copies b, so the caller may reuse
// it at once.
func (s *Session) SendBinary(b []byte) error {
	return s.push(true, append([]byte(nil), b...))
}

func (s *Session) push(binary bool, data []byte) error {
	if !binary {
		data = validText(data)
	}
	return s.pushEntry(binary, data, nil)
}

func (s *Session) pushEntry(binary bool, data []byte, p *Prepared) error {
	s.mu.Lock()
	if s.closed {
		err := s.closeErrLocked()
		s.mu.Unlock()
		return err
	}
	if s.out.bytes+len(data) > s.reg.opts.MaxOutboundBytes {
		s.closeLocked(protocol.CloseSlowConsumer, "slow consumer", false)
		err := s.closeErrLocked()
		s.mu.Unlock()
		return err
	}
	s.out.push(binary, data, p)
	if s.holdsWakeLocked() {
		// Most likely a reply to the send being handled, whose answer
		// will carry it: waking the receiver would have a held poll take
		// it first and end for it. Or that answer carries messages, which
		// this one must not overtake. See carry.go.
		s.oweWakeLocked()
		s.mu.Unlock()
		return nil
	}
	s.wakeLocked()
	ready := s.readyFuncLocked()
	s.mu.Unlock()
	if ready != nil {
		ready()
	}
	return nil
}

// OnMessage sets the function that receives the client's messages, one at
// a time, in the order the client sent them, each exactly once. Set it in
// the session handler: messages that arrive while none is set are dropped.
func (s *Session) OnMessage(fn func(Message)) {
	s.mu.Lock()
	s.box.onMessage = fn
	s.mu.Unlock()
}

// OnClose sets the function run once when the session closes, after every
// message callback that was queued before the close.
func (s *Session) OnClose(fn func(code protocol.CloseCode, reason string)) {
	s.mu.Lock()
	s.box.onClose = fn
	s.mu.Unlock()
}

// OnTransport sets the function told the carrier's name each time the
// session moves to another carrier (fallback, upgrade, reconnect).
func (s *Session) OnTransport(fn func(name string)) {
	s.mu.Lock()
	s.box.onTransport = fn
	s.mu.Unlock()
}

// Close closes the session with code and reason. Messages sent before it
// still reach a client that comes back within the disconnect delay, then
// the close frame does. Closing a closed session returns its CloseError.
func (s *Session) Close(code protocol.CloseCode, reason string) error {
	if !code.Valid() {
		code = protocol.CloseNormal
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErrLocked()
	}
	s.closeLocked(code, reason, true)
	return nil
}

func (s *Session) closeErrLocked() error {
	return &CloseError{Code: s.cl.code, Reason: s.cl.reason}
}

// closeLocked closes the session. keepLog keeps the unacknowledged messages
// for a client that comes back; otherwise they are dropped at once (a slow
// consumer's log is what must be freed).
func (s *Session) closeLocked(code protocol.CloseCode, reason string, keepLog bool) {
	s.closeAsLocked(code, reason, closeFrame{code, protocol.TruncateReason(reason)}, keepLog)
}

func (s *Session) closeAsLocked(code protocol.CloseCode, reason string, frame closeFrame, keepLog bool) {
	if s.closed {
		return
	}
	s.closed = true
	s.cl = &closeRecord{code: code, reason: reason, frame: frame}
	if !keepLog {
		s.out.reset()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.box.enqueueLocked(s, event{kind: evClose, code: code, reason: reason})
	s.wakeLocked()
	if ready := s.readyFuncLocked(); ready != nil {
		go ready() // the lock is held here, by many callers; closes are rare
	}
	// The tombstone answers for one disconnect delay, then is collected
	// (later while its callbacks still run: see expire).
	s.armLocked()
	s.reg.opts.Logger.Debug("tether: session closed", "id", s.id, "code", int(code), "reason", reason)
}

func (s *Session) wakeLocked() {
	if s.rcv != nil {
		s.rcv.wake()
	}
}

// armLocked (re)starts the session's disconnect delay.
func (s *Session) armLocked() {
	if !s.collected {
		s.reg.expiry.Arm(&s.exp, s)
	}
}

func (s *Session) disarmLocked() { s.reg.expiry.Stop(&s.exp) }

// expire runs once the disconnect delay passed: an open session without a
// receiver is lost; a closed one is collected.
func (s *Session) expire() {
	s.mu.Lock()
	if s.collected || !s.reg.expiry.Deadline(&s.exp).IsZero() {
		s.mu.Unlock()
		return // collected, or armed again after it fell due
	}
	if !s.closed && s.waiting > 0 {
		// A send request is waiting for the app: the client is not gone.
		s.armLocked()
		s.mu.Unlock()
		return
	}
	if s.rcv != nil && !s.closed {
		s.mu.Unlock()
		return // a receiver attached after it fell due
	}
	if s.closed && s.box.running {
		// Its callbacks still run, maybe inline on a deliverer's
		// goroutine, which Registry.wg does not count: the tombstone
		// stays, so that Shutdown finds it and waits for them.
		s.armLocked()
		s.mu.Unlock()
		return
	}
	if !s.closed {
		s.closeAsLocked(protocol.CloseSessionLost, "disconnect delay passed",
			closeFrame{protocol.CloseSessionLost, "session lost"}, false)
	}
	s.collected = true
	s.disarmLocked()
	s.mu.Unlock()
	s.reg.remove(s)
}

// validText returns b with every byte of invalid UTF-8 replaced by U+FFFD,
// as encoding/json and the framers do, so the log holds valid text for
// every carrier (a WebSocket text message must be valid UTF-8). Valid
// input, the common case, is returned as it is.
func validText(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return []byte(string([]rune(string(b))))
}
