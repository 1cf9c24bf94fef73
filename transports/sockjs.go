package transports

import (
	"errors"
	"net/http"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// The SockJS dialect's carriers are the native ones (held poll, stream,
// WebSocket) speaking SockJS frames, with three differences the code below
// holds in one place:
//
//   - A new session greets its client with an o frame. The router creates
//     SockJS sessions on the first receive request, and tells the carrier
//     so (opened): a poll then answers o alone, a stream writes o after its
//     prelude.
//   - SockJS clients never acknowledge, and never come back for what a
//     broken request carried. A carrier acknowledges on the client's behalf
//     what it wrote, once the write went out; and a receiving request the
//     client ended before the server did closes the session with 1002
//     "Connection interrupted", as sockjs-node does.
//   - Every answer holds whole frames, one per poll: a JSONP callback takes
//     exactly one. Messages go out as one a[...] frame per batch; a batch
//     that ends the session puts its close frame after it, and a poll
//     leaves that close frame to the next poll.
//
// Binary messages (SendBinary) have no SockJS form: they go out as text,
// with each byte that is not UTF-8 as U+FFFD. The raw WebSocket endpoint
// is the exception and carries them as binary messages.

// sockjsKey names the SockJS quoting of a broadcast, cached in its Prepared.
type sockjsKey struct{}

func quoteSockJS(d []byte) []byte { return protocol.AppendSockJSQuote(nil, d) }

// appendSockJSMessages appends the a frame of msgs, reusing a broadcast's
// quoting across every session it goes to.
func appendSockJSMessages(dst []byte, msgs []session.Outgoing) []byte {
	dst = append(dst, 'a', '[')
	for i, m := range msgs {
		if i > 0 {
			dst = append(dst, ',')
		}
		if m.Prepared != nil {
			dst = append(dst, m.Prepared.Encoded(sockjsKey{}, quoteSockJS)...)
		} else {
			dst = protocol.AppendSockJSQuote(dst, m.Data)
		}
	}
	return append(dst, ']')
}

// appendSockJSClose appends the close frame a SockJS client gets for a
// session close or an attach refusal.
func appendSockJSClose(dst []byte, code protocol.CloseCode, reason string) []byte {
	code, reason = protocol.SockJSClose(code, reason)
	return protocol.AppendSockJSClose(dst, code, reason)
}

// lastSeq returns the number of the last message of b, or 0.
func lastSeq(b *session.Batch) uint64 {
	if n := len(b.Msgs); n > 0 {
		return b.Msgs[n-1].Seq
	}
	return 0
}

// interrupted closes a session whose receiving request the client ended
// first. It does nothing to a session already closed.
func interrupted(l *session.Link) {
	l.Fail(protocol.SockJSCloseInterrupted, "Connection interrupted")
}

// SockJSBusyGrace is how long a SockJS receive request waits for the
// session's attached receiver to go before it is refused with 2010. A
// client that abandons a request and makes a new one at once (an abort, a
// retry) often reaches the server before the server noticed the first one
// went; without the wait, the second would be refused for a receiver that
// no longer exists.
const SockJSBusyGrace = 50 * time.Millisecond

// attachSockJS attaches a receiver named name to l, waiting up to
// SockJSBusyGrace while another one is attached.
func attachSockJS(r *http.Request, l *session.Link, name string) (*session.Receiver, error) {
	var deadline time.Time
	for {
		rcv, err := l.Attach(name, 0)
		if !errors.Is(err, session.ErrReceiverBusy) {
			return rcv, err
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(SockJSBusyGrace)
		} else if time.Now().After(deadline) {
			return nil, err
		}
		t := time.NewTimer(SockJSBusyGrace / 10)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return nil, err
		}
	}
}

// sockjsStream is the streamWriter of the three SockJS streaming carriers;
// wrap, how one frame goes on the wire, is what differs between them.
type sockjsStream struct {
	l       *session.Link
	pre     []byte
	wrap    func(dst, frame []byte) []byte
	opening bool   // write o after the prelude
	frame   []byte // scratch for one frame
	last    uint64 // last message written, acknowledged once flushed
}

var (
	_ streamOpener = (*sockjsStream)(nil)
	_ streamAcker  = (*sockjsStream)(nil)
)

func (s *sockjsStream) prelude(dst []byte) []byte { return append(dst, s.pre...) }

func (s *sockjsStream) open(dst []byte) []byte {
	if !s.opening {
		return dst
	}
	s.frame = protocol.AppendSockJSOpen(s.frame[:0])
	return s.wrap(dst, s.frame)
}

func (s *sockjsStream) batch(dst []byte, b *session.Batch) []byte {
	if len(b.Msgs) > 0 {
		s.frame = appendSockJSMessages(s.frame[:0], b.Msgs)
		dst = s.wrap(dst, s.frame)
		s.last = lastSeq(b)
	}
	if b.Close {
		s.frame = appendSockJSClose(s.frame[:0], b.CloseCode, b.Reason)
		dst = s.wrap(dst, s.frame)
	}
	return dst
}

func (s *sockjsStream) heartbeat(dst []byte) []byte {
	s.frame = protocol.AppendSockJSHeartbeat(s.frame[:0])
	return s.wrap(dst, s.frame)
}

// limit writes nothing: a SockJS client re-opens a stream that just ends.
func (s *sockjsStream) limit(dst []byte) []byte { return dst }

func (s *sockjsStream) written() {
	if s.last != 0 {
		s.l.Ack(s.last)
	}
}

// sockjsStreamCarrier is what the SockJS streaming carriers share: the
// carrier name, the answer's content type and prelude, and the frame
// wrapping.
type sockjsStreamCarrier struct {
	cfg         Config
	maxBytes    int
	name        string
	contentType string
	prelude     []byte
	wrap        func(dst, frame []byte) []byte
}

// serve streams l. A refused attach (another receiver, a closed registry)
// still gets the prelude, then its close frame, as sockjs-node answers.
func (c *sockjsStreamCarrier) serve(w http.ResponseWriter, r *http.Request, l *session.Link, opened bool) {
	rcv, err := attachSockJS(r, l, c.name)
	if err != nil {
		c.refuse(w, err)
		return
	}
	defer rcv.Detach()
	c.headers(w.Header())
	sw := &sockjsStream{l: l, pre: c.prelude, wrap: c.wrap, opening: opened}
	if serveStream(w, r, rcv, c.cfg, sw, c.maxBytes) {
		interrupted(l)
	}
}

func (c *sockjsStreamCarrier) refuse(w http.ResponseWriter, err error) {
	code, reason := AttachErrorClose(err)
	c.headers(w.Header())
	w.WriteHeader(http.StatusOK)
	w.Write(c.prelude)
	http.NewResponseController(w).Flush() // the close frame is a chunk of its own
	w.Write(c.wrap(nil, appendSockJSClose(nil, code, reason)))
}

func (c *sockjsStreamCarrier) headers(h http.Header) {
	h.Set("Content-Type", c.contentType)
	h.Set("X-Accel-Buffering", "no") // ask nginx not to buffer this answer
}

// sockjsPoll is what the SockJS polling carriers (xhr, jsonp) share: a
// request held until there is one frame for the client, answered with it.
type sockjsPoll struct {
	cfg         Config
	name        string
	contentType string
}

// sockjsScript is the content type of SockJS's xhr and jsonp answers.
const sockjsScript = "application/javascript; charset=UTF-8"

// serve holds one poll on l; write wraps and writes the frame.
func (p *sockjsPoll) serve(w http.ResponseWriter, r *http.Request, l *session.Link, opened bool,
	write func(w http.ResponseWriter, frame []byte) error) {
	h := w.Header()
	SetHeaders(h, "Content-Type", p.contentType, "X-Content-Type-Options", "nosniff")
	if opened {
		write(w, protocol.AppendSockJSOpen(nil))
		return
	}
	rcv, err := attachSockJS(r, l, p.name)
	if err != nil {
		code, reason := AttachErrorClose(err)
		write(w, appendSockJSClose(nil, code, reason))
		return
	}
	defer rcv.Detach()
	rcv.AcksOnData()
	b := getBatch()
	defer putBatch(b)
	if hold(nil, r, rcv, p.cfg, b, "", nil) == holdLeft {
		interrupted(l)
		return
	}
	var frame []byte
	switch {
	case len(b.Msgs) > 0:
		// A close in the same batch waits for the next poll: one frame
		// per answer. Room for the newline xhr adds.
		frame = appendSockJSMessages(make([]byte, 0, batchSize(b)+1), b.Msgs)
	case b.Close:
		frame = appendSockJSClose(nil, b.CloseCode, b.Reason)
	default:
		frame = protocol.AppendSockJSHeartbeat(nil)
	}
	if write(w, frame) == nil && len(b.Msgs) > 0 {
		l.Ack(lastSeq(b))
	}
}

// refuse answers a request no session could be found or made for.
func (p *sockjsPoll) refuse(w http.ResponseWriter, err error, write func(w http.ResponseWriter, frame []byte) error) {
	h := w.Header()
	SetHeaders(h, "Content-Type", p.contentType, "X-Content-Type-Options", "nosniff")
	code, reason := AttachErrorClose(err)
	write(w, appendSockJSClose(nil, code, reason))
}
