package transports

import (
	"net/http"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// JSONP is the `jsonp` receive carrier, for clients without CORS XHR: a
// <script> GET held like a long poll and answered with
// callback("<batch>"). The callback name is validated by the router before
// any session is touched; it is the injection vector of this carrier.
type JSONP struct {
	cfg Config
}

// NewJSONP returns the JSONP carrier for cfg.
func NewJSONP(cfg Config) *JSONP { return &JSONP{cfg: cfg} }

// WithCallback returns the carrier bound to one request's callback name,
// which the caller must have checked with protocol.ValidCallback.
func (j *JSONP) WithCallback(callback string) *JSONPRequest {
	return &JSONPRequest{j: j, callback: callback}
}

// JSONPRequest is the JSONP carrier for one script request.
type JSONPRequest struct {
	j        *JSONP
	callback string
}

// Serve holds one script request on l, after the client acknowledged ack,
// and answers with a call of the callback.
func (q *JSONPRequest) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, ack uint64) {
	serveHeld(w, r, l, ack, q.j.cfg, heldCarrier{name: protocol.JSONP, contentType: jsonpContentType,
		wrap: func(batch []byte) []byte { return JSONPBody(q.callback, batch) }})
}

// Refuse answers with the close frame inside the callback, since a script
// tag cannot read an error status.
func (q *JSONPRequest) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	code, reason := AttachErrorClose(err)
	WriteJSONP(w, q.callback, q.j.cfg.framer().AppendClose(nil, code, reason))
}

const jsonpContentType = "application/javascript; charset=utf-8"

// JSONPBody wraps a batch in a call of callback. The batch is a JSON string
// with <, > and & escaped, so no byte of it can end the script element.
func JSONPBody(callback string, batch []byte) []byte {
	out := make([]byte, 0, len(callback)+len(batch)+16)
	out = append(out, "/**/"...) // keeps a leading byte from being read as a type
	out = append(out, callback...)
	out = append(out, '(')
	out = protocol.AppendQuoteHTML(out, batch)
	return append(out, ");\n"...)
}

// WriteJSONP answers a script request with callback(batch).
func WriteJSONP(w http.ResponseWriter, callback string, batch []byte) {
	WriteAnswer(w, jsonpContentType, JSONPBody(callback, batch))
}
