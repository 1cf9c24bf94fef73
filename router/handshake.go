package router

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
	"github.com/tether-rt/tether/transports"
)

const (
	defaultPollInterval = time.Second
	maxHelloBytes       = 4 << 10
)

// serveHandshake opens or resumes a session for an HTTP carrier
// (SPEC.md §4.1): a POST with a JSON hello, or, for jsonp, a script GET
// with the hello in the query and the answer wrapped in a callback.
func (rt *Router) serveHandshake(w http.ResponseWriter, r *http.Request) {
	if !rt.authorize(w, r) {
		return
	}
	var h protocol.Hello
	var callback string
	var err error
	if r.Method == http.MethodGet {
		h, callback, err = helloFromQuery(r.URL.Query())
	} else {
		var body []byte
		if body, err = transports.ReadLimited(r.Body, maxHelloBytes); err == nil {
			h, err = protocol.DecodeHello(body)
		}
	}
	if err == nil && h.Transport == "" {
		err = errors.New("hello without a transport")
	}
	if err == nil && (!httpCarriers[h.Transport] || !rt.cfg.carriers[h.Transport]) {
		err = errors.New("transport not available over HTTP here: " + h.Transport)
	}
	if err != nil {
		http.Error(w, "bad hello: "+err.Error(), http.StatusBadRequest)
		return
	}
	_, open, err := rt.open(r, h, h.Transport)
	if callback == "" && (errors.Is(err, session.ErrTooManySessions) || errors.Is(err, session.ErrShuttingDown)) {
		// A script tag cannot read a status: JSONP gets the close frame.
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	var batch []byte
	if err != nil {
		code, reason := transports.AttachErrorClose(err)
		batch = transports.Native{}.AppendClose(nil, code, reason)
	} else {
		batch = append(open, '\n')
	}
	if callback != "" {
		transports.WriteJSONP(w, callback, batch)
		return
	}
	transports.WriteAnswer(w, "text/plain; charset=utf-8", batch)
}

// helloFromQuery reads a JSONP handshake: a script tag can only GET, so
// the hello's fields come as query parameters, with the callback in c.
func helloFromQuery(q url.Values) (protocol.Hello, string, error) {
	cb := q.Get("c")
	if !protocol.ValidCallback(cb) {
		return protocol.Hello{}, "", errors.New("invalid callback name: 1-64 letters, digits, '_' or '.'")
	}
	if q.Get("transport") != protocol.JSONP {
		return protocol.Hello{}, "", errors.New("a GET handshake is for the jsonp transport only")
	}
	v, err := strconv.Atoi(q.Get("v"))
	if err != nil {
		return protocol.Hello{}, "", errors.New("missing or malformed v")
	}
	h := protocol.Hello{V: v, Transport: protocol.JSONP, SID: q.Get("sid"), Token: q.Get("token")}
	if last := q.Get("last"); last != "" {
		if h.Last, err = protocol.ParseSeq(last); err != nil {
			return protocol.Hello{}, "", errors.New("malformed last")
		}
	}
	return h, cb, h.Validate()
}

// serveWebSocket runs the checks that must answer with an HTTP status
// before the upgrade, then hands the connection to the carrier, which reads
// the hello and calls back into open.
func (rt *Router) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if !rt.authorize(w, r) {
		return
	}
	if rt.reg.Stopping() {
		http.Error(w, session.ErrShuttingDown.Error(), http.StatusServiceUnavailable)
		return
	}
	if rt.reg.Len() >= rt.cfg.session.MaxSessions {
		http.Error(w, session.ErrTooManySessions.Error(), http.StatusServiceUnavailable)
		return
	}
	rt.ws.Serve(w, r, func(r *http.Request, h protocol.Hello) (*session.Link, []byte, error) {
		return rt.open(r, h, protocol.WebSocket)
	})
}

// open resumes the session a hello names, or creates one and runs the
// app's handler on it, and returns the open frame. A resume of a closed
// session still succeeds: the carrier then replays what was sent before
// the close and the close frame itself.
func (rt *Router) open(r *http.Request, h protocol.Hello, transport string) (*session.Link, []byte, error) {
	var l *session.Link
	resumed := h.Resume()
	if resumed {
		var err error
		if l, err = rt.reg.Lookup(h.SID, h.Token); err != nil {
			return nil, nil, err
		}
		l.Touch()
	} else {
		var err error
		if l, err = rt.reg.Create(rt.cfg.sessionRequest(r), transport); err != nil {
			return nil, nil, err
		}
		if rt.handler != nil {
			rt.handler(l.Session())
		}
	}
	o := rt.cfg.session
	open := protocol.AppendOpen(nil, protocol.Open{
		V:          protocol.Version,
		SID:        l.Session().ID(),
		Token:      l.Token(),
		Resumed:    resumed,
		Ack:        l.AckAnswer(),
		Heartbeat:  o.HeartbeatInterval.Milliseconds(),
		Timeout:    o.HeartbeatTimeout.Milliseconds(),
		Poll:       rt.cfg.PollInterval.Milliseconds(),
		MaxMessage: o.MaxMessageSize,
		MaxSend:    transports.MaxSend(&o),
	})
	return l, open, nil
}
