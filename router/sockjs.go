package router

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
	"github.com/tether-rt/tether/transports"
)

// SockJS serves the SockJS dialect (protocol 0.3.3, for sockjs-client 1.x
// and every library built on it) under one prefix, on the same sessions as
// the native dialect: the app's Handler gets the same Conn, whose ID is a
// server-assigned uuid as always (the session key a SockJS client puts in
// its URLs is not it), so one handler can serve both dialects.
//
// Under the prefix it serves the welcome page (the prefix itself, with or
// without a slash), /info, /iframe.html (and /iframe-<version>.html), the
// raw WebSocket endpoint /websocket, and /<server>/<session>/<transport>
// for websocket, xhr, xhr_send, xhr_streaming, eventsource, htmlfile,
// jsonp and jsonp_send. The prefix is part of the layout (the welcome page
// lives at the prefix itself), so the handler must see full paths: mount
// it at both the prefix and the prefix with a slash on an http.ServeMux
// (`mux.Handle("/echo", s); mux.Handle("/echo/", s)`), or with
// gorilla/mux's PathPrefix("/echo"). It is safe for concurrent use.
type SockJS struct {
	cfg     sockjsConfig
	prefix  string
	handler Handler
	reg     *session.Registry
	keys    *sockjsSessions
	mux     *mux.Router
	iframe  asset

	xhr         *transports.SockJSXHR
	jsonp       *transports.SockJSJSONP
	streaming   *transports.SockJSXHRStreaming
	eventsource *transports.SockJSEventSource
	htmlfile    *transports.SockJSHTMLFile
	send        *transports.SockJSSend
	ws, rawWS   *transports.SockJSWebSocket
}

// sockjsReceiver is what the router needs of a SockJS receiving transport:
// serve a request on a session (opened: the request just created it), or
// refuse it in the transport's own format.
type sockjsReceiver interface {
	Serve(w http.ResponseWriter, r *http.Request, l *session.Link, opened bool)
	Refuse(w http.ResponseWriter, r *http.Request, err error)
}

// Longest callback names accepted: sockjs-node's 32 for jsonp; htmlfile,
// which it does not bound, gets a generous bound all the same.
const (
	maxJSONPCallback    = 32
	maxHTMLFileCallback = 256
)

// NewSockJS returns a SockJS router for the URL prefix it is mounted at
// ("/echo": no trailing slash; "" when http.StripPrefix removed it), that
// runs h for each new session. opts may be nil. It panics on options that
// cannot work, as a server should not start with them.
func NewSockJS(prefix string, h Handler, opts *SockJSOptions) *SockJS {
	cfg, err := newSockJSConfig(opts)
	if err == nil && (strings.HasSuffix(prefix, "/") || strings.ContainsAny(prefix, "{}") ||
		prefix != "" && prefix[0] != '/') {
		err = fmt.Errorf("prefix %q: want \"\" or a path like /echo, without a trailing slash", prefix)
	}
	if err != nil {
		panic("tether: " + err.Error())
	}
	s := &SockJS{cfg: cfg, prefix: prefix, handler: h, reg: session.NewRegistry(&cfg.base.session)}
	s.keys = newSockJSSessions(s.reg)
	s.iframe = sockjsIframe(cfg.ClientURL)
	tc := transports.Config{Session: s.reg.Options(), Logger: cfg.Logger}
	s.xhr = transports.NewSockJSXHR(tc)
	s.jsonp = transports.NewSockJSJSONP(tc)
	s.streaming = transports.NewSockJSXHRStreaming(tc, cfg.ResponseLimit)
	s.eventsource = transports.NewSockJSEventSource(tc, cfg.ResponseLimit)
	s.htmlfile = transports.NewSockJSHTMLFile(tc, cfg.ResponseLimit)
	s.send = transports.NewSockJSSend(tc)
	s.ws = transports.NewSockJSWebSocket(tc, cfg.base.originAllowed, false)
	s.rawWS = transports.NewSockJSWebSocket(tc, cfg.base.originAllowed, true)
	s.routes()
	return s
}

// routes lays the URLs out. Paths are matched as the client wrote them:
// not cleaned (// is not /), not unescaped, as sockjs-node matches them.
func (s *SockJS) routes() {
	m := mux.NewRouter().SkipClean(true).UseEncodedPath()
	p := s.prefix // mux quotes what is outside braces, and NewSockJS refused braces
	// A template cannot match the empty path of a prefix http.StripPrefix
	// removed.
	m.MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool {
		path := r.URL.EscapedPath()
		return path == p || path == p+"/"
	}).HandlerFunc(s.serveWelcome)
	m.Path(p + "/info{slash:/?}").HandlerFunc(s.serveInfo)
	m.Path(p + `/{page:iframe[0-9a-z_.-]*\.html}{slash:/?}`).HandlerFunc(s.serveIframe)
	m.Path(p + "/websocket{slash:/?}").HandlerFunc(s.serveRawWebSocket)
	// ServeHTTP matches this one itself (sessionPath); the route stays so
	// the layout reads in one place.
	m.Path(p + "/{server:[^/.]+}/{session:[^/.]+}/{transport:[a-z_]+}{slash:/?}").HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			v := mux.Vars(r)
			s.serveSession(w, r, v["session"], v["transport"])
		})
	m.NotFoundHandler = http.HandlerFunc(sockjsNotFound)
	s.mux = m
}

// ServeHTTP implements http.Handler. A session's requests, nearly all of
// them, skip the mux: matching them there copied the request twice and ran
// regular expressions, most of what a polling round trip allocated here.
func (s *SockJS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if key, name, ok := s.sessionPath(r.URL.EscapedPath()); ok {
		s.serveSession(w, r, key, name)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// sessionPath matches what the route <prefix>/{server:[^/.]+}/
// {session:[^/.]+}/{transport:[a-z_]+}{slash:/?} matches, on the path as
// the client wrote it, and returns the session key and transport name.
// No other route has three segments, so none is shadowed.
func (s *SockJS) sessionPath(path string) (key, name string, ok bool) {
	n := len(s.prefix)
	if len(path) <= n || path[:n] != s.prefix || path[n] != '/' {
		return "", "", false
	}
	rest := strings.TrimSuffix(path[n+1:], "/")
	server, rest, ok1 := strings.Cut(rest, "/")
	key, name, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !sockjsSegment(server) || !sockjsSegment(key) || name == "" {
		return "", "", false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < 'a' || c > 'z') && c != '_' {
			return "", "", false
		}
	}
	return key, name, true
}

// sockjsSegment reports whether seg matches [^/.]+.
func sockjsSegment(seg string) bool {
	return seg != "" && !strings.ContainsAny(seg, "/.")
}

// Shutdown stops new sessions, closes every session with CloseShutdown
// (its clients get c[4202,"server shutting down"]), and returns when all
// are closed and their close frames were handed to their transports, or
// when ctx ends.
func (s *SockJS) Shutdown(ctx context.Context) error { return s.reg.Shutdown(ctx) }

// Sessions returns the number of sessions held, closed ones awaiting
// collection included.
func (s *SockJS) Sessions() int { return s.reg.Len() }

// allow answers 405 unless r's method is one of methods, as sockjs-node
// does: an Allow header, no body.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	w.WriteHeader(http.StatusMethodNotAllowed)
	return false
}

// checkOrigin answers 403 for a browser request from an origin the policy
// does not allow.
func (s *SockJS) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.base.originAllowed(r) {
		return true
	}
	http.Error(w, "origin not allowed", http.StatusForbidden)
	return false
}

func sockjsNotFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte("404 Error: Page not found\n"))
}

// serveSession dispatches /<server>/<session>/<transport>. The server
// segment is for load balancers and is ignored.
func (s *SockJS) serveSession(w http.ResponseWriter, r *http.Request, key, name string) {
	switch name {
	case "websocket":
		if s.cfg.DisableWebSocket {
			sockjsNotFound(w, r)
			return
		}
		if allow(w, r, http.MethodGet) {
			s.serveWebSocket(w, r, s.ws)
		}
	case "xhr", "xhr_streaming", "xhr_send":
		if !allow(w, r, http.MethodPost, http.MethodOptions) || !s.checkOrigin(w, r) {
			return
		}
		xhrSessionHeaders(w.Header(), r)
		s.jsessionID(w, r)
		if r.Method == http.MethodOptions {
			sockjsPreflight(w, "OPTIONS, POST")
			return
		}
		switch name {
		case "xhr":
			s.serveReceive(w, r, key, protocol.SockJSXHRPolling, s.xhr)
		case "xhr_streaming":
			s.serveReceive(w, r, key, protocol.SockJSXHRStreaming, s.streaming)
		default:
			s.send.Serve(w, r, false, func() (*session.Link, error) { return s.find(key) })
		}
	case "jsonp_send":
		if allow(w, r, http.MethodPost) && s.checkOrigin(w, r) {
			s.sessionHeaders(w, r)
			s.send.Serve(w, r, true, func() (*session.Link, error) { return s.find(key) })
		}
	case "jsonp", "htmlfile", "eventsource":
		if !allow(w, r, http.MethodGet) || !s.checkOrigin(w, r) {
			return
		}
		s.sessionHeaders(w, r)
		switch name {
		case "eventsource":
			eventSourceCORS(w.Header(), r)
			s.serveReceive(w, r, key, protocol.SockJSEventSource, s.eventsource)
		case "jsonp":
			if cb, ok := callback(w, r, maxJSONPCallback); ok {
				s.serveReceive(w, r, key, protocol.SockJSJSONP, s.jsonp.WithCallback(cb))
			}
		default:
			if cb, ok := callback(w, r, maxHTMLFileCallback); ok {
				s.serveReceive(w, r, key, protocol.SockJSHTMLFile, s.htmlfile.WithCallback(cb))
			}
		}
	default:
		sockjsNotFound(w, r)
	}
}

// sessionHeaders sets what every answer of a session's HTTP transports
// carries: never cached, and the JSESSIONID cookie when asked for.
func (s *SockJS) sessionHeaders(w http.ResponseWriter, r *http.Request) {
	setSockJSNoCache(w.Header())
	s.jsessionID(w, r)
}

// jsessionID runs the JSessionID hook, when set.
func (s *SockJS) jsessionID(w http.ResponseWriter, r *http.Request) {
	if s.cfg.JSessionID != nil {
		s.cfg.JSessionID(w, r)
	}
}

// callback reads and checks the callback of jsonp and htmlfile (query c,
// or callback) before anything else: it is echoed into a script, so a bad
// one must never reach an answer.
func callback(w http.ResponseWriter, r *http.Request, max int) (string, bool) {
	q := r.URL.Query()
	cb, ok := q["c"]
	if !ok {
		cb, ok = q["callback"]
	}
	if !ok || cb[0] == "" {
		http.Error(w, `"callback" parameter required`, http.StatusInternalServerError)
		return "", false
	}
	if !protocol.ValidSockJSCallback(cb[0], max) {
		http.Error(w, `invalid "callback" parameter`, http.StatusInternalServerError)
		return "", false
	}
	return cb[0], true
}

// errRefused is an Authorize refusal already answered with its status.
var errRefused = errors.New("refused by Authorize")

// serveReceive runs one receive request of the transport called name on
// the session key names, made for the occasion if there is none.
func (s *SockJS) serveReceive(w http.ResponseWriter, r *http.Request, key, name string, rcv sockjsReceiver) {
	l, created, err := s.keys.open(key, func() (*session.Link, error) {
		if !s.authorize(w, r) {
			return nil, errRefused
		}
		return s.create(r, name)
	})
	switch {
	case errors.Is(err, errRefused):
	case err != nil:
		rcv.Refuse(w, r, err)
	default:
		rcv.Serve(w, r, l, created)
	}
}

// find returns the live session key names, for the send path.
func (s *SockJS) find(key string) (*session.Link, error) {
	if l, ok := s.keys.find(key); ok {
		return l, nil
	}
	return nil, session.ErrSessionLost
}

// create makes a session and runs the app's handler on it.
func (s *SockJS) create(r *http.Request, transport string) (*session.Link, error) {
	l, err := s.reg.Create(s.cfg.base.sessionRequest(r), transport)
	if err != nil {
		return nil, err
	}
	if s.handler != nil {
		s.handler(l.Session())
	}
	return l, nil
}

// authorize runs the Authorize hook and answers a refusal.
func (s *SockJS) authorize(w http.ResponseWriter, r *http.Request) bool {
	return authorize(s.cfg.Authorize, w, r)
}

// serveRawWebSocket serves <prefix>/websocket.
func (s *SockJS) serveRawWebSocket(w http.ResponseWriter, r *http.Request) {
	if s.cfg.DisableWebSocket {
		sockjsNotFound(w, r)
		return
	}
	if allow(w, r, http.MethodGet) {
		s.serveWebSocket(w, r, s.rawWS)
	}
}

// serveWebSocket runs the checks that must answer with an HTTP status
// before the upgrade (the origin is the upgrader's), then hands over to
// the carrier, which creates the session once the connection is up. A
// WebSocket session has no key: it lives as long as its connection.
func (s *SockJS) serveWebSocket(w http.ResponseWriter, r *http.Request, ws *transports.SockJSWebSocket) {
	if !s.authorize(w, r) {
		return
	}
	if s.reg.Stopping() {
		http.Error(w, session.ErrShuttingDown.Error(), http.StatusServiceUnavailable)
		return
	}
	if s.reg.Len() >= s.cfg.base.session.MaxSessions {
		http.Error(w, session.ErrTooManySessions.Error(), http.StatusServiceUnavailable)
		return
	}
	name := protocol.SockJSWebSocket
	if ws == s.rawWS {
		name = protocol.SockJSRawWebSocket
	}
	ws.Serve(w, r, func() (*session.Link, error) { return s.create(r, name) })
}
