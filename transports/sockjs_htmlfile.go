package transports

import (
	"net/http"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// SockJSHTMLFile is the htmlfile carrier of the SockJS dialect, for
// browsers with neither streaming XHR nor EventSource: an HTML page,
// loaded in a hidden iframe, that streams one <script> element per frame,
// each calling back into the parent page's callback. The router checks
// the callback name before any session is touched.
type SockJSHTMLFile struct {
	cfg      Config
	maxBytes int
}

// NewSockJSHTMLFile returns the htmlfile carrier; maxBytes <= 0 means
// SockJSResponseLimit.
func NewSockJSHTMLFile(cfg Config, maxBytes int) *SockJSHTMLFile {
	if maxBytes <= 0 {
		maxBytes = SockJSResponseLimit
	}
	return &SockJSHTMLFile{cfg: cfg, maxBytes: maxBytes}
}

// WithCallback returns the carrier bound to one request's callback name,
// which the caller must have checked with protocol.ValidSockJSCallback.
func (h *SockJSHTMLFile) WithCallback(callback string) *SockJSHTMLFileRequest {
	return &SockJSHTMLFileRequest{sockjsStreamCarrier{cfg: h.cfg, maxBytes: h.maxBytes,
		name: protocol.SockJSHTMLFile, contentType: "text/html; charset=UTF-8",
		prelude: protocol.AppendSockJSHTMLFilePrelude(nil, callback), wrap: protocol.AppendSockJSHTMLFile}}
}

// SockJSHTMLFileRequest is the htmlfile carrier for one page request.
type SockJSHTMLFileRequest struct {
	c sockjsStreamCarrier
}

// Serve streams l as script elements; opened says the request just
// created the session, whose open frame is then the first of them.
func (q *SockJSHTMLFileRequest) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, opened bool) {
	q.c.serve(w, r, l, opened)
}

// Refuse answers with the page and the close frame for err.
func (q *SockJSHTMLFileRequest) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	q.c.refuse(w, err)
}
