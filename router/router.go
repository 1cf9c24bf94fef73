package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
	"github.com/tether-rt/tether/transports"
)

// Handler is called once for every new session, before its client learns
// of it, so callbacks set here see every message. It must not block.
type Handler func(c *session.Session)

// Router serves the native dialect under whatever prefix it is mounted at:
// it routes on the last path segment, so it works with http.ServeMux
// (`mux.Handle("/echo/", r)`), gorilla/mux (`PathPrefix("/echo/")`) and
// http.StripPrefix alike. It is safe for concurrent use.
type Router struct {
	cfg     config
	handler Handler
	reg     *session.Registry

	ws        *transports.WebSocket
	send      *transports.Send
	parking   *transports.Parking // nil when parking is off
	jsonp     *transports.JSONP
	receivers map[string]receiver
	assets    map[string]asset
}

// New returns a Router that runs h for each new session. opts may be nil.
// It panics on options that cannot work (a malformed TrustedProxies entry,
// an unknown transport name), as a server should not start with them.
func New(h Handler, opts *Options) *Router {
	cfg, err := newConfig(opts)
	if err != nil {
		panic("tether: " + err.Error())
	}
	rt := &Router{cfg: cfg, handler: h, reg: session.NewRegistry(&cfg.session)}
	tc := transports.Config{Session: rt.reg.Options(), Logger: cfg.Logger}
	if cfg.ParkAfter >= 0 {
		rt.parking = &transports.Parking{After: cfg.ParkAfter}
		tc.Parking = rt.parking
	}
	rt.ws = transports.NewWebSocket(tc, cfg.originAllowed)
	rt.send = transports.NewSend(tc)
	rt.jsonp = transports.NewJSONP(tc)
	rt.assets = clientAssets()
	rt.receivers = map[string]receiver{
		protocol.LongPoll:    transports.NewLongPoll(tc),
		protocol.Polling:     transports.NewPolling(tc),
		protocol.Streaming:   transports.NewStreaming(tc, cfg.MaxStreamBytes),
		protocol.EventSource: transports.NewEventSource(tc, cfg.MaxStreamBytes),
	}
	return rt
}

func newConfig(opts *Options) (config, error) {
	var c config
	if opts != nil {
		c.Options = *opts
	}
	c.session = (&session.Options{
		HeartbeatInterval:  c.HeartbeatInterval,
		HeartbeatTimeout:   c.HeartbeatTimeout,
		DisconnectDelay:    c.DisconnectDelay,
		MaxMessageSize:     c.MaxMessageSize,
		MaxOutboundBytes:   c.MaxOutboundBytes,
		MaxInboundBytes:    c.MaxInboundBytes,
		MaxBatchBytes:      c.MaxBatchBytes,
		MaxSessions:        c.MaxSessions,
		FreeMemoryInterval: c.FreeMemoryInterval,
		Logger:             c.Logger,
	}).WithDefaults()
	c.Logger = c.session.Logger
	if c.PollInterval <= 0 {
		c.PollInterval = defaultPollInterval
	}
	c.origins = make(map[string]bool)
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			c.anyOrigin = true
		}
		c.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	var err error
	if c.proxies, err = parseProxies(c.TrustedProxies); err != nil {
		return c, fmt.Errorf("TrustedProxies: %w", err)
	}
	c.carriers = make(map[string]bool)
	names := c.Transports
	if len(names) == 0 {
		names = protocol.Carriers
	}
	for _, n := range names {
		if !protocol.KnownCarrier(n) {
			return c, fmt.Errorf("unknown transport %q", n)
		}
		c.carriers[n] = true
	}
	return c, nil
}

// Shutdown stops new sessions, closes every session with CloseShutdown so
// clients reconnect elsewhere, and returns when all are closed and their
// close frames were handed to their carriers (a parked poll's written),
// or when ctx ends.
func (rt *Router) Shutdown(ctx context.Context) error {
	if err := rt.reg.Shutdown(ctx); err != nil {
		return err
	}
	if rt.parking != nil {
		return rt.parking.Wait(ctx)
	}
	return nil
}

// Sessions returns the number of sessions held, closed ones awaiting
// collection included.
func (rt *Router) Sessions() int { return rt.reg.Len() }

// ServeHTTP implements http.Handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	name := path[strings.LastIndexByte(path, '/')+1:]
	if name == "handshake" || name == "send" || rt.cfg.carriers[name] {
		rt.serve(w, r, name)
		return
	}
	if a, ok := rt.assets[name]; ok {
		serveAsset(w, r, a)
		return
	}
	http.Error(w, "not found", http.StatusNotFound)
}

// httpCarriers are the carriers received over plain HTTP, each with its
// own receive path; a handshake may name any of them.
var httpCarriers = map[string]bool{
	protocol.LongPoll: true, protocol.Polling: true, protocol.Streaming: true,
	protocol.EventSource: true, protocol.JSONP: true,
}

// receiver is what the router needs of an HTTP receiving carrier: serve a
// request on a session, or refuse it in the carrier's own format (a script
// tag or an EventSource cannot read an error status).
type receiver interface {
	Serve(w http.ResponseWriter, r *http.Request, l *session.Link, ack uint64)
	Refuse(w http.ResponseWriter, r *http.Request, err error)
}

// serve runs the checks every endpoint shares (SPEC.md §8, in order:
// method, origin, then what the endpoint needs) and dispatches.
func (rt *Router) serve(w http.ResponseWriter, r *http.Request, name string) {
	want := methodFor(name)
	preflightable := name != protocol.WebSocket
	if r.Method != want && !(name == "handshake" && r.Method == http.MethodGet) &&
		!(preflightable && r.Method == http.MethodOptions) {
		allow := want
		if preflightable {
			allow += ", " + http.MethodOptions
		}
		w.Header().Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !rt.cfg.originAllowed(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if preflightable {
		cors(w, r)
		if r.Method == http.MethodOptions {
			preflight(w, r)
			return
		}
	}
	switch name {
	case protocol.WebSocket:
		rt.serveWebSocket(w, r)
	case "handshake":
		rt.serveHandshake(w, r)
	case "send":
		rt.serveSend(w, r)
	default:
		rt.serveReceive(w, r, name)
	}
}

// serveReceive runs one receive request of an HTTP carrier.
func (rt *Router) serveReceive(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.RawQuery
	var rcv receiver = rt.receivers[name]
	if name == protocol.JSONP {
		// The callback is checked before anything else: it is echoed into
		// a script, so a bad one must never reach an answer.
		cb := queryGet(q, "c")
		if !protocol.ValidCallback(cb) {
			http.Error(w, "invalid callback name: 1-64 letters, digits, '_' or '.'", http.StatusBadRequest)
			return
		}
		rcv = rt.jsonp.WithCallback(cb)
	}
	ack, err := queryAck(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sid := queryGet(q, "sid")
	if sid == "" {
		http.Error(w, "missing sid", http.StatusBadRequest)
		return
	}
	token := headerValue(r.Header, "X-Tether-Token")
	if token == "" && (name == protocol.EventSource || name == protocol.JSONP) {
		token = queryGet(q, "token") // the only place these clients can put it
	}
	l, err := rt.reg.Lookup(sid, token)
	if err != nil {
		rcv.Refuse(w, r, err)
		return
	}
	rcv.Serve(w, r, l, ack)
}

// serveSend runs the POST send path: a batch as body with the token in a
// header, or, from a JSONP page's form, fields token and d.
func (rt *Router) serveSend(w http.ResponseWriter, r *http.Request) {
	sid := queryGet(r.URL.RawQuery, "sid")
	if sid == "" {
		http.Error(w, "missing sid", http.StatusBadRequest)
		return
	}
	token := headerValue(r.Header, "X-Tether-Token")
	var body io.Reader // nil: the request's own body
	// A JSONP page's form cannot set headers; any client that can sends
	// the token in one, whatever its Content-Type (curl defaults to a form).
	if token == "" && strings.HasPrefix(headerValue(r.Header, "Content-Type"), "application/x-www-form-urlencoded") {
		// URL-encoding can triple a batch (%XX per byte).
		r.Body = http.MaxBytesReader(w, r.Body, int64(3*transports.MaxSend(&rt.cfg.session)+1024))
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
			return
		}
		token = r.PostForm.Get("token")
		// Browsers send a form field's newlines as CRLF; a batch holds no
		// other CR (frames cannot contain one), so this restores it.
		body = strings.NewReader(strings.ReplaceAll(r.PostForm.Get("d"), "\r\n", "\n"))
	}
	l, err := rt.reg.Lookup(sid, token)
	if err != nil {
		transports.WriteAttachError(w, transports.Native{}, err)
		return
	}
	// A form's page cannot read the answer; any other client may ask it
	// to carry messages (SPEC.md §5).
	carry := body == nil && queryGet(r.URL.RawQuery, "carry") == "1"
	rt.send.Serve(w, r, l, body, carry)
}

func methodFor(name string) string {
	if name == "handshake" || name == "send" {
		return http.MethodPost
	}
	return http.MethodGet
}

// queryAck reads the client's cumulative ack from the query.
func queryAck(r *http.Request) (uint64, error) {
	s := queryGet(r.URL.RawQuery, "ack")
	if s == "" {
		return 0, nil
	}
	n, err := protocol.ParseSeq(s)
	if err != nil {
		return 0, fmt.Errorf("bad ack: %v", err)
	}
	return n, nil
}

// authorize runs the Authorize hook and answers a refusal.
func (rt *Router) authorize(w http.ResponseWriter, r *http.Request) bool {
	return authorize(rt.cfg.Authorize, w, r)
}

// authorize runs hook, when set, and answers a refusal: with the status of
// an *HTTPError (401 or 403), otherwise 403, and the error's text. Both
// dialects refuse the same way.
func authorize(hook func(*http.Request) error, w http.ResponseWriter, r *http.Request) bool {
	if hook == nil {
		return true
	}
	err := hook(r)
	if err == nil {
		return true
	}
	status := http.StatusForbidden
	var he *HTTPError
	if errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden) {
		status = he.Status
	}
	http.Error(w, err.Error(), status)
	return false
}
