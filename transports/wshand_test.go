package transports

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/session"
)

// These tests drive a wsConn's write side by hand, on a socket of their
// own, so that a state which real sockets reach only by chance (a close
// held for the writer, say) is reached every time.

// memConn is a socket that takes every write that waits, and records it.
type memConn struct {
	net.Conn
	mu     sync.Mutex
	got    []byte
	closed bool
}

func (c *memConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.got = append(c.got, p...)
	return len(p), nil
}

func (c *memConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func (c *memConn) state() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.got), c.closed
}

func (*memConn) SetWriteDeadline(time.Time) error { return nil }
func (*memConn) SetDeadline(time.Time) error      { return nil }

// hijackRW answers an upgrade with its connection.
type hijackRW struct {
	http.ResponseWriter // nil: an upgrade that succeeds uses none of it
	c                   net.Conn
}

func (h *hijackRW) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.c, bufio.NewReadWriter(bufio.NewReader(h.c), bufio.NewWriter(h.c)), nil
}

// fullRaw is the raw side of a socket whose buffer is full: a write that
// does not wait writes nothing.
type fullRaw struct{}

func (fullRaw) Control(func(uintptr)) error    { return nil }
func (fullRaw) Read(func(uintptr) bool) error  { return nil }
func (fullRaw) Write(func(uintptr) bool) error { return nil }

// scriptCarrier writes what a test hands it: frames, or frames ending
// with a close. flushed is signalled after each flush.
type scriptCarrier struct {
	fakeCarrier
	mu      sync.Mutex
	frames  []byte
	close   bool
	flushed chan struct{}
	onEnd   func() // the carrier's last word (end)
}

func (c *scriptCarrier) end() {
	if c.onEnd != nil {
		c.onEnd()
	}
	if c.ended != nil {
		close(c.ended)
	}
}

func (c *scriptCarrier) flush() bool {
	c.mu.Lock()
	frames, closing := c.frames, c.close
	c.frames, c.close = nil, false
	c.mu.Unlock()
	defer func() { c.flushed <- struct{}{} }()
	switch {
	case closing:
		c.w.sendClose(frames)
		return true
	case len(frames) > 0:
		return c.w.send(frames) != nil
	}
	return false
}

// newHandConn returns a started-looking wsConn on a memConn, its
// heartbeat timer idle: the test calls heartbeat itself. A full socket
// (full) takes nothing without waiting.
func newHandConn(t *testing.T, interval time.Duration, full bool) (*wsConn, *scriptCarrier, *memConn) {
	t.Helper()
	mc := &memConn{}
	w := &wsConn{opts: &session.Options{HeartbeatInterval: interval, HeartbeatTimeout: time.Hour}}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if err := w.upgrade(&websocket.Upgrader{}, &hijackRW{c: mc}, r); err != nil {
		t.Fatal(err)
	}
	mc.got = nil // the upgrade's answer
	if full {
		w.sock.rc = fullRaw{}
	}
	w.sock.owner = w
	w.writer.Store(true) // the test runs the writer (write) itself
	c := &scriptCarrier{flushed: make(chan struct{}, 100)}
	c.w = w
	w.c = c
	w.hb = time.AfterFunc(time.Hour, func() {})
	w.hb.Stop()
	return w, c, mc
}

// holdClose has a close frame held for the writer goroutine, on a full
// socket: sent by the carrier, through the flusher, or by gorilla (a
// SockJS client's fault, a dead peer). It returns the close frame.
func holdClose(t *testing.T, w *wsConn, c *scriptCarrier, byGorilla bool) []byte {
	t.Helper()
	closeFrame := wsAppendClose(nil, websocket.CloseNormalClosure, "bye")
	if byGorilla {
		if _, err := w.sock.Write(closeFrame); err != nil {
			t.Fatal(err)
		}
	} else {
		c.frames, c.close = closeFrame, true
		w.mu.Lock()
		done, held := w.flushLocked(true, true, wsClock())
		w.mu.Unlock()
		if done || !held {
			t.Fatalf("flush: done %v, held %v; want the close held", done, held)
		}
	}
	if len(w.sock.rest) != len(closeFrame) {
		t.Fatalf("%d bytes held, want the %d of the close", len(w.sock.rest), len(closeFrame))
	}
	return closeFrame
}

// A heartbeat due, a flush by the flusher with something to write, a
// probe, or gorilla's pong, while a close frame waits for the writer
// goroutine, writes nothing and leaves the socket open: the writer then
// writes the close, last, and ends the connection. (The heartbeat's, the
// flusher's and the probe's writes failed behind the close, and they shut
// the socket with the close unwritten; the pong was written after the
// close.)
func TestWSHeldCloseGoesOutLast(t *testing.T) {
	for _, byGorilla := range []bool{false, true} {
		for _, by := range []string{"heartbeat", "flusher", "probe"} {
			t.Run(fmt.Sprint(by, " gorilla=", byGorilla), func(t *testing.T) {
				w, c, mc := newHandConn(t, time.Nanosecond, true)
				closeFrame := holdClose(t, w, c, byGorilla)
				pong := wsAppendFrame(nil, websocket.PongMessage, nil)
				if _, err := w.sock.Write(pong); err != websocket.ErrCloseSent {
					t.Fatalf("gorilla's pong after the close: err %v, want ErrCloseSent", err)
				}
				switch by {
				case "heartbeat":
					w.heartbeat() // due: nothing was written within the interval
				case "flusher":
					c.frames = []byte("late")
					w.pending.Store(true)
					w.flushTry()
				case "probe":
					w.probe(time.Second) // its ping cannot follow the close
				}
				if got, closed := mc.state(); closed || len(got) > 0 {
					t.Fatalf("closed %v, written % x; want open, nothing", closed, got)
				}
				w.write() // the writer goroutine its holder started
				got, closed := mc.state()
				if !bytes.Equal(got, closeFrame) || !closed {
					t.Fatalf("after the writer: closed %v, written % x; want closed after % x", closed, got, closeFrame)
				}
			})
		}
	}
}

// A heartbeat with nothing due that finds a flush wanted (pending: one
// that found the write lock taken left it to the holder) has it made:
// nothing else would make it until the next write.
func TestWSQuietHeartbeatFlushesPending(t *testing.T) {
	w, c, mc := newHandConn(t, time.Hour, false)
	w.writer.Store(false) // the writer goroutine may start
	w.lastWrite.Store(wsClock())
	c.frames = []byte("left")
	w.pending.Store(true)
	w.heartbeat() // nothing due: written within the interval
	select {
	case <-c.flushed:
	case <-time.After(10 * time.Second):
		t.Fatal("the pending flush was not made")
	}
	w.mu.Lock() // the flush is over
	got, _ := mc.state()
	w.mu.Unlock()
	if string(got) != "left" {
		t.Fatalf("written %q", got)
	}
}

// The carriers' write deadline is renewed once an eighth of it went by,
// not per write, and at once when the socket has none: a write without
// waiting clears one that passed.
func TestWSArmWriteRenewsSeldom(t *testing.T) {
	cc := &countingConn{}
	const timeout = 8 * time.Second
	w := &wsConn{opts: &session.Options{HeartbeatTimeout: timeout}}
	w.sock.init(cc)
	now := wsClock()
	eighth := int64(timeout / 8)
	for _, step := range []struct {
		at    int64
		clear bool
		sets  int
	}{
		{now, false, 1},
		{now + eighth, false, 1}, // no more than an eighth went by
		{now + eighth + 1, false, 2},
		{now + eighth + 2, true, 4}, // cleared (3), renewed (4)
	} {
		if step.clear {
			w.sock.setDeadlineLocked(0)
		}
		w.armWrite(step.at)
		if cc.n != step.sets {
			t.Fatalf("at +%v: %d deadlines set, want %d", time.Duration(step.at-now), cc.n, step.sets)
		}
	}
	if want := now + eighth + 2 + int64(timeout); w.sock.wd != want {
		t.Fatalf("deadline at +%v, want +%v", time.Duration(w.sock.wd-now), time.Duration(want-now))
	}
}

// A flush that takes mu while finish waits for it writes what it has
// (the session's close, say) and ends the connection, rather than end it
// unwritten and close the socket under the carrier's end: finish marks
// the end under mu, not before taking it.
func TestWSFlushBeforeFinishWrites(t *testing.T) {
	w, c, mc := newHandConn(t, time.Hour, false)
	c.ended = make(chan struct{})
	w.mu.Lock()
	go w.finish()
	waitStack(t, "transports.(*wsConn).finish(", "sync.(*Mutex).Lock(")
	closeFrame := wsAppendClose(nil, websocket.CloseNormalClosure, "bye")
	c.frames, c.close = closeFrame, true
	done, _ := w.flushLocked(false, true, wsClock())
	w.mu.Unlock()
	<-c.ended
	if got, _ := mc.state(); !done || !bytes.Equal(got, closeFrame) {
		t.Fatalf("done %v, written % x; want done after % x", done, got, closeFrame)
	}
}

// A close the carrier's end has gorilla write, which the socket cannot
// take at once, goes out before the socket closes: finish leaves the
// close of the socket to the writer goroutine, which writes it first.
func TestWSFinishLeavesHeldCloseToWriter(t *testing.T) {
	w, c, mc := newHandConn(t, time.Hour, true)
	c.ended = make(chan struct{})
	closeFrame := wsAppendClose(nil, websocket.CloseProtocolError, "bad")
	c.onEnd = func() { w.conn.WriteControl(websocket.CloseMessage, closeFrame[2:], time.Now().Add(time.Second)) }
	w.finish()
	if got, closed := mc.state(); closed || len(got) > 0 {
		t.Fatalf("after finish: closed %v, written % x; want open, nothing", closed, got)
	}
	w.write() // the writer goroutine finish made sure of
	got, closed := mc.state()
	if !bytes.Equal(got, closeFrame) || !closed {
		t.Fatalf("after the writer: closed %v, written % x; want closed after % x", closed, got, closeFrame)
	}
}

// waitStack waits for a goroutine whose stack holds every one of marks.
func waitStack(t *testing.T, marks ...string) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			all := true
			for _, m := range marks {
				all = all && strings.Contains(g, m)
			}
			if all {
				return
			}
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no goroutine at %q", marks)
		}
	}
}
