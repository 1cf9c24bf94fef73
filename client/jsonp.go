package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"

	"github.com/tether-rt/tether/protocol"
)

// jsonp speaks the carrier of pages that can do nothing but load scripts
// and post forms (SPEC.md §4.1, §5), the way such a page does, so that
// `tether dial -transport jsonp` exercises what those pages rely on:
//
//   - the handshake is GET /handshake?transport=jsonp&v=1&c=<callback> with
//     the hello's fields in the query;
//   - receiving is GET /jsonp?sid=&ack=&token=&c=<callback>, held like a
//     long poll;
//   - both answer `/**/<callback>("<batch>");`, the batch as a JavaScript
//     string literal, which is a JSON string with more escapes, so
//     encoding/json reads it;
//   - sending is a form POST to /send?sid= with fields token and d (the
//     batch). A page cannot read its answer; this carrier does, since it is
//     the same a<in> batch as on other carriers and acks come sooner so.
//
// The token never goes in a header, since neither a script tag nor a form
// can send one.
type jsonp struct {
	httpBase
	calls atomic.Uint64 // numbers the callbacks, as pages do
}

var _ batchBounder = (*jsonp)(nil)

func newJSONP(base *url.URL, o *Options) *jsonp {
	return &jsonp{httpBase: newHTTPBase(protocol.JSONP, base, o)}
}

// callback returns a fresh callback name; checking that an answer calls
// the one asked for catches an answer meant for another request.
func (j *jsonp) callback() string {
	return "__tether.j" + strconv.FormatUint(j.calls.Add(1), 10)
}

func (j *jsonp) handshake(ctx context.Context, h protocol.Hello) (protocol.Open, []protocol.Frame, error) {
	cb := j.callback()
	u := endpoint(j.base, "handshake", true) // the mount's query is the app's
	q := u.Query()
	q.Set("transport", protocol.JSONP)
	q.Set("v", strconv.Itoa(protocol.Version))
	q.Set("c", cb)
	if h.SID != "" {
		q.Set("sid", h.SID)
		q.Set("token", h.Token)
		q.Set("last", strconv.FormatUint(h.Last, 10))
	}
	u.RawQuery = q.Encode()
	status, body, err := j.script(ctx, u)
	if err != nil {
		return protocol.Open{}, nil, err
	}
	if status != http.StatusOK {
		return protocol.Open{}, nil, &HandshakeError{Status: status, Reason: reason(body)}
	}
	batch, err := unwrapJSONP(body, cb)
	if err != nil {
		return protocol.Open{}, nil, err
	}
	open, rest, err := openAnswer(status, batch)
	if err != nil {
		return protocol.Open{}, nil, err
	}
	j.sid, j.token = open.SID, open.Token
	return open, rest, nil
}

func (j *jsonp) receive(ctx context.Context, ack uint64) ([]protocol.Frame, error) {
	cb := j.callback()
	u := endpoint(j.base, protocol.JSONP, false)
	u.RawQuery = url.Values{
		"sid": {j.sid}, "ack": {strconv.FormatUint(ack, 10)}, "token": {j.token}, "c": {cb},
	}.Encode()
	status, body, err := j.script(ctx, u)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &statusError{status: status, reason: reason(body)}
	}
	batch, err := unwrapJSONP(body, cb)
	if err != nil {
		return nil, err
	}
	return protocol.DecodeBatch(batch)
}

// script runs a GET as a script tag would: no token header.
func (j *jsonp) script(ctx context.Context, u *url.URL) (int, []byte, error) {
	req, err := j.request(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Del(tokenHeader)
	return j.do(req)
}

func (j *jsonp) send(ctx context.Context, batch []byte) ([]protocol.Frame, error) {
	u := endpoint(j.base, "send", false)
	u.RawQuery = url.Values{"sid": {j.sid}}.Encode()
	form := url.Values{"token": {j.token}, "d": {string(batch)}}.Encode()
	req, err := j.request(ctx, http.MethodPost, u, []byte(form))
	if err != nil {
		return nil, err
	}
	req.Header.Del(tokenHeader)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body, err := j.do(req)
	if err != nil {
		return nil, err
	}
	return sendAnswer(status, body)
}

// maxBatch keeps a batch's form encoding within the server's bounds: the
// router reads a form of up to 2 × maxSend bytes, and URL-encoding makes
// up to three bytes of one (non-ASCII text is sent raw in JSON strings).
// A single message larger than that still goes alone.
func (j *jsonp) maxBatch(maxSend int) int { return maxSend / 3 }

// unwrapJSONP returns the batch in `/**/<callback>("<batch>");`.
func unwrapJSONP(body []byte, callback string) ([]byte, error) {
	s := bytes.TrimSpace(body)
	s = bytes.TrimPrefix(s, []byte("/**/"))
	call, ok := bytes.CutPrefix(s, []byte(callback+"("))
	if !ok {
		return nil, fmt.Errorf("tether: jsonp answer does not call %s: %q", callback, head(body))
	}
	call = bytes.TrimSuffix(call, []byte(";"))
	arg, ok := bytes.CutSuffix(call, []byte(")"))
	if !ok {
		return nil, fmt.Errorf("tether: malformed jsonp answer: %q", head(body))
	}
	var batch string
	if err := json.Unmarshal(arg, &batch); err != nil {
		return nil, errors.New("tether: jsonp answer's argument is not a string: " + err.Error())
	}
	return []byte(batch), nil
}

// head returns the start of body for an error message.
func head(body []byte) []byte { return body[:min(len(body), 64)] }
