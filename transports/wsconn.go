package transports

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// wsReadBuffer is the read buffer of a WebSocket. Client messages are
// small; gorilla reads a payload larger than the buffer straight into the
// message, so a small buffer costs a syscall per message at most and
// keeps 10,000 idle connections small.
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
	// flush writes what the receiver has, with wsConn.mu held; done
	// reports that the close went out or the write failed, and the
	// connection must end.
	flush() (done bool)
	// heartbeat writes a heartbeat, with wsConn.mu held.
	heartbeat() error
	// end runs once, with wsConn.mu held, after reading ended and before
	// the connection closes.
	end()
}

// wsConn is one WebSocket's goroutine economy, shared by both dialects.
// An idle connection has no goroutine: its reader parks the socket in the
// process's poller (wspoll_linux.go) between messages, its heartbeat and
// its dead-peer deadline are timers, and writes are made by whoever has
// something to write — the reader after a message, which covers an echo,
// or a writer goroutine started on demand, which waits wsWriterLinger for
// more before it exits, so an app's Send never waits for the network and
// a connection written to often does not start a goroutine per write.
type wsConn struct {
	c        wsCarrier
	conn     *websocket.Conn
	nc       net.Conn      // the socket (gorilla has it wrapped in a wsNetConn)
	br       *bufio.Reader // gorilla reads through it; ours, to read frames from it
	interval time.Duration // heartbeat interval
	timeout  time.Duration // heartbeat timeout: a peer silent so long is dead
	limit    int           // read limit; 0: none
	release  func()        // detaches the receiver, after the close
	canPark  bool          // the poller can hold the socket

	// Write side: gorilla allows one writer at a time; whoever holds mu
	// writes. pending says a flush is wanted; whoever sets it makes sure a
	// holder of mu will see it (kick).
	mu         sync.Mutex
	ended      bool          // guarded by mu: the connection is finished
	wdl        int64         // guarded by mu: the write deadline given to gorilla (wsClock)
	pending    atomic.Bool   // something may be waiting to be written
	writer     atomic.Int32  // wsWriterNone, wsWriterRunning or wsWriterWaiting
	wake       chan struct{} // the writer's; written by it before it first waits
	delivering atomic.Bool   // the reader runs a message's callbacks
	lastWrite  atomic.Int64  // wsClock of the last write
	hb         *time.Timer   // heartbeat
	late       *time.Timer   // starts a writer when a callback runs on after a Send
	lateArmed  atomic.Bool   // late is set to fire
	calls      atomic.Uint64 // message deliveries the reader started
	lateCall   atomic.Uint64 // the one late watches
	finished   atomic.Bool   // finish ran

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
	pollFD    int32 // registration in the poller, when pollSeq != 0
	pollSeq   uint32
}

var wsEpoch = time.Now()

// wsClock is the monotonic clock of the WebSocket carriers, in
// nanoseconds: one clock read, and an int64 atomics can hold.
func wsClock() int64 { return int64(time.Since(wsEpoch)) }

// wsTime turns a wsClock reading into a time.Time for a deadline.
func wsTime(c int64) time.Time { return wsEpoch.Add(time.Duration(c)) }

// wsUpgrade upgrades r with a read buffer of our own, which gorilla uses
// in place of net/http's 4 KiB one (it does when ReadBufferSize is 0 and
// the hijacked reader is over 256 bytes). The net.Conn it returns is the
// socket itself, which gorilla has behind a wsNetConn.
func wsUpgrade(up *websocket.Upgrader, w http.ResponseWriter, r *http.Request) (*websocket.Conn, net.Conn, *bufio.Reader, error) {
	h := &wsHijacker{ResponseWriter: w}
	conn, err := up.Upgrade(h, r, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	return conn, h.nc, h.br, nil
}

type wsHijacker struct {
	http.ResponseWriter
	nc net.Conn
	br *bufio.Reader
}

func (h *wsHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return nc, brw, err // gorilla refuses early data itself
	}
	h.nc, h.br = nc, bufio.NewReaderSize(nc, wsReadBuffer)
	return &wsNetConn{Conn: nc}, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// wsNetConn is the socket as gorilla sees it. Gorilla sets the socket's
// write deadline before every frame it writes, which costs a runtime
// timer update each time the deadline is not the one already set; the
// carriers renew theirs only now and then (armWrite), so passing on a
// change only makes most writes skip it. Gorilla calls it with its write
// lock held.
type wsNetConn struct {
	net.Conn
	wd time.Time // the socket's write deadline
}

func (c *wsNetConn) SetWriteDeadline(t time.Time) error {
	if t.Equal(c.wd) {
		return nil
	}
	c.wd = t
	return c.Conn.SetWriteDeadline(t)
}

func (c *wsNetConn) SetDeadline(t time.Time) error {
	c.wd = t
	return c.Conn.SetDeadline(t)
}

// start sets the connection going once the carrier wrote its opening: the
// heartbeat timer, the pong handler, a first flush, and the reader (parked
// at once when nothing is buffered). The caller's goroutine, net/http's,
// may then return, taking its grown stack with it.
func (w *wsConn) start() {
	w.conn.SetPongHandler(func(string) error {
		w.heard.Store(wsClock())
		return nil
	})
	now := wsClock()
	w.heard.Store(now)
	w.lastWrite.Store(now)
	w.mu.Lock()
	w.hb = time.AfterFunc(w.interval, w.heartbeat)
	w.late = time.AfterFunc(time.Hour, w.lateWrite)
	w.late.Stop()
	w.mu.Unlock()
	w.pending.Store(true) // a replay, a close, what the app's handler sent
	if !w.flushHere() {
		w.finish()
		return
	}
	w.canPark = pollable(w.nc)
	if w.canPark && w.br.Buffered() == 0 {
		w.rmu.Lock()
		parked := w.parkLocked(int64(w.timeout))
		w.rmu.Unlock()
		if parked {
			return
		}
	}
	go w.read()
}

// wsLate is how long what a callback sent may wait for the callback to
// return, so the reader writes it with the reply. A callback that goes on
// working after a Send (a progress report, then a long computation) gets a
// writer after this long (twice as long at most, when the late timer was
// set for an earlier callback), so its messages are not held back until
// it ends. The timer fires at most once per wsLate on a busy connection,
// and each firing starts a goroutine, so it is not much shorter.
const wsLate = 5 * time.Millisecond

// kick makes sure what the session queued gets written: by the reader if
// it runs callbacks now (it flushes after them, or a writer starts after
// wsLate if they run on), else by the writer, started unless it runs.
func (w *wsConn) kick() {
	w.pending.Store(true)
	if w.delivering.Load() {
		w.armLate()
		return
	}
	w.startWriter()
}

// armLate sets the late timer to watch the callback that runs now, unless
// it is set already. It is not stopped when the callback returns: a timer
// update per message costs more than a firing now and then, which finds
// the callback it watched gone and watches the next one if that sent
// something.
func (w *wsConn) armLate() {
	if !w.lateArmed.Load() && w.lateArmed.CompareAndSwap(false, true) {
		w.lateCall.Store(w.calls.Load())
		w.late.Reset(wsLate)
	}
}

// lateWrite runs on the late timer: a callback that sent something may
// still be running.
func (w *wsConn) lateWrite() {
	if w.delivering.Load() && w.pending.Load() {
		if call := w.calls.Load(); call != w.lateCall.Load() {
			w.lateCall.Store(call) // a later callback sent: give it its wsLate
			w.late.Reset(wsLate)
			return
		}
		w.lateArmed.Store(false)
		w.startWriter()
		return
	}
	w.lateArmed.Store(false)
	// A kick that found the timer set just before it was cleared left the
	// callback it came from to this firing.
	if w.delivering.Load() && w.pending.Load() {
		w.armLate()
	}
}

// The writer's states. Running is also the state of a finished
// connection's writer, so that none starts again.
const (
	wsWriterNone    = iota // no writer goroutine
	wsWriterRunning        // it flushes, and sees pending when it is done
	wsWriterWaiting        // it waits on wake for wsWriterLinger
)

// wsWriterLinger is how long a writer with nothing left to write waits for
// more before it exits. A connection that is written to again within it
// (a broadcast's every receiver, a feed) reuses its goroutine and the
// stack it grew instead of starting one per write; an idle connection
// still has none after it.
const wsWriterLinger = time.Second

// startWriter makes sure a writer will look at pending: it runs, or it
// waits and is woken, or it is started.
func (w *wsConn) startWriter() {
	for {
		switch w.writer.Load() {
		case wsWriterRunning:
			return
		case wsWriterWaiting:
			if w.writer.CompareAndSwap(wsWriterWaiting, wsWriterRunning) {
				w.wake <- struct{}{}
				return
			}
		default:
			if w.writer.CompareAndSwap(wsWriterNone, wsWriterRunning) {
				go w.write()
				return
			}
		}
	}
}

// write is the writer: it flushes until nothing is pending, then waits
// for a wake-up until wsWriterLinger passes without one, and exits. A
// setter of pending that finds it running relies on it to look again
// after it left the running state. Its timer is set once and moved out
// only when it fires early, not at every wait: the linger counts from the
// last write.
func (w *wsConn) write() {
	linger := time.NewTimer(wsWriterLinger)
	defer linger.Stop()
	if w.wake == nil {
		w.wake = make(chan struct{}, 1)
	}
	for {
		w.mu.Lock()
		done := w.flushLocked()
		w.mu.Unlock()
		if done {
			w.shut() // the writer stays "running": none starts again
			return
		}
		w.writer.Store(wsWriterWaiting)
		if w.pending.Load() {
			if !w.writer.CompareAndSwap(wsWriterWaiting, wsWriterRunning) {
				<-w.wake // a kick took it over and is waking it
			}
			continue
		}
	wait:
		select {
		case <-w.wake:
		case <-linger.C:
			if left := wsWriterLinger - time.Duration(wsClock()-w.lastWrite.Load()); left > 0 {
				linger.Reset(left) // set for an earlier wait
				goto wait
			}
			if w.writer.CompareAndSwap(wsWriterWaiting, wsWriterNone) {
				return
			}
			linger.Reset(wsWriterLinger)
			<-w.wake
		}
	}
}

// flushHere flushes on the calling goroutine (the reader) unless a writer
// holds mu, which then sees pending itself. It reports false when the
// connection must end.
func (w *wsConn) flushHere() bool {
	if !w.mu.TryLock() {
		w.kick()
		return true
	}
	done := w.flushLocked()
	w.mu.Unlock()
	if done {
		return false
	}
	if w.pending.Load() {
		w.kick()
	}
	return true
}

func (w *wsConn) flushLocked() (done bool) {
	if w.ended {
		return true
	}
	now := wsClock()
	for w.pending.Swap(false) {
		w.armWrite(now)
		if w.c.flush() {
			return true
		}
		w.lastWrite.Store(now)
	}
	return false
}

// armWrite gives gorilla a write deadline a heartbeat timeout away,
// renewed only once an eighth of it went by: a write stalled that long
// fails. The caller holds mu.
func (w *wsConn) armWrite(now int64) {
	t := int64(w.timeout)
	if w.wdl-now < t-t/8 {
		w.wdl = now + t
		w.conn.SetWriteDeadline(wsTime(w.wdl))
	}
}

// heartbeat runs on the heartbeat timer: it writes one unless something
// was written within the interval.
func (w *wsConn) heartbeat() {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return
	}
	now := wsClock()
	if idle := time.Duration(now - w.lastWrite.Load()); idle < w.interval {
		w.hb.Reset(w.interval - idle)
		w.mu.Unlock()
		return
	}
	w.armWrite(now)
	err := w.c.heartbeat()
	w.lastWrite.Store(now)
	w.hb.Reset(w.interval)
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
	pollForget(w)
	w.nc.Close()
}

// finish runs once reading ended: the carrier's last word, then the close
// and the receiver's detach. A waiting writer is woken to see the end and
// exit.
func (w *wsConn) finish() {
	if !w.finished.CompareAndSwap(false, true) {
		return
	}
	w.mu.Lock()
	w.ended = true
	w.hb.Stop()
	w.late.Stop()
	w.c.end()
	w.mu.Unlock()
	w.rmu.Lock()
	w.parked = false
	w.closeLocked()
	w.rmu.Unlock()
	w.release()
	if w.writer.CompareAndSwap(wsWriterWaiting, wsWriterRunning) {
		w.wake <- struct{}{}
	}
}
