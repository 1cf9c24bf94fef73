package transports

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/session"
)

// wsReadBuffer is the read buffer of a WebSocket. Client messages are
// small, and a small buffer keeps 10,000 connections small. A frame that
// does not fit whole (a payload over about 500 bytes) is read by gorilla,
// straight into the message: a read more per message, and the socket's
// read deadline moved to the real one and back to the linger's (two timer
// updates), which the frames read from the buffer do not cost.
const wsReadBuffer = 512

// wsCarrier is what a WebSocket carrier adds to wsConn: its framing and
// what it does with the session.
type wsCarrier interface {
	// message handles one client message on the reader; false ends the
	// connection. msg is the reader's, valid during the call only: what
	// the carrier keeps, it copies.
	message(typ int, msg []byte) bool
	// rest drops what message keeps between messages: the socket parks.
	rest()
	// readErr handles the error that ended reading.
	readErr(err error)
	// flush writes what the receiver has, as frames it hands to
	// wsConn.send (or sendClose), with wsConn.mu and sock.mu held; it
	// stops once wsConn.held is set. done reports that the close went out
	// or the write failed, and the connection must end.
	flush() (done bool)
	// heartbeat writes through wsConn.send, with wsConn.mu and sock.mu
	// held, a heartbeat frame if frame, and a ping if ping (only for a
	// connection with wsConn.pings).
	heartbeat(frame, ping bool) error
	// end runs once, with wsConn.mu held, after reading ended and before
	// the connection closes.
	end()
	// detach lets the receiver go, once the connection closed.
	detach()
}

// wsConn is one WebSocket's goroutine economy, shared by both dialects.
// An idle connection has no goroutine: its reader parks the socket in the
// process's poller (poller_linux.go) between messages, its heartbeat and
// its dead-peer deadline are timers, and writes are made by whoever has
// something to write: the reader after a message, which covers an echo;
// for what is sent from elsewhere, the process's flusher (wsflush.go),
// which never waits for a socket; and, for what a socket could not take
// at once (or over TLS, where a write cannot be tried), a writer goroutine
// started on demand, which waits for the socket and exits when done. So
// an app's Send never waits for the network, and a broadcast costs no
// goroutine per connection.
type wsConn struct {
	c    wsCarrier
	conn *websocket.Conn
	sock wsSock        // the socket, and its write side; gorilla has it as its net.Conn
	br   *bufio.Reader // gorilla reads through it; ours, to read frames from it
	opts *session.Options

	// Write side: whoever holds mu writes (frames of its own, through
	// sock). pending says a flush is wanted; whoever sets it makes sure a
	// holder of mu will see it (kick).
	mu        sync.Mutex
	ended     bool          // guarded by mu: finish ran (or runs: it holds mu)
	try       bool          // guarded by mu: the flush at hand does not wait for the socket
	held      bool          // guarded by mu: it left frames for the writer goroutine
	canPark   bool          // the poller can hold the socket
	pings     bool          // the carrier's heartbeats ping, and its clients send nothing else
	pending   atomic.Bool   // something may be waiting to be written
	queued    atomic.Bool   // waiting for the flusher
	writer    atomic.Bool   // a writer goroutine runs
	lastWrite atomic.Int64  // wsClock of the last write
	hb        *time.Timer   // heartbeat
	lateArmed atomic.Bool   // on the late watch (wslate.go)
	calls     atomic.Uint64 // twice the deliveries the reader started; odd while one runs (delivering)
	lateCall  atomic.Uint64 // the one the late watch watches

	// Read side (wsread.go). The reader alone uses rbuf; heard and sockRD
	// are written under rmu or by the reader.
	rbuf      []byte       // message buffer for what gorilla reads
	heard     atomic.Int64 // wsClock when the peer was last heard from
	sockRD    atomic.Int64 // the socket's read deadline (wsClock) while not parked
	rmu       sync.Mutex
	parked    bool  // waiting in the poller, no goroutine reading
	closed    bool  // the socket is closed or about to be: never park
	probeFrom int64 // start of the last probe (wsClock)
	probeEnd  int64 // its end: the peer is dead then unless heard from since
	rt        *time.Timer
	watch     pollWatch // registration in the poller
}

var wsEpoch = time.Now()

// wsClock is the monotonic clock of the WebSocket carriers, in
// nanoseconds: one clock read, and an int64 atomics can hold.
func wsClock() int64 { return int64(time.Since(wsEpoch)) }

// wsTime turns a wsClock reading into a time.Time for a deadline.
func wsTime(c int64) time.Time { return wsEpoch.Add(time.Duration(c)) }

// upgrade upgrades r with a read buffer of our own, which gorilla uses in
// place of net/http's 4 KiB one (it does when ReadBufferSize is 0 and the
// hijacked reader is over 256 bytes), and with the socket behind w.sock.
func (w *wsConn) upgrade(up *websocket.Upgrader, rw http.ResponseWriter, r *http.Request) error {
	conn, err := up.Upgrade(&wsHijacker{ResponseWriter: rw, w: w}, r, nil)
	if err != nil {
		return err
	}
	w.conn = conn
	return nil
}

type wsHijacker struct {
	http.ResponseWriter
	w *wsConn
}

func (h *wsHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return nc, brw, err // gorilla refuses early data itself
	}
	h.w.sock.init(nc)
	h.w.br = bufio.NewReaderSize(nc, wsReadBuffer)
	return &h.w.sock, bufio.NewReadWriter(h.w.br, brw.Writer), nil
}

// setup gives an upgraded connection its carrier and options: the
// heartbeat interval, the heartbeat timeout (a peer silent so long is
// dead) and the read limit. readMessage enforces the limit, MaxSend, so
// that a message over it gets the carrier's close 4001 (SPEC.md §7).
// gorilla's own limit would answer with WebSocket's 1009 before the
// carrier could say anything, so it is set at twice MaxSend: a backstop
// that still bounds what the hello's read may take.
func (w *wsConn) setup(c wsCarrier, opts *session.Options) {
	w.c, w.opts = c, opts
	w.conn.SetReadLimit(2 * int64(MaxSend(opts)))
}

// start sets the connection going once the carrier wrote its opening: the
// heartbeat timer, the pong handler, a first flush, and the reader (parked
// at once when nothing is buffered). The caller's goroutine, net/http's,
// may then return, taking its grown stack with it.
func (w *wsConn) start() {
	w.sock.mu.Lock()
	w.sock.owner = w
	w.sock.mu.Unlock()
	w.conn.SetPongHandler(func(string) error {
		w.heard.Store(wsClock())
		return nil
	})
	now := wsClock()
	w.heard.Store(now)
	w.lastWrite.Store(now)
	w.mu.Lock()
	w.hb = time.AfterFunc(w.opts.HeartbeatInterval, w.heartbeat)
	w.mu.Unlock()
	w.pending.Store(true) // a replay, a close, what the app's handler sent
	if !w.flushHere(now) {
		w.finish()
		return
	}
	w.canPark = pollable(w.sock.Conn)
	if w.canPark && w.br.Buffered() == 0 {
		w.rmu.Lock()
		parked := w.parkLocked(int64(w.opts.HeartbeatTimeout))
		w.rmu.Unlock()
		if parked {
			return
		}
	}
	go w.read()
}

// wsLate is how long what a callback sent may wait for the callback to
// return, so the reader writes it with the reply. A callback that goes on
// working after a Send (a progress report, then a long computation) gets
// its messages written after this long (twice as long at most, three
// times when the watch was set for an earlier callback), not held back
// until it ends. The late watch (wslate.go) wakes once per wsLate while
// any connection is watched, so it is not much shorter.
const wsLate = 5 * time.Millisecond

// kick makes sure what the session queued gets written: by the reader if
// it runs callbacks now (it flushes after them, or the late watch hands
// the write on if they run on), else by the flusher or the writer (push).
func (w *wsConn) kick() {
	w.pending.Store(true)
	if w.delivering() {
		w.armLate()
		return
	}
	w.push()
}

// delivering reports whether the reader runs a message's callbacks.
func (w *wsConn) delivering() bool { return w.calls.Load()&1 != 0 }

// push has what is pending written by another goroutine: the flusher,
// which never waits for a socket, or, where writes must wait (TLS), the
// connection's writer.
func (w *wsConn) push() {
	if w.sock.rc != nil {
		wsFlush.add(w)
		return
	}
	w.startWriter()
}

// armLate puts the connection on the late watch (wslate.go), to watch
// the callback that runs now, unless it is on it already. Nothing takes it
// off when the callback returns: that would cost something per message,
// where a look now and then finds the callback it watched gone, and
// watches the next one if that sent something.
func (w *wsConn) armLate() {
	if !w.lateArmed.Load() && w.lateArmed.CompareAndSwap(false, true) {
		w.lateCall.Store(w.calls.Load())
		wsLateWatch.Add(w)
	}
}

// leftForWriter has the writer goroutine write what a write without
// waiting left behind (sock.rest): gorilla's, or what finish found.
func (w *wsConn) leftForWriter() {
	w.pending.Store(true) // for a writer about to leave
	w.startWriter()
}

// startWriter makes sure a writer goroutine will look at pending and at
// what a write without waiting left: it runs, or it is started. Running
// is also the state of a finished connection's writer, so that none
// starts again.
func (w *wsConn) startWriter() {
	if w.writer.CompareAndSwap(false, true) {
		go w.write()
	}
}

// write is the writer goroutine, for writes that must wait for the
// socket: it flushes until nothing is pending and exits. A setter of
// pending that finds it running relies on it to look again after it
// cleared writer.
func (w *wsConn) write() {
	for {
		w.mu.Lock()
		done, _ := w.flushLocked(false, false, wsClock())
		w.mu.Unlock()
		if done {
			w.shut() // writer stays set: none starts again
			return
		}
		w.writer.Store(false)
		if !w.pending.Load() || !w.writer.CompareAndSwap(false, true) {
			return
		}
	}
}

// flushHere flushes on the calling goroutine (the reader), waiting for
// the socket, unless another holds mu, which then sees pending itself. It
// reports false when the connection must end.
func (w *wsConn) flushHere(now int64) bool {
	if !w.mu.TryLock() {
		w.kick()
		return true
	}
	done, _ := w.flushLocked(false, true, now)
	w.mu.Unlock()
	if done {
		return false
	}
	if w.pending.Load() {
		w.kick()
	}
	return true
}

// flushLocked writes what is pending, first what an earlier write left.
// With try it does not wait for the socket (the flusher): what cannot go
// at once is held for the writer goroutine, which the caller must start
// (held), and pending stays set for it, so that a writer about to leave
// looks again. done reports that the connection must end. now is the
// caller's clock reading. With force the carrier flushes at least once,
// as if pending were set: the reader's flush after a message, which has
// the ack to write if nothing else. The caller holds mu.
func (w *wsConn) flushLocked(try, force bool, now int64) (done, held bool) {
	s := &w.sock
	if !try {
		s.mu.Lock()
	} else if !s.mu.TryLock() {
		w.pending.Store(true)
		return false, true // a writer that waits holds the socket
	}
	defer s.mu.Unlock()
	w.armWrite(now)
	w.try, w.held = try, false
	if s.closeSent || w.ended {
		return w.closing(try)
	}
	if !try && s.drainLocked() != nil {
		return true, false
	}
	for ; !w.held && (w.pending.Swap(false) || force); force = false {
		if w.c.flush() {
			if w.held {
				w.pending.Store(true) // the writer ends it (closing)
				return false, true
			}
			return true, false
		}
		w.lastWrite.Store(now)
	}
	if w.held {
		w.pending.Store(true)
	}
	return false, w.held
}

// closing is flushLocked once a close frame went out, the carrier's or
// gorilla's (sock.closeSent), or once the connection finished (ended,
// where the carrier's end may have had gorilla write one): nothing may
// follow, and the connection ends once it is written. Part of it may
// still wait in sock.rest, for the writer goroutine, which its holder
// started: a flush that does not wait (try) leaves it to that writer
// (held) and must not end the connection, which would close the socket
// under it; one that waits writes it, then ends. The caller holds mu and
// sock.mu.
func (w *wsConn) closing(try bool) (done, held bool) {
	if try && len(w.sock.rest) > 0 {
		w.pending.Store(true) // for a writer about to leave
		return false, true
	}
	w.sock.drainLocked()
	return true, false
}

// send writes frames for the carrier, within flushLocked or heartbeat:
// waiting for the socket or not, as the flush goes. The caller holds mu
// and sock.mu.
func (w *wsConn) send(frames []byte) error {
	held, err := w.sock.writeLocked(frames, w.try)
	if held {
		w.held = true
	}
	return err
}

// sendClose writes frames that end with a close frame: nothing is
// written after it.
func (w *wsConn) sendClose(frames []byte) error {
	err := w.send(frames)
	w.sock.closeSent = true
	return err
}

// armWrite gives the socket a write deadline a heartbeat timeout away,
// renewed only once an eighth of it went by: a write stalled that long
// fails. It renews whatever deadline the socket has (sock.wd): one
// gorilla set before its own write (over TLS, a second), or none (a past
// one that a write without waiting cleared) is renewed at once. The
// caller holds mu and sock.mu.
func (w *wsConn) armWrite(now int64) {
	t := int64(w.opts.HeartbeatTimeout)
	if w.sock.wd-now < t-t/8 {
		w.sock.setDeadlineLocked(now + t)
	}
}

// heartbeat runs on the heartbeat timer. It has the carrier write a
// heartbeat frame unless something was written within the interval; and
// for a carrier whose clients answer only pings (pings), a ping unless
// the peer was heard from within the interval, however much is written.
func (w *wsConn) heartbeat() {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return
	}
	now := wsClock()
	interval := w.opts.HeartbeatInterval
	written := time.Duration(now - w.lastWrite.Load())
	heard := time.Duration(now - w.heard.Load())
	frame, ping := written >= interval, w.pings && heard >= interval
	if !frame && !ping {
		next := interval - written
		if w.pings {
			next = min(next, interval-heard)
		}
		w.hb.Reset(next)
		w.mu.Unlock()
		// A flush that found mu taken meanwhile left its write to the
		// holder: this one looks, as every holder of mu does.
		if w.pending.Load() {
			w.kick()
		}
		return
	}
	w.sock.mu.Lock()
	if w.sock.closeSent {
		// Nothing may follow a close, and what sent it ends the
		// connection once it is written (closing): a heartbeat's write
		// failing here must not close the socket under a close still
		// held for the writer.
		w.sock.mu.Unlock()
		w.mu.Unlock()
		return
	}
	w.armWrite(now)
	w.try = false
	err := w.c.heartbeat(frame, ping)
	w.sock.mu.Unlock()
	w.lastWrite.Store(now)
	w.hb.Reset(interval)
	w.mu.Unlock()
	if err != nil {
		w.shut()
		return
	}
	if w.pending.Load() {
		w.kick()
	}
}

// shut ends the connection from the write side: the socket closes, which
// ends a reader that reads; a parked one has none, so its end runs here.
func (w *wsConn) shut() {
	w.rmu.Lock()
	parked := w.parked
	w.parked = false
	w.closeLocked()
	w.rmu.Unlock()
	if parked {
		w.c.readErr(net.ErrClosed)
		w.finish()
	}
}

// closeLocked leaves the poller, then closes the socket: in that order, so
// the poller never sees a descriptor number another connection reuses.
// The caller holds rmu.
func (w *wsConn) closeLocked() {
	if w.closed {
		return
	}
	w.closed = true
	if w.rt != nil {
		w.rt.Stop()
	}
	pollForget(&w.watch)
	w.sock.Conn.Close()
}

// finish runs once reading ended: the carrier's last word, then the close
// and the receiver's detach. Only the first call does anything. It marks
// the end (ended) under mu, not before taking it, so a flush that takes
// mu meanwhile still writes (the session's close, say) rather than end
// the connection and close the socket, to which the carrier's end would
// then write that close in vain.
func (w *wsConn) finish() {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return
	}
	w.ended = true
	w.hb.Stop()
	w.c.end()
	w.sock.mu.Lock()
	held := len(w.sock.rest) > 0
	w.sock.mu.Unlock()
	w.mu.Unlock()
	w.rmu.Lock()
	w.parked = false
	if !held {
		w.closeLocked()
	}
	w.rmu.Unlock()
	if held {
		// Frames (a close, likely: the carrier's end, its readErr) wait
		// for the writer goroutine: it writes them, then closes the
		// socket (closing), within the write deadline.
		w.leftForWriter()
	}
	w.c.detach()
}
