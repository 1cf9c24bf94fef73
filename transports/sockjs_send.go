package transports

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// SockJSSend is the send path of the SockJS dialect: xhr_send takes a JSON
// array of strings as its body and answers 204; jsonp_send takes it in the
// form field d (or as a raw text/plain body) and answers 200 "ok", since
// old browsers mishandle a 204 to a form. SockJS clients number nothing:
// messages are numbered as they arrive, and a request's messages reach the
// app in order.
type SockJSSend struct {
	cfg Config
}

// NewSockJSSend returns the send path for cfg.
func NewSockJSSend(cfg Config) *SockJSSend { return &SockJSSend{cfg: cfg} }

// Serve reads the payload of r and hands its messages to the session find
// returns; form says jsonp_send. As sockjs-node does, the payload is
// checked before the session is looked up: a bad one is 500 with the
// protocol's text (protocol.ErrSockJSPayloadExpected,
// protocol.ErrSockJSBrokenJSON) whatever the session, an unknown session is
// 404. A body or message over the limits is 413 and closes the session
// with CloseMessageTooBig. Messages sent to a closed session are dropped,
// and the answer is the usual one.
func (s *SockJSSend) Serve(w http.ResponseWriter, r *http.Request, form bool, find func() (*session.Link, error)) {
	opts := s.cfg.Session
	limit := MaxSend(opts)
	if form {
		limit *= 3 // URL-encoding can triple a payload (%XX per byte)
	}
	body, err := readBody(r.Body, r.ContentLength, limit)
	closeRead(r, err)
	switch {
	case errors.Is(err, ErrBodyTooBig):
		s.tooBig(w, find, "send body over the limit")
		return
	case err != nil:
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if form {
		body = formPayload(r.Header.Get("Content-Type"), body)
	}
	var buf [4][]byte // a payload's usual few messages, on the stack
	msgs, err := protocol.AppendSockJSPayload(buf[:0], body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	l, err := find()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	for _, m := range msgs {
		if len(m) > opts.MaxMessageSize {
			s.tooBig(w, func() (*session.Link, error) { return l, nil }, "message over the limit")
			return
		}
	}
	l.Touch()
	for _, m := range msgs {
		if err := l.DeliverNext(r.Context(), false, m); err != nil {
			if r.Context().Err() != nil {
				return // the client left
			}
			break // the session closed: the rest is dropped, as it would be anyway
		}
	}
	l.Touch()
	SetHeaders(w.Header(), "Content-Type", "text/plain; charset=UTF-8")
	if form {
		w.Write([]byte("ok"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *SockJSSend) tooBig(w http.ResponseWriter, find func() (*session.Link, error), msg string) {
	if l, err := find(); err == nil {
		l.Fail(protocol.CloseMessageTooBig, "message too big")
	}
	http.Error(w, msg, http.StatusRequestEntityTooLarge)
}

// formPayload finds a jsonp_send payload: the field d of a form, or the
// raw body of a text/plain (or untyped) request. Any other content type
// has no payload, as with sockjs-node.
func formPayload(contentType string, body []byte) []byte {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/x-www-form-urlencoded":
		q, _ := url.ParseQuery(string(body)) // what parses is used, as browsers send it
		return []byte(q.Get("d"))
	case "text/plain", "":
		return body
	}
	return nil
}
