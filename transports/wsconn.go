package transports

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
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
	// connection.
	message(typ int, msg []byte) bool
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
// or a writer goroutine started on demand, which exits when nothing is
// left, so an app's Send never waits for the network.
type wsConn struct {
	c        wsCarrier
	conn     *websocket.Conn
	nc       net.Conn
	br       *bufio.Reader // gorilla reads through it; ours, to see it drained
	interval time.Duration // heartbeat interval
	timeout  time.Duration // heartbeat timeout: a peer silent so long is dead
	release  func()        // detaches the receiver, after the close
	canPark  bool          // the poller can hold the socket

	// Write side: gorilla allows one writer at a time; whoever holds mu
	// writes. pending says a flush is wanted; whoever sets it makes sure a
	// holder of mu will see it (kick).
	mu         sync.Mutex
	ended      bool         // guarded by mu: the connection is finished
	pending    atomic.Bool  // something may be waiting to be written
	writer     atomic.Bool  // a writer goroutine runs
	delivering atomic.Bool  // the reader runs a message's callbacks
	lastWrite  atomic.Int64 // monotonic nanoseconds (wsClock) of the last write
	hb         *time.Timer  // heartbeat
	late       *time.Timer  // starts a writer when a callback runs on after a Send
	lateArmed  atomic.Bool  // late is set to fire
	finished   atomic.Bool  // finish ran

	// Read side, guarded by rmu.
	rmu      sync.Mutex
	parked   bool      // waiting in the poller, no goroutine reading
	closed   bool      // the socket is closed or about to be: never park
	deadline time.Time // the peer is dead if silent until then
	probing  time.Time // end of the probe in flight, if any
	rt       *time.Timer
	pollFD   int32 // registration in the poller, when pollSeq != 0
	pollSeq  uint32
}

var wsEpoch = time.Now()

func wsClock() int64 { return int64(time.Since(wsEpoch)) }

// wsUpgrade upgrades r with a read buffer of our own, which gorilla uses
// in place of net/http's 4 KiB one (it does when ReadBufferSize is 0 and
// the hijacked reader is over 256 bytes).
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
	return nc, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// start sets the connection going once the carrier wrote its opening: the
// heartbeat timer, the pong handler, a first flush, and the reader (parked
// at once when nothing is buffered). The caller's goroutine, net/http's,
// may then return, taking its grown stack with it.
func (w *wsConn) start() {
	w.conn.SetPongHandler(func(string) error {
		w.setDeadline(time.Now().Add(w.timeout))
		return nil
	})
	w.lastWrite.Store(wsClock())
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
	w.setDeadline(time.Now().Add(w.timeout))
	if w.canPark && w.br.Buffered() == 0 && w.park() {
		return
	}
	go w.read(false)
}

// read runs the reader until it parks or the connection ends. resumed
// says the poller found the socket readable, so it must not park at once.
func (w *wsConn) read(resumed bool) {
	for {
		w.setDeadline(time.Now().Add(w.timeout))
		if w.br.Buffered() == 0 {
			if !resumed && w.idle() {
				return
			}
			resumed = false
			w.br.Peek(1) // an error repeats in ReadMessage, which reports it
		}
		if w.controlFrame() {
			continue
		}
		typ, msg, err := w.conn.ReadMessage()
		if err != nil {
			w.c.readErr(err)
			w.finish()
			return
		}
		w.delivering.Store(true)
		ok := w.c.message(typ, msg)
		w.delivering.Store(false)
		if w.lateArmed.Swap(false) {
			w.late.Stop() // the flush below covers it
		}
		// Flush what the callbacks queued, and the ack of the message.
		w.pending.Store(true)
		if !ok || !w.flushHere() {
			w.finish()
			return
		}
	}
}

// wsLinger is how long a reader that consumed everything waits for more
// before it parks. A busy connection's next message comes sooner, and
// waiting here is cheaper than parking and being started again.
const wsLinger = 50 * time.Millisecond

// idle waits up to wsLinger for the client's next bytes, then parks the
// socket; it reports whether it did.
func (w *wsConn) idle() bool {
	if !w.canPark {
		return false
	}
	w.conn.SetReadDeadline(time.Now().Add(wsLinger))
	_, err := w.br.Peek(1)
	var ne interface{ Timeout() bool }
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		w.setDeadline(w.deadlineNow())
		return false // bytes came, or an error the reader reports
	}
	return w.park()
}

func (w *wsConn) deadlineNow() time.Time {
	w.rmu.Lock()
	defer w.rmu.Unlock()
	return w.deadline
}

// controlFrame consumes a ping or pong that is wholly buffered at a
// message boundary. Given to gorilla, it would be handled and then gorilla
// would wait for the next data message, keeping the reader from parking
// after every heartbeat's pong.
func (w *wsConn) controlFrame() bool {
	n := w.br.Buffered()
	if n < 6 {
		return false
	}
	h, _ := w.br.Peek(2)
	op, size := h[0]&0x0f, int(h[1]&0x7f)
	// FIN, no extension bits, masked (as a client must), short.
	if h[0]&0xf0 != 0x80 || h[1]&0x80 == 0 || size > 125 || n < 6+size ||
		(op != websocket.PingMessage && op != websocket.PongMessage) {
		return false
	}
	f, _ := w.br.Peek(6 + size)
	if op == websocket.PingMessage {
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = f[6+i] ^ f[2+i%4]
		}
		err := w.conn.WriteControl(websocket.PongMessage, payload, time.Now().Add(time.Second))
		if err != nil && err != websocket.ErrCloseSent {
			w.br.Discard(6 + size)
			return false // the next read fails and ends the connection
		}
	} else {
		w.setDeadline(time.Now().Add(w.timeout))
	}
	w.br.Discard(6 + size)
	return true
}

// setDeadline sets when a silent peer is taken for dead: the socket's read
// deadline while a reader reads, the read timer while parked.
func (w *wsConn) setDeadline(t time.Time) {
	w.rmu.Lock()
	w.deadline = t
	if w.parked {
		w.rt.Reset(time.Until(t))
	} else {
		w.conn.SetReadDeadline(t)
	}
	w.rmu.Unlock()
}

// park hands the socket to the poller and reports whether it took it; the
// reader then returns. The deadline keeps running on the read timer; past
// it already, the reader goes on to read, and fail.
func (w *wsConn) park() bool {
	w.rmu.Lock()
	defer w.rmu.Unlock()
	d := time.Until(w.deadline)
	if w.closed || d <= 0 || !pollPark(w) {
		w.conn.SetReadDeadline(w.deadline)
		return false
	}
	w.parked = true
	// Nothing is buffered: an idle connection keeps no read buffer.
	*w.br = bufio.Reader{}
	if w.rt == nil {
		w.rt = time.AfterFunc(d, w.expire)
	} else {
		w.rt.Reset(d)
	}
	return true
}

// readable is the poller's report that a parked socket has something to
// read (or an error to tell): a reader starts again.
func (w *wsConn) readable() {
	w.rmu.Lock()
	if !w.parked {
		w.rmu.Unlock()
		return // an event for a reader that already left the poller
	}
	w.parked = false
	w.rt.Stop()
	w.rmu.Unlock()
	*w.br = *bufio.NewReaderSize(w.nc, wsReadBuffer)
	go w.read(true)
}

// expire runs when a parked socket's deadline may have passed.
func (w *wsConn) expire() {
	w.rmu.Lock()
	if !w.parked {
		w.rmu.Unlock()
		return
	}
	if d := time.Until(w.deadline); d > 0 {
		w.rt.Reset(d) // moved out meanwhile
		w.rmu.Unlock()
		return
	}
	w.parked = false
	if pollHasData(w) {
		// The client spoke in time; the poller is just late to say so.
		w.rmu.Unlock()
		*w.br = *bufio.NewReaderSize(w.nc, wsReadBuffer)
		go w.read(true)
		return
	}
	w.rmu.Unlock()
	w.c.readErr(os.ErrDeadlineExceeded)
	w.finish()
}

// probe checks that the peer is still there: a live one answers the ping,
// which moves the deadline back out. A probe in flight is not restarted,
// or a client retrying its resume would keep a dead peer alive.
func (w *wsConn) probe(limit time.Duration) {
	now := time.Now()
	w.rmu.Lock()
	if now.Before(w.probing) {
		w.rmu.Unlock()
		return
	}
	w.probing = now.Add(limit)
	w.rmu.Unlock()
	w.setDeadline(w.probing)
	if w.conn.WriteControl(websocket.PingMessage, nil, now.Add(time.Second)) != nil {
		w.shut()
	}
}

// wsLate is how long what a callback sent may wait for the callback to
// return, so the reader writes it with the reply. A callback that goes on
// working after a Send (a progress report, then a long computation) gets a
// writer after this long, so its messages are not held back until it ends.
const wsLate = time.Millisecond

// kick makes sure what the session queued gets written: by the reader if
// it runs callbacks now (it flushes after them, or a writer starts after
// wsLate if they run on), else by a writer goroutine, started unless one
// runs.
func (w *wsConn) kick() {
	w.pending.Store(true)
	if w.delivering.Load() {
		if w.lateArmed.CompareAndSwap(false, true) {
			w.late.Reset(wsLate)
		}
		return
	}
	w.startWriter()
}

func (w *wsConn) startWriter() {
	if w.writer.CompareAndSwap(false, true) {
		go w.write()
	}
}

// lateWrite runs on the late timer: a callback is still running wsLate
// after it sent something.
func (w *wsConn) lateWrite() {
	if w.lateArmed.Swap(false) && w.pending.Load() {
		w.startWriter()
	}
}

// write is the on-demand writer: it flushes until nothing is pending and
// exits. A setter of pending that finds it running relies on it to look
// again after it cleared writer.
func (w *wsConn) write() {
	for {
		w.mu.Lock()
		done := w.flushLocked()
		w.mu.Unlock()
		w.writer.Store(false)
		if done {
			w.shut()
			return
		}
		if !w.pending.Load() || !w.writer.CompareAndSwap(false, true) {
			return
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
	for w.pending.Swap(false) {
		if w.c.flush() {
			return true
		}
		w.lastWrite.Store(wsClock())
	}
	return false
}

// heartbeat runs on the heartbeat timer: it writes one unless something
// was written within the interval.
func (w *wsConn) heartbeat() {
	w.mu.Lock()
	if w.ended {
		w.mu.Unlock()
		return
	}
	if idle := time.Duration(wsClock() - w.lastWrite.Load()); idle < w.interval {
		w.hb.Reset(w.interval - idle)
		w.mu.Unlock()
		return
	}
	err := w.c.heartbeat()
	w.lastWrite.Store(wsClock())
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
// and the receiver's detach.
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
}
