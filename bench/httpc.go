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

	keep   bool // c may carry another request
	served int  // answers read on c

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
	h.resp.reset(c)
	return nil
}

// do sends one request and reads its answer. target is the path and query;
// hdr holds extra header lines, each ending in CRLF; body is sent with a
// Content-Length (a POST without body says 0). The answer's body is valid
// until the next do. A request that fails on a reused connection before
// any byte of its answer came (the server closed the idle connection) is
// sent once more on a new one. Unlike net/http, which repeats only GETs
// once a request was written, a POST is repeated too: a server that closes
// an idle connection never read what was written to it, and the drivers'
// peers close idle connections (node's 5 s keep-alive timeout) while a
// send slot waits; a server that read a request and died without
// answering would get it twice, which the echo checks would count as
// errors. Errors name the request.
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
		if h.c == nil || !h.keep {
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
		if fresh || !errors.Is(err, errStale) {
			return 0, nil, err
		}
	}
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

// errStale marks a request that failed before its answer began on a
// connection that had served others: the server closed it while idle.
var errStale = errors.New("http: connection closed before the answer began")

type staleError struct{ err error }

func (e *staleError) Error() string        { return errStale.Error() + ": " + e.err.Error() }
func (e *staleError) Is(target error) bool { return target == errStale }
func (e *staleError) Unwrap() error        { return e.err }

// exchange writes the request in wbuf and reads the answer.
func (h *hconn) exchange() (int, []byte, error) {
	reused := h.served > 0
	if _, err := h.c.Write(h.wbuf); err != nil {
		if reused {
			return 0, nil, &staleError{err}
		}
		return 0, nil, err
	}
	if h.countWrite != nil {
		h.countWrite()
	}
	status, body, keep, err := h.resp.read()
	if err != nil {
		if reused && h.resp.started == 0 && closedErr(err) {
			return 0, nil, &staleError{err}
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
