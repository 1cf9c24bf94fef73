package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
)

// The polling drivers' HTTP/1.1 client. Go's net/http client costs about as
// much CPU per long-poll round trip as the servers measured (two goroutines
// per connection and channel hand-offs between them, a header map, a pool
// lookup per request); on a machine the load generator shares with the
// server, that cost comes off every server's throughput and squeezes every
// ratio toward one. This client does what a browser's connection does and
// no more: one persistent connection per in-flight request slot (a session
// has one for its receive and one for its sends), one request at a time,
// its head written by hand into a reused buffer, the answer read into
// another. Every polling driver uses it, against tether and every reference
// server alike.
//
// Cookies are not kept: none of the peers needs one (sockjs-node sets
// JSESSIONID only with its jsessionid option, engine.io its "io" cookie only
// with its cookie option), as with the net/http client before it, which had
// no jar.

// hconn is one persistent HTTP/1.1 connection for one request at a time.
// Only one goroutine may call do at once; abort (a context's callback) may
// run at any time from another.
type hconn struct {
	dial func(ctx context.Context) (net.Conn, error) // env.dialHTTP: raw I/O or not is its choice
	host string                                      // the Host header
	// countWrite, when set, is called after each request is written (the
	// idle scenario counts the first polls that reached the server).
	countWrite func()

	mu      sync.Mutex // guards c, cut, call and callCut against the callbacks
	c       net.Conn   // written only by do's goroutine, under mu
	cut     bool       // the bound context ended (or close): c was closed, and no other may be dialled
	call    uint64     // the current call of do, counted
	callCut uint64     // the call whose own context ended it

	bound context.Context // bind's context: do needs no callback of its own for it
	stop  func() bool     // unregisters bind's callback

	keep   bool       // c may carry another request
	served int        // answers read on c
	probe  *connProbe // whether the server gave c up while idle; nil: cannot tell

	wbuf []byte
	resp respReader
}

// errCut is returned when a context ended the connection.
var errCut = errors.New("http: connection closed by its context")

// bind makes ctx end the connection whenever it is done: a session's
// slots are bound to the session's context once, so that do needs no
// callback per request for it.
func (h *hconn) bind(ctx context.Context) {
	h.bound = ctx
	h.stop = context.AfterFunc(ctx, h.abort)
}

// unbind undoes bind, and reports whether the connection is still whole
// (the context had not ended it).
func (h *hconn) unbind() bool {
	ok := h.stop == nil || h.stop()
	h.bound, h.stop = nil, nil
	return ok
}

// abort closes the connection and forbids new ones: the bound context
// ended.
func (h *hconn) abort() {
	h.mu.Lock()
	h.cut = true
	if h.c != nil {
		h.c.Close()
	}
	h.mu.Unlock()
}

// abortCall closes the connection when call is still the call in
// progress: a request's own context ended. A callback that comes late,
// once another call began, does nothing; one that comes between calls
// costs the next call a new connection.
func (h *hconn) abortCall(call uint64) {
	h.mu.Lock()
	if h.call == call {
		h.callCut = call
		if h.c != nil {
			h.c.Close()
		}
	}
	h.mu.Unlock()
}

// close closes the connection for good.
func (h *hconn) close() { h.abort() }

// drop closes the current connection; the next request dials anew.
func (h *hconn) drop() {
	h.mu.Lock()
	if h.c != nil {
		h.c.Close()
		h.c = nil
	}
	h.mu.Unlock()
	h.keep = false
}

// connect dials a new connection, unless a context ended this one.
func (h *hconn) connect(ctx context.Context) error {
	c, err := h.dial(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	if h.cut || h.callCut == h.call {
		h.mu.Unlock()
		c.Close()
		return errCut
	}
	h.c = c
	h.mu.Unlock()
	h.keep, h.served = true, 0
	h.probe = newConnProbe(c)
	h.resp.reset(c)
	return nil
}

// do sends one request and reads its answer. target is the path and query;
// hdr holds extra header lines, each ending in CRLF; body is sent with a
// Content-Length (a POST without body says 0). The answer's body is valid
// until the next do. Errors name the request.
//
// Servers close kept-alive connections that idle (node's 5 s keep-alive
// timeout, while a send slot waits), and that must cost a new connection,
// not an error. A request goes on a new connection only when sending it
// twice cannot be what happens, as net/http's client decides:
//   - when, before it was written, the reused connection is seen closed
//     by the server (connProbe), or out of step (bytes came that no
//     request asked for): the server cannot have read it;
//   - when its write failed before any byte of it left;
//   - for a safe method (GET, the polls of tether and Engine.IO) when the
//     reused connection ended before any byte of the answer: the server
//     may have read it, which is harmless.
//
// A POST written on a connection that then ended without an answer is an
// error: a server that read it and died would otherwise get it twice.
// That is left to the race of a server closing an idle connection just as
// a request goes out on it (the probe saw it whole).
func (h *hconn) do(ctx context.Context, method string, target, hdr, body []byte) (status int, respBody []byte, err error) {
	status, respBody, err = h.try(ctx, method, target, hdr, body)
	if err != nil {
		err = fmt.Errorf("%s %s: %w", method, target, err)
	}
	return status, respBody, err
}

func (h *hconn) try(ctx context.Context, method string, target, hdr, body []byte) (status int, respBody []byte, err error) {
	h.mu.Lock()
	h.call++
	call := h.call
	h.mu.Unlock()
	if ctx != h.bound {
		if err := ctx.Err(); err != nil {
			return 0, nil, err
		}
		if ctx.Done() != nil {
			stop := context.AfterFunc(ctx, func() { h.abortCall(call) })
			defer stop()
		}
	}
	h.wbuf = appendRequest(h.wbuf[:0], method, target, h.host, hdr, body)
	for {
		fresh := false
		if h.c == nil || !h.keep || h.resp.buffered() > 0 || h.probe.closed() {
			h.drop()
			if err := h.connect(ctx); err != nil {
				return 0, nil, h.ctxErr(ctx, err)
			}
			fresh = true
		}
		status, respBody, err = h.exchange()
		if err == nil {
			return status, respBody, nil
		}
		h.drop()
		if cerr := h.ctxErr(ctx, nil); cerr != nil {
			return 0, nil, cerr
		}
		if fresh || !retryable(method, err) {
			return 0, nil, err
		}
	}
}

// retryable reports whether a request that failed with err on a reused
// connection may go again on a new one (see do).
func retryable(method string, err error) bool {
	switch {
	case errors.Is(err, errNotSent):
		return true
	case errors.Is(err, errStale):
		return safeMethod(method)
	}
	return false
}

// safeMethod reports whether method is safe (RFC 9110 9.2.1): the methods
// net/http's client sends again after a kept-alive connection failed.
func safeMethod(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// ctxErr returns the error of whichever context ended the request, or
// err.
func (h *hconn) ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if h.bound != nil && h.bound != ctx {
		if cerr := h.bound.Err(); cerr != nil {
			return cerr
		}
	}
	return err
}

// Failures of a request on a reused connection that may allow sending it
// again (retryable): errNotSent, none of it was written; errStale, it was
// written and the connection ended before any byte of the answer.
var (
	errNotSent = errors.New("http: write failed before any byte of the request")
	errStale   = errors.New("http: connection closed before the answer began")
)

// reuseError is a failure on a reused connection, marked with kind.
type reuseError struct{ kind, err error }

func (e *reuseError) Error() string        { return e.kind.Error() + ": " + e.err.Error() }
func (e *reuseError) Is(target error) bool { return target == e.kind }
func (e *reuseError) Unwrap() error        { return e.err }

// exchange writes the request in wbuf and reads the answer.
func (h *hconn) exchange() (int, []byte, error) {
	reused := h.served > 0
	if n, err := h.c.Write(h.wbuf); err != nil {
		if reused && n == 0 {
			return 0, nil, &reuseError{errNotSent, err}
		}
		return 0, nil, err
	}
	if h.countWrite != nil {
		h.countWrite()
	}
	status, body, keep, err := h.resp.read()
	if err != nil {
		if reused && h.resp.started == 0 && closedErr(err) {
			return 0, nil, &reuseError{errStale, err}
		}
		return 0, nil, err
	}
	h.served++
	h.keep = keep
	return status, body, nil
}

// closedErr reports whether err says the peer closed the connection.
func closedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// appendRequest appends a request head and its body.
func appendRequest(b []byte, method string, target []byte, host string, hdr, body []byte) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	b = append(b, hdr...)
	if body != nil || method != "GET" {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}
