package transports

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// EventSource is the `eventsource` carrier: a text/event-stream answer for
// browsers whose streaming XHR is buffered. Every message event's id is its
// sequence number, so when the browser's own EventSource reconnects it
// sends Last-Event-ID and the session resumes after exactly that message.
// At the byte limit the answer just ends, and that reconnection is how the
// stream continues.
type EventSource struct {
	cfg      Config
	maxBytes int
}

// NewEventSource returns the EventSource carrier; maxBytes <= 0 means
// DefaultMaxStreamBytes.
func NewEventSource(cfg Config, maxBytes int) *EventSource {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxStreamBytes
	}
	return &EventSource{cfg: cfg, maxBytes: maxBytes}
}

// Serve streams l as server-sent events, after the client acknowledged
// ack or, if larger, the Last-Event-ID the browser sent.
func (e *EventSource) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, ack uint64) {
	if id, err := protocol.ParseSeq(r.Header.Get("Last-Event-ID")); err == nil && id > ack {
		ack = id
	}
	rcv, err := l.Attach(protocol.EventSource, ack)
	if err != nil {
		e.Refuse(w, r, err)
		return
	}
	defer rcv.Detach()
	eventHeaders(w.Header())
	unchunked(w.Header())
	serveStream(w, r, rcv, e.cfg, sseStream{}, e.maxBytes)
}

// Refuse answers as an event stream, so the page's EventSource sees the
// close frame as an event instead of an error it cannot read.
func (e *EventSource) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	code, reason := AttachErrorClose(err)
	eventHeaders(w.Header())
	w.Write(sseEvent(nil, 0, protocol.AppendClose(nil, code, reason)))
}

func eventHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no")
	SetNoCache(h)
}

// sseStream writes each frame as one event; message frames carry their
// sequence number as the event id.
type sseStream struct{}

// ssePrelude is a comment of padding, a retry hint so the browser comes
// back quickly when the answer ends at the byte limit, and one heartbeat
// event: comments never reach script, so without it a client could not
// tell a live stream from one a proxy is buffering.
var ssePrelude = append(append([]byte(":"), bytes.Repeat([]byte(" "), PreludeBytes)...), "\nretry: 100\n\ndata: h\n\n"...)

func (sseStream) prelude(dst []byte) []byte { return append(dst, ssePrelude...) }

// batch writes every frame straight into dst, each between its event's
// "data: " and blank line.
func (sseStream) batch(dst []byte, b *session.Batch) []byte {
	if b.Ack != 0 {
		dst = append(dst, "data: "...)
		dst = append(protocol.AppendAck(dst, b.Ack), "\n\n"...)
	}
	for _, m := range b.Msgs {
		dst = append(dst, "id: "...)
		dst = strconv.AppendUint(dst, m.Seq, 10)
		dst = append(dst, "\ndata: "...)
		dst = append(AppendMessage(dst, m), "\n\n"...)
	}
	if b.Close {
		dst = append(dst, "data: "...)
		dst = append(protocol.AppendClose(dst, b.CloseCode, b.Reason), "\n\n"...)
	}
	return dst
}

func (sseStream) heartbeat(dst []byte) []byte { return append(dst, "data: h\n\n"...) }
func (sseStream) limit(dst []byte) []byte     { return dst }
func (sseStream) yield(dst []byte) []byte {
	return sseEvent(dst, 0, protocol.AppendClose(nil, protocol.CloseCarrierReplaced, protocol.CloseCarrierReplaced.String()))
}

// sseEvent appends one event. A frame never holds a newline, so one data
// line carries it whole.
func sseEvent(dst []byte, id uint64, frame []byte) []byte {
	if id != 0 {
		dst = append(dst, "id: "...)
		dst = strconv.AppendUint(dst, id, 10)
		dst = append(dst, '\n')
	}
	dst = append(dst, "data: "...)
	dst = append(dst, frame...)
	return append(dst, '\n', '\n')
}
