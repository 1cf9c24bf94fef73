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

	ws   *transports.WebSocket
	poll *transports.LongPoll
	send *transports.Send
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
	rt.ws = transports.NewWebSocket(tc, cfg.originAllowed)
	rt.poll = transports.NewLongPoll(tc)
	rt.send = transports.NewSend(tc)
	return rt
}

func newConfig(opts *Options) (config, error) {
	var c config
	if opts != nil {
		c.Options = *opts
	}
	c.session = (&session.Options{
		HeartbeatInterval: c.HeartbeatInterval,
		HeartbeatTimeout:  c.HeartbeatTimeout,
		DisconnectDelay:   c.DisconnectDelay,
		MaxMessageSize:    c.MaxMessageSize,
		MaxOutboundBytes:  c.MaxOutboundBytes,
		MaxInboundBytes:   c.MaxInboundBytes,
		MaxBatchBytes:     c.MaxBatchBytes,
		MaxSessions:       c.MaxSessions,
		Logger:            c.Logger,
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
// close frames were handed to their carriers, or when ctx ends.
func (rt *Router) Shutdown(ctx context.Context) error { return rt.reg.Shutdown(ctx) }

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
	http.Error(w, "not found", http.StatusNotFound)
}

// httpCarriers are the HTTP carriers serve has a receive path for; keep it
// in step with serve's switch. A handshake naming any other carrier is
// refused: the session it opened could never be received on.
var httpCarriers = map[string]bool{protocol.LongPoll: true}

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
		if l := rt.lookup(w, r); l != nil {
			rt.send.Serve(w, r, l, r.Body)
		}
	case protocol.LongPoll:
		ack, err := queryAck(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if l := rt.lookup(w, r); l != nil {
			rt.poll.Serve(w, r, l, ack)
		}
	default:
		http.Error(w, "transport not implemented: "+name, http.StatusNotFound)
	}
}

func methodFor(name string) string {
	if name == "handshake" || name == "send" {
		return http.MethodPost
	}
	return http.MethodGet
}

// queryAck reads the client's cumulative ack from the query.
func queryAck(r *http.Request) (uint64, error) {
	s := r.URL.Query().Get("ack")
	if s == "" {
		return 0, nil
	}
	n, err := protocol.ParseSeq(s)
	if err != nil {
		return 0, fmt.Errorf("bad ack: %v", err)
	}
	return n, nil
}

// lookup finds the session a receive or send request names, or answers
// with the session-lost close frame (SPEC.md §8).
func (rt *Router) lookup(w http.ResponseWriter, r *http.Request) *session.Link {
	q := r.URL.Query()
	sid := q.Get("sid")
	if sid == "" {
		http.Error(w, "missing sid", http.StatusBadRequest)
		return nil
	}
	token := r.Header.Get("X-Tether-Token")
	l, err := rt.reg.Lookup(sid, token)
	if err != nil {
		transports.WriteAttachError(w, transports.Native{}, err)
		return nil
	}
	return l
}

// authorize runs the Authorize hook and answers a refusal.
func (rt *Router) authorize(w http.ResponseWriter, r *http.Request) bool {
	if rt.cfg.Authorize == nil {
		return true
	}
	err := rt.cfg.Authorize(r)
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

func readAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = errors.New("body over the limit")
	}
	return b, err
}
