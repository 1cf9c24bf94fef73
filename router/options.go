package router

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/tether-rt/tether/session"
)

// Options configures a Router. A nil *Options, and every zero field, means
// the default documented on the field.
type Options struct {
	// AllowedOrigins lists the browser origins (scheme://host[:port]) that
	// may open sessions from another site, on every carrier. "*" allows
	// every origin. Default: none; only same-origin pages and clients that
	// send no Origin header (non-browser programs) are allowed, as
	// Tornado and gorilla/websocket do for WebSocket handshakes.
	AllowedOrigins []string
	// CheckOrigin, when set, decides for origins AllowedOrigins did not
	// allow. It runs for WebSocket upgrades and HTTP carriers alike.
	CheckOrigin func(r *http.Request) bool
	// Authorize, when set, runs on every handshake (new session, resume,
	// WebSocket upgrade) before a session is touched. Returning a non-nil
	// error refuses it: with the status of an *HTTPError, otherwise 403,
	// and the error's text as the reason. Default: every handshake allowed.
	Authorize func(r *http.Request) error
	// TrustedProxies lists the proxy addresses or CIDR prefixes whose
	// X-Forwarded-For header is believed when resolving Conn.RemoteAddr.
	// Default: none; RemoteAddr is the TCP peer.
	TrustedProxies []string
	// Transports lists the carriers the router serves. Default: all.
	Transports []string

	// HeartbeatInterval: see session.Options. Default 25 s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout: see session.Options. Default 2 × HeartbeatInterval.
	HeartbeatTimeout time.Duration
	// DisconnectDelay: see session.Options. Default 30 s.
	DisconnectDelay time.Duration
	// MaxMessageSize bounds one message's payload. Default 64 KiB.
	MaxMessageSize int
	// MaxOutboundBytes bounds a session's unacknowledged outbound bytes;
	// past it the session closes as a slow consumer. Default 1 MiB.
	MaxOutboundBytes int
	// MaxInboundBytes bounds client bytes waiting for OnMessage. Default 1 MiB.
	MaxInboundBytes int
	// MaxBatchBytes bounds one receive batch. Default 64 KiB.
	MaxBatchBytes int
	// MaxSessions bounds the live sessions of this router. Default 100,000.
	MaxSessions int
	// MaxStreamBytes ends a streaming or eventsource answer after this
	// many bytes, so no proxy buffers it forever; the client re-opens it.
	// Default 1 MiB.
	MaxStreamBytes int
	// FreeMemoryInterval is the least time between two returns of freed
	// memory to the operating system, counted over the whole process
	// (every router's releases share one clock: the heap is one). Once the router holds at most half
	// of the most sessions it held (a crowd of clients gone at once), it
	// shrinks its session table and returns the freed memory
	// (debug.FreeOSMemory), instead of keeping it until the runtime next
	// collects, which a quiet server may not do for minutes; and likewise
	// once the parked polls (ParkAfter) have doubled, for what net/http
	// kept for each while it held them. A server whose sessions come and
	// go in a balance never does this. Negative turns the release off (the
	// table is still shrunk). Default 10 s.
	FreeMemoryInterval time.Duration
	// ParkAfter is how long a held longpoll or jsonp request waits on its
	// goroutine before it is parked: taken from net/http (hijacked) and
	// kept, with no goroutine and none of net/http's per-request buffers,
	// in an epoll set until it is answered, then handed back to its
	// http.Server as the keep-alive connection it was. An idle long-poll
	// client then costs no goroutine and a few KiB, instead of the ~16 KiB
	// net/http keeps for a request in progress. Only plain HTTP/1.1 on
	// Linux is parked; see transports/park.go for what else a parked poll
	// needs, and what middleware and http.Server hooks see of it. Shutdown
	// answers parked polls (http.Server.Shutdown does not wait for them).
	// Negative turns parking off. Default 250 ms.
	ParkAfter time.Duration
	// PollInterval is the interval suggested to `polling` clients. Default 1 s.
	PollInterval time.Duration
	// Logger receives the router's logs. Default slog.Default().
	Logger *slog.Logger
}

// HTTPError is an Authorize refusal with its own status (401 or 403).
type HTTPError struct {
	Status int
	Reason string
}

func (e *HTTPError) Error() string { return e.Reason }

// config is Options with defaults applied and derived values parsed once.
type config struct {
	Options
	session   session.Options
	origins   map[string]bool
	anyOrigin bool
	proxies   []netip.Prefix
	carriers  map[string]bool
}
