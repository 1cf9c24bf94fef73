package transports

import (
	"bytes"
	"net/http"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// SockJSXHRStreaming is the xhr_streaming carrier of the SockJS dialect:
// the native streaming carrier with SockJS frames. The answer starts with
// 2048 'h' bytes and a newline, which browsers hold back before they hand
// a response to script, then carries one frame per line, flushed as it
// comes, and ends after maxBytes of frames; the client opens the next one.
type SockJSXHRStreaming struct {
	c sockjsStreamCarrier
}

var sockjsStreamingPrelude = append(bytes.Repeat([]byte("h"), PreludeBytes), '\n')

// NewSockJSXHRStreaming returns the xhr_streaming carrier; maxBytes <= 0
// means SockJSResponseLimit.
func NewSockJSXHRStreaming(cfg Config, maxBytes int) *SockJSXHRStreaming {
	if maxBytes <= 0 {
		maxBytes = SockJSResponseLimit
	}
	return &SockJSXHRStreaming{sockjsStreamCarrier{cfg: cfg, maxBytes: maxBytes,
		name: protocol.SockJSXHRStreaming, contentType: "application/javascript; charset=UTF-8",
		prelude: sockjsStreamingPrelude, wrap: appendLine}}
}

// Serve streams l; opened says the request just created the session,
// whose open frame then follows the prelude.
func (s *SockJSXHRStreaming) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, opened bool) {
	s.c.serve(w, r, l, opened)
}

// Refuse answers with the prelude and the close frame for err.
func (s *SockJSXHRStreaming) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	s.c.refuse(w, err)
}

func appendLine(dst, frame []byte) []byte { return append(append(dst, frame...), '\n') }
