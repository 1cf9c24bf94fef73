package transports

import (
	"net/http"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// SockJSJSONP is the jsonp (jsonp-polling) carrier of the SockJS dialect,
// for browsers without CORS: a <script> GET held like an xhr poll and
// answered with /**/callback("frame");. The router checks the callback
// name before any session is touched.
type SockJSJSONP struct {
	p sockjsPoll
}

// NewSockJSJSONP returns the jsonp carrier for cfg.
func NewSockJSJSONP(cfg Config) *SockJSJSONP {
	return &SockJSJSONP{sockjsPoll{cfg: cfg, name: protocol.SockJSJSONP,
		contentType: sockjsScript}}
}

// WithCallback returns the carrier bound to one request's callback name,
// which the caller must have checked with protocol.ValidSockJSCallback.
func (j *SockJSJSONP) WithCallback(callback string) *SockJSJSONPRequest {
	return &SockJSJSONPRequest{j: j, callback: callback}
}

// SockJSJSONPRequest is the jsonp carrier for one script request.
type SockJSJSONPRequest struct {
	j        *SockJSJSONP
	callback string
}

// Serve answers one poll on l, as SockJSXHR.Serve does.
func (q *SockJSJSONPRequest) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, opened bool) {
	q.j.p.serve(w, r, l, opened, q.write)
}

// Refuse answers with the close frame for err inside the callback, since a
// script cannot read an error status.
func (q *SockJSJSONPRequest) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	q.j.p.refuse(w, err, q.write)
}

func (q *SockJSJSONPRequest) write(w http.ResponseWriter, frame []byte) error {
	_, err := w.Write(protocol.AppendSockJSJSONP(nil, q.callback, frame))
	return err
}
