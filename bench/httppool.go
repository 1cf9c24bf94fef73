package bench

import (
	"context"
	"crypto/tls"
	"net"
)

// The connections of the polling drivers' HTTP client (httpc.go) that
// belong to no session: a handshake's, or a closed session's send slot,
// kept between requests and handed to the next session that needs one,
// as a browser's connection pool does.

// newHConn returns a connection slot of e, not yet connected.
func (e *env) newHConn() *hconn {
	h := &hconn{dial: e.dialHTTP, host: e.target.Host}
	h.countWrite = e.countWrite
	return h
}

// countWrite counts a request written while the idle scenario asks.
func (e *env) countWrite() {
	if e.countWrites.Load() {
		e.wrote.Add(1)
	}
}

// dialHTTP opens a connection to the target, from the next source
// address, with TLS for an https target. It is dialRaw's, so that the
// polling drivers read and write as the WebSocket and streaming ones do;
// under TLS too, as gorilla's dialer and net/http's transport put their
// TLS over dialRaw's connection for wss and https: TLS's own cost per
// byte is then the same for every carrier, and the raw calls beneath it
// save what they save on plain TCP.
func (e *env) dialHTTP(ctx context.Context) (net.Conn, error) {
	c, err := e.dialRaw(ctx, "tcp", e.hostPort())
	if err != nil || !e.tls {
		return c, err
	}
	conf := &tls.Config{}
	if e.tlsConf != nil {
		conf = e.tlsConf.Clone()
	}
	conf.ServerName, conf.NextProtos = e.target.Hostname(), []string{"http/1.1"}
	tc := tls.Client(c, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// hostPort is the target's address with its default port.
func (e *env) hostPort() string {
	if p := e.target.Port(); p != "" {
		return e.target.Host
	}
	port := "80"
	if e.tls {
		port = "443"
	}
	return net.JoinHostPort(e.target.Hostname(), port)
}

// slot returns a connection for one of a session's request slots, bound to
// the session's context: an idle one of the pool (the handshake's, say)
// or a new one.
func (e *env) slot(ctx context.Context) *hconn {
	h := e.getIdle()
	h.bind(ctx)
	return h
}

// release returns a session's slot to the pool once the session is done
// with it, or closes it when its context already ended it. The caller
// guarantees that no request is in flight on it.
func (e *env) release(h *hconn) {
	if h == nil {
		return
	}
	if !h.unbind() {
		h.close()
		return
	}
	e.putIdle(h)
}

// oneShot runs one request on a pooled connection, for the requests that
// belong to no slot (handshakes, the close of a session), and returns a
// copy of the answer's body.
func (e *env) oneShot(ctx context.Context, method string, target, hdr, body []byte) (int, []byte, error) {
	h := e.getIdle()
	status, b, err := h.do(ctx, method, target, hdr, body)
	b = append([]byte(nil), b...)
	e.putIdle(h)
	return status, b, err
}

func (e *env) getIdle() *hconn {
	e.hmu.Lock()
	defer e.hmu.Unlock()
	if n := len(e.idle); n > 0 {
		h := e.idle[n-1]
		e.idle[n-1] = nil
		e.idle = e.idle[:n-1]
		return h
	}
	return e.newHConn()
}

// putIdle keeps a connection that can carry another request, up to the
// pool's bound, and closes any other.
func (e *env) putIdle(h *hconn) {
	h.mu.Lock()
	whole := h.c != nil && !h.cut && h.keep
	h.mu.Unlock()
	if whole {
		e.hmu.Lock()
		if !e.closed && len(e.idle) < e.maxIdle {
			e.idle = append(e.idle, h)
			e.hmu.Unlock()
			return
		}
		e.hmu.Unlock()
	}
	h.close()
}

// closeIdle closes the pool's connections, for good.
func (e *env) closeIdle() {
	e.hmu.Lock()
	idle := e.idle
	e.idle, e.closed = nil, true
	e.hmu.Unlock()
	for _, h := range idle {
		h.close()
	}
}
