package router

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/tether-rt/tether/transports"
)

// SockJSOptions configures a SockJS router. A nil *SockJSOptions, and
// every zero field, means the default documented on the field; the
// defaults are sockjs-node's wherever it has one, the framework's
// elsewhere (origins, bounds).
type SockJSOptions struct {
	// AllowedOrigins lists the browser origins (scheme://host[:port]) whose
	// pages may use the server from another site. "*" allows every origin,
	// "null" the pages of file:// URLs. Default: none; only same-origin
	// pages and clients that send no Origin header (programs) are allowed,
	// as for the native dialect. Requests from other origins are refused
	// with 403, WebSocket handshakes included; allowed ones get CORS
	// headers that echo their Origin, with credentials. sockjs-node allows
	// every origin: set "*" to do the same.
	AllowedOrigins []string
	// CheckOrigin, when set, decides for origins AllowedOrigins did not
	// allow.
	CheckOrigin func(r *http.Request) bool
	// Authorize, when set, runs before a session is created (the first
	// receive request of a session, or a WebSocket upgrade). Returning a
	// non-nil error refuses it: with the status of an *HTTPError,
	// otherwise 403, and the error's text as the body.
	Authorize func(r *http.Request) error
	// TrustedProxies lists the proxy addresses or CIDR prefixes whose
	// X-Forwarded-For header is believed for Conn.RemoteAddr. Default:
	// none.
	TrustedProxies []string

	// DisableWebSocket turns the websocket transport and the raw WebSocket
	// endpoint off (/info then says so, and they answer 404), for
	// deployments whose proxies break WebSocket. sockjs-node: websocket:
	// false.
	DisableWebSocket bool
	// JSessionID, when set, runs on every request of a session's HTTP
	// transports, to set a cookie that sticky load balancers route by;
	// /info then says cookie_needed. DefaultJSessionID is what sockjs-node
	// does with jsessionid: true. Default: nil, no cookie.
	JSessionID func(w http.ResponseWriter, r *http.Request)
	// ClientURL is where the iframe page (used by the iframe-based
	// transports) loads sockjs-client from. Serve a copy from your own
	// origin in production. Default: sockjs-client 1.x from jsDelivr, as
	// sockjs-node.
	ClientURL string
	// ResponseLimit ends a streaming answer (xhr_streaming, eventsource,
	// htmlfile) after this many bytes of frames, so browsers free what
	// they hold; the client opens the next one. Default 128 KiB.
	ResponseLimit int

	// HeartbeatInterval is how often an idle receiver gets an h frame, and
	// how long a poll is held. Default 25 s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long a WebSocket may stay silent (pongs
	// count) before its session is closed. Default 2 × HeartbeatInterval.
	HeartbeatTimeout time.Duration
	// DisconnectDelay is how long a session of the HTTP transports lives
	// between two receive requests, and how long a closed one keeps
	// answering with its close frame. Default 5 s.
	DisconnectDelay time.Duration
	// MaxMessageSize bounds one client message. Default 64 KiB.
	MaxMessageSize int
	// MaxOutboundBytes bounds the bytes queued for a client that has not
	// taken them; past it the session closes as a slow consumer (4201).
	// Default 1 MiB.
	MaxOutboundBytes int
	// MaxInboundBytes bounds client bytes waiting for OnMessage. Default
	// 1 MiB.
	MaxInboundBytes int
	// MaxBatchBytes bounds the messages of one a[...] frame. Default 64 KiB.
	MaxBatchBytes int
	// MaxSessions bounds the live sessions of this router. Default 100,000.
	MaxSessions int
	// FreeMemoryInterval: see Options. Default 10 s; negative turns it off.
	FreeMemoryInterval time.Duration
	// Logger receives the router's logs. Default slog.Default().
	Logger *slog.Logger
}

// Defaults of SockJSOptions that differ from the native dialect's.
const (
	DefaultSockJSClientURL       = "https://cdn.jsdelivr.net/npm/sockjs-client@1/dist/sockjs.min.js"
	DefaultSockJSDisconnectDelay = 5 * time.Second
	DefaultSockJSResponseLimit   = transports.SockJSResponseLimit
)

// DefaultJSessionID sets the JSESSIONID cookie as sockjs-node does: the
// value the request brought, or "dummy", with path /. A load balancer that
// keeps a client on one server by that cookie then keeps every request of
// a session on the server that holds it.
func DefaultJSessionID(w http.ResponseWriter, r *http.Request) {
	v := "dummy"
	if c, err := r.Cookie("JSESSIONID"); err == nil && c.Value != "" {
		v = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: v, Path: "/"})
}

// sockjsConfig is SockJSOptions with defaults applied, plus the native
// config that holds the policies both dialects share (origins, proxies,
// session options with their defaults).
type sockjsConfig struct {
	SockJSOptions
	base config
}

func newSockJSConfig(opts *SockJSOptions) (sockjsConfig, error) {
	var o SockJSOptions
	if opts != nil {
		o = *opts
	}
	if o.DisconnectDelay <= 0 {
		o.DisconnectDelay = DefaultSockJSDisconnectDelay
	}
	if o.ResponseLimit <= 0 {
		o.ResponseLimit = DefaultSockJSResponseLimit
	}
	if o.ClientURL == "" {
		o.ClientURL = DefaultSockJSClientURL
	}
	c, err := newConfig(&Options{
		AllowedOrigins:     o.AllowedOrigins,
		CheckOrigin:        o.CheckOrigin,
		Authorize:          o.Authorize,
		TrustedProxies:     o.TrustedProxies,
		HeartbeatInterval:  o.HeartbeatInterval,
		HeartbeatTimeout:   o.HeartbeatTimeout,
		DisconnectDelay:    o.DisconnectDelay,
		MaxMessageSize:     o.MaxMessageSize,
		MaxOutboundBytes:   o.MaxOutboundBytes,
		MaxInboundBytes:    o.MaxInboundBytes,
		MaxBatchBytes:      o.MaxBatchBytes,
		MaxSessions:        o.MaxSessions,
		MaxStreamBytes:     o.ResponseLimit,
		FreeMemoryInterval: o.FreeMemoryInterval,
		Logger:             o.Logger,
	})
	o.Logger = c.Logger
	return sockjsConfig{SockJSOptions: o, base: c}, err
}
