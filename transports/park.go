package transports

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/tether-rt/tether/internal/expiry"
	"github.com/tether-rt/tether/session"
)

// A held poll that net/http serves costs what net/http keeps for a request
// in progress: the connection's read and write buffers (4 KiB each), the
// response's own (2 KiB), the request, and two goroutines (the handler's,
// and the one net/http reads with to notice a client that leaves), about
// 16 KiB in all, for as long as the poll waits, which for an idle client is
// the whole heartbeat interval. A poll that has waited Parking.After
// without news is therefore parked: its connection is taken from net/http
// (Hijack), which lets go of all of that, and waits in a process-wide epoll
// set (poller_linux.go), with no goroutine, for the session to wake it, its
// heartbeat to fall due, or its client to leave. When it is answered, the
// answer is written as net/http would have written it (status, the headers
// set before, Date, Content-Length) and the connection is handed back to
// the same http.Server (Server.Serve with a listener of that one
// connection), so the client's keep-alive connection carries on as if
// nothing happened.
//
// Only what can be handed back is parked: an HTTP/1.1 request that does
// not ask to close its connection, without TLS, served by an http.Server
// (found in the request's context) through a ResponseWriter that can
// hijack, on a connection with a descriptor the poller can watch (a server
// whose listener wraps its connections is noted on its first try, whose
// poll gets a heartbeat at once, and is never tried again; a connection
// the poller refuses for itself alone, at the kernel's limit on watches,
// is parked unwatched). Anything else is held on its goroutine as before.
// The cost of parking is paid only by a poll that stayed idle; a busy
// session's polls, answered within milliseconds, never park.
//
// What the server's hooks see: a parked poll is a hijacked request
// (ConnState StateHijacked; middleware sees its handler return without an
// answer), and the connection handed back is a new one (StateNew, and
// BaseContext and ConnContext run again, with a listener that yields only
// it). Like a WebSocket, a parked poll is not waited for by
// http.Server.Shutdown: Router.Shutdown answers it, and waits for that
// (Parking.Wait), so a router is shut down before its server is closed.
// An httptest.Server closed while a parked answer is handed back counts the
// connection after its Close began, which its race detector reports.

// heldReply is how a held poll is answered: the body for a batch (empty:
// a heartbeat), with its content type.
type heldReply struct {
	contentType string
	body        func(b *session.Batch) []byte
}

// parkedPoll is a held poll whose connection was taken from net/http. Its
// mu guards done; whoever sets done answers the poll or drops it.
type parkedPoll struct {
	mu   sync.Mutex
	done bool
	k    *Parking

	nc    net.Conn
	srv   *http.Server
	rcv   *session.Receiver
	reply func(b *session.Batch) []byte
	head  []byte        // status line and headers, Date and Content-Length to come
	max   int           // MaxBatchBytes
	write time.Duration // how long the answer may take to write
	hbq   *expiry.Queue[*parkedPoll]
	hb    expiry.Entry[*parkedPoll] // the heartbeat, in hbq
	watch pollWatch                 // registration in the poller
}

// parkable reports whether r could be parked, before anything is taken:
// a request with a body is not (net/http would discard what the handler
// left unread; a hijacked connection would hand it back as a request).
func parkable(r *http.Request) bool {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.Close || r.TLS != nil || r.ContentLength != 0 {
		return false
	}
	// A server found unparkable (its listener wraps connections) keeps its
	// polls on their goroutines: they need not wake at ParkAfter to learn
	// it again.
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	return srv != nil && !unparkable(srv) && pollerAvailable()
}

// park takes the poll's connection from net/http and parks it for wait, at
// most, and reports whether it did; when it did, the parked poll answers
// the request and owns rcv. The caller has checked parkable.
func (k *Parking) park(w http.ResponseWriter, r *http.Request, rcv *session.Receiver, cfg *Config, wait time.Duration, reply heldReply) bool {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return false
	}
	// Hijack first: a ResponseWriter that cannot has had nothing done to
	// it (its headers are set when the poll is answered), and the poll is
	// held on as before.
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	pending := brw.Reader.Buffered() > 0
	// A connection handed back with a pipelined request (below) came back
	// wrapped in a prefixConn, which has no descriptor to watch. Once its
	// prefix is read, the socket under it is all there is to read, and it
	// is parked (and handed back) bare; while bytes of the prefix remain
	// unread, they are a request like those net/http's reader holds. Only
	// this package's own wrapper is looked through: it alone is known to
	// keep nothing once its prefix is gone (another might buffer, as TLS
	// does, where the poller would not see it).
	if pc, ok := nc.(*prefixConn); ok {
		if pc.r == nil {
			nc = pc.Conn
		} else {
			pending = true
		}
	}
	h := w.Header()
	setBatchHeaders(h, reply.contentType)
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	h.Write(&head)
	k.add(1, cfg.Session.FreeMemoryInterval) // until answer or drop
	p := &parkedPoll{k: k, nc: nc, srv: srv, rcv: rcv, reply: reply.body, head: k.shareHead(head.Bytes()),
		max: cfg.Session.MaxBatchBytes, write: cfg.Session.HeartbeatTimeout}
	if pending {
		// The client sent more already (pipelining): answer now, so that
		// net/http reads it, and hand those bytes back with the connection.
		p.nc = &prefixConn{Conn: nc, r: brw.Reader}
		p.done = true
		p.answer(nil)
		return true
	}
	p.mu.Lock()
	if err := pollWatchConn(p, &p.watch, p.nc); errors.Is(err, errUnwatchable) {
		// No connection of this server can be watched (its listener wraps
		// them): say so for its next polls, and answer this one with a
		// heartbeat.
		markUnparkable(srv)
		p.done = true
		p.mu.Unlock()
		p.answer(nil)
		return true
	}
	// Watched or not, the poll waits parked. One the poller refused for
	// itself alone (the kernel's limit on watches, or its memory, reached;
	// closed meanwhile) is answered at its wake-up or heartbeat all the
	// same; until then a client that leaves is noticed only when its next
	// carrier is refused (probe looks at the socket), and a request it
	// sends behind the poll waits for the answer. Holding it on its
	// goroutine instead would cost what parking saves, when the kernel is
	// short of it already.
	p.hbq = k.heartbeats(wait)
	p.hbq.Arm(&p.hb, p)
	p.mu.Unlock()
	rcv.OnWake(p.ready, p.probe)
	p.ready() // for a wake-up between the hold's last look and OnWake
	if f := parkedForTest.Load(); f != nil {
		(*f)()
	}
	return true
}

// parkedForTest, when a test sets it, runs once a poll is parked with its
// wake-ups set: a wake-up sent after it reaches the parked poll itself,
// not the catch-up look above, which the tests of wake-ups must not lean
// on. Atomic: a poll of an earlier test may still be parking.
var parkedForTest atomic.Pointer[func()]

// ready runs when the session may have something for the client: what
// Next hands out is answered (an ack alone only to a receiver that takes
// acks alone, JSONP's, as in hold).
func (p *parkedPoll) ready() {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	var b session.Batch
	if !p.rcv.Next(&b, p.max) {
		p.mu.Unlock()
		return
	}
	p.finishLocked()
	p.mu.Unlock()
	// The wake-up came from an app's Send, a close, or a client message
	// (a send request's inline delivery): the network is not theirs to
	// wait for.
	go p.answer(&b)
}

// heartbeat answers the poll with a heartbeat once its interval passed.
func (p *parkedPoll) heartbeat() {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	p.finishLocked()
	p.mu.Unlock()
	var b session.Batch
	p.rcv.TakeAck(&b) // a heartbeat may as well tell a due ack
	// Not on the expiry queue's goroutine: a write that waits, or a slow
	// ConnState hook in the hand-back, would hold up every other heartbeat.
	go p.answer(&b)
}

// probe checks, when another carrier was refused for this one, whether
// the client has left without the poller hearing of it yet.
func (p *parkedPoll) probe() {
	p.mu.Lock()
	gone := !p.done && connGone(p.nc)
	p.mu.Unlock()
	if gone {
		p.readable()
	}
}

// readable runs when the poller saw the socket readable: the client left
// (end of stream, error) or sent more (a pipelined request), which gets
// the heartbeat answer at once so that net/http can read it.
func (p *parkedPoll) readable() {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	gone := connGone(p.nc)
	p.finishLocked()
	p.mu.Unlock()
	if gone {
		p.rcv.Detach() // the messages taken stay in the log until acknowledged
		p.nc.Close()
		p.k.add(-1, 0)
		return
	}
	go p.answer(nil)
}

// finishLocked ends the wait: no more wake-ups, timer or poller events.
func (p *parkedPoll) finishLocked() {
	p.done = true
	if p.hbq != nil {
		p.hbq.Stop(&p.hb)
	}
	pollForget(&p.watch)
}

// answer writes the answer for b (nil: a heartbeat) and hands the
// connection back to its server. The receiver is detached first, as when
// net/http answers (it flushes after the handler returned), so that the
// client's next poll never finds this one still attached.
func (p *parkedPoll) answer(b *session.Batch) {
	if b == nil {
		b = &session.Batch{}
	}
	body := p.reply(b)
	p.rcv.Detach()
	out := make([]byte, 0, len(p.head)+64+len(body))
	out = append(out, p.head...)
	out = append(out, "Date: "...)
	out = time.Now().UTC().AppendFormat(out, http.TimeFormat)
	out = append(out, "\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\n\r\n"...)
	out = append(out, body...)
	defer p.k.add(-1, 0)
	p.nc.SetWriteDeadline(time.Now().Add(p.write))
	if _, err := p.nc.Write(out); err != nil {
		p.nc.Close()
		return
	}
	p.nc.SetWriteDeadline(time.Time{})
	handBack(p.srv, p.nc)
}

// handBack has srv serve nc again, as the keep-alive connection it was:
// Server.Serve with a listener that yields nc once. Serve starts nc's
// goroutine and returns at the listener's second Accept; a server that is
// shutting down refuses, and nc is closed.
func handBack(srv *http.Server, nc net.Conn) {
	l := &connListener{c: nc}
	srv.Serve(l)
	if !l.taken {
		nc.Close()
	}
}

// connListener yields one connection, then reports itself closed.
type connListener struct {
	c     net.Conn
	taken bool
}

func (l *connListener) Accept() (net.Conn, error) {
	if l.taken {
		return nil, errHandedBack
	}
	l.taken = true
	return l.c, nil
}

func (l *connListener) Close() error   { return nil }
func (l *connListener) Addr() net.Addr { return l.c.LocalAddr() }

// errHandedBack ends Server.Serve once the connection is handed back.
var errHandedBack = errors.New("tether: connection handed back")

// prefixConn is a connection whose first bytes were read already.
type prefixConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if c.r != nil {
		n, err := c.r.Read(b[:min(len(b), c.r.Buffered())])
		if c.r.Buffered() == 0 {
			c.r = nil
		}
		return n, err
	}
	return c.Conn.Read(b)
}

// unparkables are the servers whose connections had no descriptor to
// watch; their polls are held on their goroutines. A server is kept here
// as a weak pointer, dropped when it is collected.
var unparkables sync.Map // weak.Pointer[http.Server] -> struct{}

func unparkable(srv *http.Server) bool {
	_, ok := unparkables.Load(weak.Make(srv))
	return ok
}

func markUnparkable(srv *http.Server) {
	k := weak.Make(srv)
	if _, loaded := unparkables.LoadOrStore(k, struct{}{}); !loaded {
		runtime.AddCleanup(srv, func(k weak.Pointer[http.Server]) { unparkables.Delete(k) }, k)
	}
}
