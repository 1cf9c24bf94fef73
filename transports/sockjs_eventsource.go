package transports

import (
	"net/http"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// SockJSEventSource is the eventsource carrier of the SockJS dialect: each
// frame is one server-sent event, data: <frame>, with '%', CR, LF and NUL
// escaped URI-style (the client decodes them). Unlike the native carrier
// it sends no event ids: a SockJS session cannot be resumed, so when the
// answer ends at the byte limit, the client opens a new request itself.
type SockJSEventSource struct {
	c sockjsStreamCarrier
}

// NewSockJSEventSource returns the eventsource carrier; maxBytes <= 0 means
// SockJSResponseLimit.
func NewSockJSEventSource(cfg Config, maxBytes int) *SockJSEventSource {
	if maxBytes <= 0 {
		maxBytes = SockJSResponseLimit
	}
	// The prelude is one blank line, which an old Opera needed.
	return &SockJSEventSource{sockjsStreamCarrier{cfg: cfg, maxBytes: maxBytes,
		name: protocol.SockJSEventSource, contentType: "text/event-stream",
		prelude: []byte("\r\n"), wrap: appendEvent}}
}

// Serve streams l as server-sent events; opened says the request just
// created the session, whose open frame is then the first event.
func (e *SockJSEventSource) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, opened bool) {
	e.c.serve(w, r, l, opened)
}

// Refuse answers with the prelude and the close frame for err as an event.
func (e *SockJSEventSource) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	e.c.refuse(w, err)
}

func appendEvent(dst, frame []byte) []byte {
	dst = append(dst, "data: "...)
	dst = protocol.AppendSockJSEventData(dst, frame)
	return append(dst, "\r\n\r\n"...)
}
