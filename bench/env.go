package bench

import (
	"context"
	"crypto/tls"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// env is what every connection of one bench process shares: a dialer that
// spreads source addresses over 127.0.0.0/8, a WebSocket dialer, the pool
// of idle connections of the polling drivers' HTTP client (httpc.go), and
// a net/http client for the streaming carriers.
type env struct {
	cfg     Config
	target  *url.URL
	tls     bool        // an https target
	tlsConf *tls.Config // its TLS settings; nil: the system's roots (tests set their own)
	net     *net.Dialer
	ws      *websocket.Dialer
	http    *http.Client
	tr      *http.Transport

	hmu     sync.Mutex
	idle    []*hconn // connections between requests that belong to no session
	maxIdle int
	closed  bool

	spread bool // the target is on loopback: rotate source addresses
	next   atomic.Uint64
	// countWrites makes the HTTP clients count the requests written in
	// wrote, so that idle knows when every session's first poll reached
	// the server.
	countWrites atomic.Bool
	wrote       atomic.Int64
	sources     int
	base        int
}

func newEnv(cfg Config) (*env, error) {
	u, err := url.Parse(cfg.Target)
	if err != nil {
		return nil, err
	}
	e := &env{cfg: cfg, target: u, sources: cfg.Sources, base: cfg.SourceBase}
	e.tls = u.Scheme == "https" || u.Scheme == "wss"
	// As many idle connections as handshakes, churn cycles or teardown's
	// closes run at once (teardown closes 256 sessions at a time).
	e.maxIdle = max(cfg.Dials, min(cfg.Conns, 256)) + 16
	e.net = &net.Dialer{Timeout: cfg.Timeout, KeepAlive: -1}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() && ip.To4() != nil && cfg.Sources > 1 {
		e.spread = true
	}
	e.ws = &websocket.Dialer{
		NetDialContext:   e.dialRaw,
		HandshakeTimeout: cfg.Timeout,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
	}
	perHost := cfg.Conns*2 + 16
	e.tr = &http.Transport{
		DialContext:         e.dialRaw, // the streaming carriers: as cheap per read as WebSocket's
		MaxIdleConns:        0,         // no limit
		MaxIdleConnsPerHost: perHost,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     4096,
		ReadBufferSize:      8192,
	}
	e.http = &http.Client{Transport: e.tr}
	return e, nil
}

// dial opens a TCP connection from the next source address in turn:
// 127.0.0.2 up to 127.0.0.250 when the target is on loopback, so that no
// one source runs out of ephemeral ports (each address has ~28,000).
func (e *env) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if !e.spread {
		return e.net.DialContext(ctx, network, addr)
	}
	d := *e.net
	d.LocalAddr = &net.TCPAddr{IP: sourceAddr(e.base, int(e.next.Add(1)), e.sources)}
	return d.DialContext(ctx, network, addr)
}

// dialRaw is dial with raw system calls for reads and writes (see
// rawIO), unless -no-raw-io: the one place that choice is made, for every
// driver's connections (WebSocket, streaming, and the polling client's
// through dialHTTP), so that the carriers compared with each other cost
// the load generator alike.
func (e *env) dialRaw(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := e.dial(ctx, network, addr)
	if err != nil || e.cfg.NoRawIO {
		return c, err
	}
	return withRawIO(c), nil
}

// sourceAddr returns the i-th source address of a rotation over n
// addresses starting at base: 127.0.0.2 … 127.0.0.250.
func sourceAddr(base, i, n int) net.IP {
	return net.IPv4(127, 0, 0, byte(2+(base+i)%n))
}

// close releases idle HTTP connections.
func (e *env) close() {
	e.closeIdle()
	e.tr.CloseIdleConnections()
}

// wsURL returns the target with its scheme turned into ws(s), path set.
func (e *env) wsURL(path, rawQuery string) string {
	u := *e.target
	switch u.Scheme {
	case "https", "wss":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.Path, u.RawQuery = path, rawQuery
	return u.String()
}

// httpURL returns the target with its scheme turned into http(s), path set.
func (e *env) httpURL(path, rawQuery string) string {
	u := *e.target
	switch u.Scheme {
	case "wss", "https":
		u.Scheme = "https"
	default:
		u.Scheme = "http"
	}
	u.Path, u.RawQuery = path, rawQuery
	return u.String()
}

// mount returns the target's path without a trailing slash.
func (e *env) mount() string {
	p := e.target.Path
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}

// randID returns a short random id of letters and digits.
func randID(n int) string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[rand.IntN(len(alpha))]
	}
	return string(b)
}

// utoa formats n in decimal.
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
