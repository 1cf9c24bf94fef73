package client

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
)

// Options configures Dial. A nil *Options means every default. Dial copies
// the struct, so changing it afterwards has no effect on a Conn.
type Options struct {
	// Transport names the carrier (SPEC.md §5) the Conn receives on.
	// Default "websocket". See Transports for the ones this package speaks.
	Transport string

	// Header is added to the handshake request and the WebSocket upgrade,
	// where the server's Authorize hook sees it (cookies, Authorization).
	// Default none.
	Header http.Header

	// Origin, when set, is sent as the Origin header. Non-browser clients
	// normally leave it empty: servers admit requests without an Origin.
	// Default empty.
	Origin string

	// HTTPClient carries the requests of HTTP carriers. It should have no
	// overall Timeout shorter than the server's heartbeat interval, because
	// long polls are held that long; the Conn sets its own deadlines from
	// the server's dead-peer timeout. Default: a client with its own
	// connection pool, whose idle connections are closed when the Conn ends.
	HTTPClient *http.Client

	// Dialer opens WebSocket connections. Default: the settings of
	// websocket.DefaultDialer (proxy from the environment, 45 s handshake
	// timeout).
	Dialer *websocket.Dialer

	// ReconnectDelay is the wait before the second consecutive attempt to
	// resume a session; the first is immediate, since a carrier that just
	// ended usually comes back at once. The wait doubles, with jitter, up to
	// MaxReconnectDelay. Defaults 250 ms and 10 s.
	ReconnectDelay    time.Duration
	MaxReconnectDelay time.Duration

	// MaxAttempts bounds consecutive failed attempts to resume before the
	// Conn gives up and ends with the last error. An attempt that attaches
	// and then receives anything resets the count. Default 10; a negative
	// value turns resuming off, so a lost carrier ends the Conn.
	MaxAttempts int

	// MaxQueueBytes bounds the encoded bytes of messages sent but not yet
	// acknowledged by the server. Send blocks while the bound would be
	// exceeded, so a stalled server slows the caller down instead of
	// growing memory without end. Default 1 MiB.
	MaxQueueBytes int

	// Logger receives carrier losses and resumes (Info) and their causes
	// (Debug). Default: discard.
	Logger *slog.Logger
}

// Defaults of Options, and of the open frame's fields when a server leaves
// them out.
const (
	defaultReconnectDelay    = 250 * time.Millisecond
	defaultMaxReconnectDelay = 10 * time.Second
	defaultMaxAttempts       = 10
	defaultMaxQueueBytes     = 1 << 20
	defaultHeartbeat         = 25 * time.Second
	defaultMaxSend           = 4*64<<10 + 4<<10

	// closeTimeout is how long Close waits for its close frame to go out.
	closeTimeout = 2 * time.Second
	// maxBodyBytes bounds what the client reads from one HTTP answer or
	// WebSocket message, so a broken server cannot exhaust memory.
	maxBodyBytes = 32 << 20
)

// withDefaults returns a copy of o with every zero field set to its
// default, and the HTTP transport the Conn owns (nil when the caller gave
// its own client).
func (o *Options) withDefaults() (Options, *http.Transport) {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Transport == "" {
		c.Transport = protocol.WebSocket
	}
	c.Header = c.Header.Clone()
	var own *http.Transport
	if c.HTTPClient == nil {
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			own = t.Clone()
		} else {
			own = &http.Transport{Proxy: http.ProxyFromEnvironment}
		}
		c.HTTPClient = &http.Client{Transport: own}
	}
	if c.Dialer == nil {
		d := *websocket.DefaultDialer
		c.Dialer = &d
	}
	if c.ReconnectDelay <= 0 {
		c.ReconnectDelay = defaultReconnectDelay
	}
	if c.MaxReconnectDelay <= 0 {
		c.MaxReconnectDelay = defaultMaxReconnectDelay
	}
	if c.MaxReconnectDelay < c.ReconnectDelay {
		c.MaxReconnectDelay = c.ReconnectDelay
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = defaultMaxQueueBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, own
}

// timing is what the client needs from an open frame, with defaults for
// fields a server left at zero.
type timing struct {
	heartbeat  time.Duration
	timeout    time.Duration
	maxMessage int
	maxSend    int
}

func timingOf(o protocol.Open) timing {
	t := timing{
		heartbeat:  time.Duration(o.Heartbeat) * time.Millisecond,
		timeout:    time.Duration(o.Timeout) * time.Millisecond,
		maxMessage: o.MaxMessage,
		maxSend:    o.MaxSend,
	}
	if t.heartbeat <= 0 {
		t.heartbeat = defaultHeartbeat
	}
	if t.timeout <= 0 {
		t.timeout = 2 * t.heartbeat
	}
	if t.maxSend <= 0 {
		t.maxSend = defaultMaxSend
	}
	return t
}
