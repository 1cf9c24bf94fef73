package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tether-rt/tether/protocol"
)

// httpBase is what every HTTP carrier shares: the JSON handshake, the send
// path (POST /send) and a receive GET. A carrier embeds it, adds its
// receive method and overrides what differs (jsonp: handshake and send).
type httpBase struct {
	name   string // the carrier name sent in the hello
	client *http.Client
	base   *url.URL
	header http.Header
	origin string

	// carry asks the server to put its messages in send answers too
	// (carry=1, SPEC.md §5 "Messages on the send answer"). The longpoll and
	// polling carriers ask: their receive waits for a request of its own,
	// so a reply that rides on the send answer saves that request (the
	// wait for the next poll, for polling). Streams deliver at once on the
	// answer they hold open, and a send answer carrying too could only
	// overtake them (a gap, which costs a resume); jsonp overrides send
	// with a form post, which never carries.
	carry bool

	// Set by handshake, read-only afterwards.
	sid, token string
}

// tokenHeader carries the session token on every request that can send
// headers (SPEC.md §5).
const tokenHeader = "X-Tether-Token"

func newHTTPBase(name string, base *url.URL, o *Options) httpBase {
	return httpBase{name: name, client: o.HTTPClient, base: base, header: o.Header, origin: o.Origin}
}

func (h *httpBase) request(ctx context.Context, method string, u *url.URL, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, err
	}
	for k, v := range h.header {
		req.Header[k] = v
	}
	if h.origin != "" {
		req.Header.Set("Origin", h.origin)
	}
	if h.token != "" {
		req.Header.Set(tokenHeader, h.token)
	}
	return req, nil
}

// do runs req and returns the status and at most maxBodyBytes of the body.
func (h *httpBase) do(req *http.Request) (int, []byte, error) {
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

func (h *httpBase) handshake(ctx context.Context, hello protocol.Hello) (protocol.Open, []protocol.Frame, error) {
	hello.V = protocol.Version
	hello.Transport = h.name
	js, err := json.Marshal(hello)
	if err != nil {
		return protocol.Open{}, nil, err
	}
	req, err := h.request(ctx, http.MethodPost, endpoint(h.base, "handshake", true), js)
	if err != nil {
		return protocol.Open{}, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	status, body, err := h.do(req)
	if err != nil {
		return protocol.Open{}, nil, err
	}
	if status != http.StatusOK {
		return protocol.Open{}, nil, &HandshakeError{Status: status, Reason: reason(body)}
	}
	open, rest, err := openAnswer(status, body)
	if err != nil {
		return protocol.Open{}, nil, err
	}
	h.sid, h.token = open.SID, open.Token
	return open, rest, nil
}

// openAnswer decodes a handshake answer: an o frame, or a close frame,
// which is a refusal.
func openAnswer(status int, batch []byte) (protocol.Open, []protocol.Frame, error) {
	frames, err := protocol.DecodeBatch(batch)
	if err != nil {
		return protocol.Open{}, nil, err
	}
	if len(frames) == 0 {
		return protocol.Open{}, nil, errors.New("tether: empty handshake answer")
	}
	f := frames[0]
	switch f.Type {
	case protocol.FrameOpen:
		open, err := protocol.DecodeOpen(f.Data)
		return open, frames[1:], err
	case protocol.FrameClose:
		return protocol.Open{}, nil, &HandshakeError{Status: status, Code: f.Code, Reason: f.Reason}
	}
	return protocol.Open{}, nil, fmt.Errorf("tether: handshake answered with a %q frame", f.Type)
}

// receiveGET runs GET <prefix>/<path>?sid=&ack= and decodes its batch.
func (h *httpBase) receiveGET(ctx context.Context, path string, ack uint64) ([]protocol.Frame, error) {
	u := endpoint(h.base, path, false)
	u.RawQuery = url.Values{"sid": {h.sid}, "ack": {strconv.FormatUint(ack, 10)}}.Encode()
	req, err := h.request(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	status, body, err := h.do(req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &statusError{status: status, reason: reason(body)}
	}
	return protocol.DecodeBatch(body)
}

// send posts one batch to <prefix>/send. The two answers that end the
// session without a close frame become CloseErrors (SPEC.md §8). With
// carry, the answer may hold server messages after its a<in> frame; the
// Conn's writer hands every frame of the answer to Conn.handle, the path
// of receive answers, which drops a number it has and abandons the
// carrier on a gap, so that the resume replays from the last it has.
func (h *httpBase) send(ctx context.Context, batch []byte) ([]protocol.Frame, error) {
	u := endpoint(h.base, "send", false)
	q := url.Values{"sid": {h.sid}}
	if h.carry {
		q.Set("carry", "1")
	}
	u.RawQuery = q.Encode()
	req, err := h.request(ctx, http.MethodPost, u, batch)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	status, body, err := h.do(req)
	if err != nil {
		return nil, err
	}
	return sendAnswer(status, body)
}

// sendAnswer decodes the answer to a send request.
func sendAnswer(status int, body []byte) ([]protocol.Frame, error) {
	switch status {
	case http.StatusOK:
		return protocol.DecodeBatch(body)
	case http.StatusRequestEntityTooLarge:
		return nil, &CloseError{Code: protocol.CloseMessageTooBig, Reason: reason(body)}
	case http.StatusBadRequest:
		return nil, &CloseError{Code: protocol.CloseProtocolError, Reason: reason(body)}
	}
	return nil, &statusError{status: status, reason: reason(body)}
}

// close has nothing to release: requests end with the contexts the Conn
// gives them, and the Conn closes idle connections when it ends.
func (h *httpBase) close() {}

// reason turns an HTTP error body into a one-line reason.
func reason(body []byte) string {
	s := strings.TrimSpace(string(body))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
