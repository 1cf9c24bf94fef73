package transports

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"time"

	"github.com/gorilla/websocket"
)

// The read side of a wsConn. The reader reads a client's frames straight
// from the read buffer when they are plain and whole (a final text or
// binary message, a ping, a pong: what clients send), and leaves the rest
// (a fragment, a close, a frame still arriving, an oversize one) to
// gorilla, at a message boundary where the two agree on where the stream
// stands. Between messages it waits up to wsLinger, then parks the socket
// in the poller.
//
// # Deadlines
//
// The peer is dead when it has been silent for the heartbeat timeout
// (heard + timeout), or sooner when a probe goes unanswered. Moving the
// socket's read deadline costs a runtime timer update, so the reader does
// not move it for every message: while it waits between messages the
// socket's deadline is the end of the linger, renewed only when less than
// half of it is left, and an early timeout is checked against the real
// deadline before anything is concluded from it. Only before gorilla reads
// (where a timeout is final) is the socket's deadline set to the real one.

// wsLinger is how long a reader that consumed everything waits for more
// before it parks. A busy connection's next message comes sooner, and
// waiting here is cheaper than parking and being started again.
const wsLinger = int64(50 * time.Millisecond)

// wsKeepRead bounds the message buffer a reader keeps between messages
// that gorilla read; a larger one is dropped after its message.
const wsKeepRead = 4 << 10

// read runs the reader until it parks or the connection ends. It reads
// the clock once per message, after the message's callbacks: for the
// write that follows, for when the peer was last heard from (as late as
// that, which is what a deadline reset after the message would say), and
// for the wait for the next message.
func (w *wsConn) read() {
	now := wsClock()
	for {
		if w.br.Buffered() == 0 && !w.wait(now) {
			return
		}
		op, msg, n := w.frame()
		if n == 0 {
			typ, m, err := w.readMessage()
			if err != nil {
				w.c.readErr(err)
				w.finish()
				return
			}
			ok := w.deliver(typ, m, &now)
			if cap(w.rbuf) > wsKeepRead {
				w.rbuf = nil
			}
			if !ok {
				return
			}
			continue
		}
		switch op {
		case websocket.PingMessage:
			// Answered from here: given to gorilla, the ping would be
			// handled and gorilla would then wait for a data message,
			// keeping the reader from parking. A failed write shows in
			// the next read.
			w.conn.WriteControl(websocket.PongMessage, msg, time.Now().Add(time.Second))
			now = wsClock()
			w.heard.Store(now)
		case websocket.PongMessage:
			now = wsClock()
			w.heard.Store(now)
		default:
			if !w.deliver(int(op), msg, &now) {
				return
			}
		}
		w.br.Discard(n)
	}
}

// deliver hands one message to the carrier, then writes what its
// callbacks queued and the ack; false means the connection ended. It sets
// *now, and when the peer was heard from, to the time the callbacks
// returned.
func (w *wsConn) deliver(typ int, msg []byte, now *int64) bool {
	w.calls.Add(1) // odd: delivering
	ok := w.c.message(typ, msg)
	w.calls.Add(1)
	*now = wsClock()
	w.heard.Store(*now)
	if !ok || !w.flushHere(*now) {
		w.finish()
		return false
	}
	return true
}

// frame returns the frame at the front of the read buffer, unmasked in
// place, when it is whole and one the reader takes itself: final, no
// extension bits, masked (as a client's must be), a text or binary
// message within the read limit, or a ping or pong. n is its size in the
// buffer; 0 leaves the frame to gorilla.
func (w *wsConn) frame() (op byte, payload []byte, n int) {
	buffered := w.br.Buffered()
	if buffered < 6 {
		return 0, nil, 0
	}
	h, _ := w.br.Peek(2)
	if h[0]&0xf0 != 0x80 || h[1]&0x80 == 0 {
		return 0, nil, 0
	}
	op = h[0] & 0x0f
	size, head := int(h[1]&0x7f), 6
	switch op {
	case websocket.TextMessage, websocket.BinaryMessage:
		if size == 126 {
			if buffered < 8 {
				return 0, nil, 0
			}
			h, _ = w.br.Peek(4)
			size, head = int(binary.BigEndian.Uint16(h[2:])), 8
		} else if size == 127 {
			return 0, nil, 0
		}
		if size > MaxSend(w.opts) {
			return 0, nil, 0 // gorilla refuses it
		}
	case websocket.PingMessage, websocket.PongMessage:
		if size > 125 {
			return 0, nil, 0
		}
	default:
		return 0, nil, 0
	}
	n = head + size
	if buffered < n {
		return 0, nil, 0
	}
	f, _ := w.br.Peek(n)
	payload = f[head:]
	wsUnmask(f[head-4:head], payload)
	return op, payload, n
}

// wsUnmask XORs p with the 4-byte masking key, eight bytes at a time.
func wsUnmask(key, p []byte) {
	k := uint64(binary.LittleEndian.Uint32(key))
	k |= k << 32
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k)
		p = p[8:]
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// readMessage has gorilla read the next message into the connection's
// message buffer, with the socket's read deadline the real one. A message
// over MaxSend is websocket.ErrReadLimit, found here rather than by
// gorilla (setup says why); reading stops there, so it holds at most one
// read more than the limit.
func (w *wsConn) readMessage() (int, []byte, error) {
	w.rmu.Lock()
	w.setReadLocked(w.deadlineLocked())
	w.rmu.Unlock()
	typ, r, err := w.conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	limit := MaxSend(w.opts)
	buf := w.rbuf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return 0, nil, websocket.ErrReadLimit
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	w.rbuf = buf
	return typ, buf, nil
}

// wait waits, from now on, for the client's next bytes. It reports false
// when the reader must return: the socket is parked. An error other than
// a timeout is left for the next read to report.
func (w *wsConn) wait(now int64) bool {
	linger := w.canPark
	for {
		w.armRead(now, linger)
		_, err := w.br.Peek(1)
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return true
		}
		w.rmu.Lock()
		d := w.deadlineLocked()
		now = wsClock()
		if now >= d {
			// Dead: the read that follows reports the timeout.
			w.setReadLocked(d)
			w.rmu.Unlock()
			return true
		}
		parked := linger && w.parkLocked(d-now)
		w.rmu.Unlock()
		if parked {
			return false
		}
		linger = false // no poller to hold it: wait for the real deadline
	}
}

// armRead gives the socket the read deadline a reader waiting at now
// needs: the end of the linger (or the real deadline if sooner), or, when
// it cannot park, the real deadline. It leaves a deadline that is close
// enough, never one past the real deadline: every deadline it sets is at
// most that, and a probe pulls an earlier one in itself.
func (w *wsConn) armRead(now int64, linger bool) {
	s := w.sockRD.Load()
	if linger {
		if s >= now+wsLinger/2 && s <= now+wsLinger {
			return
		}
	} else if t := int64(w.opts.HeartbeatTimeout); s >= now+t-t/8 {
		return
	}
	w.rmu.Lock()
	d := w.deadlineLocked()
	if linger {
		d = min(d, now+wsLinger)
	}
	w.setReadLocked(d)
	w.rmu.Unlock()
}

// setReadLocked sets the socket's read deadline to t (wsClock). The
// caller holds rmu.
func (w *wsConn) setReadLocked(t int64) {
	if w.sockRD.Load() != t {
		w.sockRD.Store(t)
		w.sock.Conn.SetReadDeadline(wsTime(t))
	}
}

// deadlineLocked returns when the peer is taken for dead (wsClock): a
// heartbeat timeout after it was last heard from, or the end of a probe it
// has not answered. The caller holds rmu.
func (w *wsConn) deadlineLocked() int64 {
	h := w.heard.Load()
	d := h + int64(w.opts.HeartbeatTimeout)
	if w.probeEnd != 0 && h <= w.probeFrom && w.probeEnd < d {
		d = w.probeEnd
	}
	return d
}

// parkLocked hands the socket to the poller, wait before the deadline,
// and reports whether it took it; the reader then returns. The caller
// holds rmu, which a readable event waits for.
func (w *wsConn) parkLocked(wait int64) bool {
	if w.closed || !pollArm(w, &w.watch, w.sock.Conn) {
		return false
	}
	w.parked = true
	// Nothing is buffered: an idle connection keeps no read buffers.
	*w.br = bufio.Reader{}
	w.rbuf = nil
	w.c.rest()
	w.sockRD.Store(0) // whatever it is, the next reader sets its own
	if w.rt == nil {
		w.rt = time.AfterFunc(time.Duration(wait), w.expire)
	} else {
		w.rt.Reset(time.Duration(wait))
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
	w.resume()
}

// resume starts a reader for a socket that came out of the poller: the
// peer sent something, which counts as hearing from it.
func (w *wsConn) resume() {
	w.heard.Store(wsClock())
	*w.br = *bufio.NewReaderSize(w.sock.Conn, wsReadBuffer)
	go w.read()
}

// expire runs when a parked socket's deadline may have passed.
func (w *wsConn) expire() {
	w.rmu.Lock()
	if !w.parked {
		w.rmu.Unlock()
		return
	}
	if wait := w.deadlineLocked() - wsClock(); wait > 0 {
		w.rt.Reset(time.Duration(wait)) // moved out meanwhile
		w.rmu.Unlock()
		return
	}
	w.parked = false
	if readable, _ := pollPeek(&w.watch); readable {
		// The client spoke in time; the poller is just late to say so.
		w.rmu.Unlock()
		w.resume()
		return
	}
	w.rmu.Unlock()
	w.c.readErr(os.ErrDeadlineExceeded)
	w.finish()
}

// probe checks that the peer is still there: a live one answers the ping,
// and a peer heard from after the ping is alive. A probe in flight is not
// restarted, or a client retrying its resume would keep a dead peer alive.
func (w *wsConn) probe(limit time.Duration) {
	now := wsClock()
	w.rmu.Lock()
	if now < w.probeEnd {
		w.rmu.Unlock()
		return
	}
	w.probeFrom, w.probeEnd = now, now+int64(limit)
	d := w.deadlineLocked()
	switch {
	case w.parked:
		w.rt.Reset(time.Duration(d - now))
	case !w.closed && w.sockRD.Load() > d:
		w.setReadLocked(d)
	}
	w.rmu.Unlock()
	err := w.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second))
	if err != nil && err != websocket.ErrCloseSent {
		// After a close, whoever sent it ends the connection once it is
		// written (closing): shut here could close the socket under a
		// close still held for the writer.
		w.shut()
	}
}
