package transports

import (
	"encoding/binary"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
)

// wsSock is the write side of a WebSocket's socket, shared by the
// carrier, which writes its frames itself (wsAppendFrame), and gorilla,
// which writes control frames (pongs, pings, closes) and the opening
// through Write. Its lock keeps each write whole, and a write that could
// not wait may leave part of its frames unwritten (rest): everything
// after joins them until the carrier's writer goroutine, which the one
// that left them started, has written them, so the stream stays in order.
//
// The write deadline is passed on only when it changed: gorilla sets one
// before each control frame, the carriers renew theirs only now and then
// (wsConn.armWrite), and moving a socket's deadline costs a runtime timer
// update.
type wsSock struct {
	net.Conn
	rc    syscall.RawConn // nil: a write always waits (a TLS connection)
	owner *wsConn         // set when the carrier starts; before, gorilla's writes wait

	mu        sync.Mutex
	rest      []byte // frames a write without waiting left unwritten
	wd        int64  // the socket's write deadline (wsClock); 0: none
	closeSent bool   // a close frame went out: nothing may follow it
}

// init makes s the write side of nc.
func (s *wsSock) init(nc net.Conn) {
	s.Conn = nc
	s.rc = rawWriter(nc)
}

// Write is gorilla's: a control frame, or before the carrier starts, the
// opening. Once it started, gorilla's frames do not wait for the socket
// either (except over TLS): what the socket does not take at once, or
// what comes behind frames left unwritten, is left to the carrier's
// writer goroutine (owner), which writes it under the carrier's
// deadline, where gorilla's (a second) could cut the stream in the middle
// of a frame.
func (s *wsSock) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeSent {
		// The carrier's close: gorilla does not know of it, and would
		// answer a ping or echo the peer's close after it. Gorilla takes
		// this error for what it is (a pong's is ignored).
		return 0, websocket.ErrCloseSent
	}
	if len(p) > 0 && p[0] == 0x80|websocket.CloseMessage {
		s.closeSent = true // gorilla's close: the carriers write nothing after it
	}
	if s.owner == nil || s.rc == nil {
		if err := s.drainLocked(); err != nil {
			return 0, err
		}
		return s.Conn.Write(p)
	}
	if s.wd != 0 && wsClock() > s.wd {
		// A write that does not wait needs no deadline, and one past
		// would fail it.
		s.setDeadlineLocked(0)
	}
	held, err := s.putLocked(p, true)
	if err != nil {
		return 0, err
	}
	if held {
		s.owner.leftForWriter()
	}
	return len(p), nil
}

// SetWriteDeadline is gorilla's. It is ignored once gorilla's writes do
// not wait: the carrier's deadline stands, for its writer that does.
func (s *wsSock) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != nil && s.rc != nil {
		return nil
	}
	return s.setDeadlineLocked(wsClockOf(t))
}

// SetDeadline is gorilla's (around the upgrade).
func (s *wsSock) SetDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wd = wsClockOf(t)
	return s.Conn.SetDeadline(t)
}

// setDeadlineLocked sets the socket's write deadline to d (wsClock; 0:
// none) unless it is set already.
func (s *wsSock) setDeadlineLocked(d int64) error {
	if d == s.wd {
		return nil
	}
	s.wd = d
	if d == 0 {
		return s.Conn.SetWriteDeadline(time.Time{})
	}
	return s.Conn.SetWriteDeadline(wsTime(d))
}

// wsClockOf returns t on wsClock, 0 for the zero time.
func wsClockOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(int64(t.Sub(wsEpoch)), 1)
}

// drainLocked writes what was left unwritten, waiting as long as the
// deadline allows.
func (s *wsSock) drainLocked() error {
	if len(s.rest) == 0 {
		return nil
	}
	_, err := s.Conn.Write(s.rest)
	s.rest = nil // written, or the connection is done
	return err
}

// writeLocked writes p, whole frames, unless a close frame went out.
// Unless try, it waits for the socket as long as the deadline allows.
// With try it does not wait: what the socket does not take at once is
// kept (held) for a writer that waits, which must come. The caller holds
// mu.
func (s *wsSock) writeLocked(p []byte, try bool) (held bool, err error) {
	if s.closeSent {
		return false, websocket.ErrCloseSent
	}
	return s.putLocked(p, try)
}

func (s *wsSock) putLocked(p []byte, try bool) (held bool, err error) {
	if !try || s.rc == nil {
		if err := s.drainLocked(); err != nil {
			return false, err
		}
		_, err := s.Conn.Write(p)
		return false, err
	}
	if len(s.rest) > 0 {
		s.rest = append(s.rest, p...)
		return true, nil
	}
	n, err := s.tryWrite(p)
	if err != nil {
		return false, err
	}
	if n < len(p) {
		s.rest = append([]byte(nil), p[n:]...) // p is the caller's
		return true, nil
	}
	return false, nil
}

// tryWrite writes what of p the socket takes at once.
func (s *wsSock) tryWrite(p []byte) (int, error) {
	t := wsTries.Get().(*wsTry)
	t.p, t.n, t.err = p, 0, nil
	err := s.rc.Write(t.fd)
	if err == nil {
		err = t.err
	}
	n := t.n
	t.p, t.err = nil, nil
	wsTries.Put(t)
	return n, err
}

// wsTry is one tryWrite: what to write, how it went, and the function
// the socket's RawConn calls, made once per wsTry (a closure made per
// write would be allocated per write).
type wsTry struct {
	p   []byte
	n   int
	err error
	fd  func(fd uintptr) bool
}

var wsTries = sync.Pool{New: func() any {
	t := &wsTry{}
	t.fd = t.write
	return t
}}

// wsMaxHeader is the longest frame header a server writes: no mask, a
// 64-bit length.
const wsMaxHeader = 10

// wsBeginFrame reserves room for a frame's header; the caller appends the
// payload and calls wsEndFrame with the returned mark.
func wsBeginFrame(dst []byte) ([]byte, int) {
	return append(dst, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), len(dst)
}

// wsEndFrame writes the header of the frame begun at mark, a final frame
// of opcode op, and closes the room it did not need.
func wsEndFrame(dst []byte, mark int, op byte) []byte {
	n := len(dst) - mark - wsMaxHeader
	var h [wsMaxHeader]byte
	h[0] = 0x80 | op
	hl := 2
	switch {
	case n <= 125:
		h[1] = byte(n)
	case n <= 0xffff:
		h[1] = 126
		binary.BigEndian.PutUint16(h[2:], uint16(n))
		hl = 4
	default:
		h[1] = 127
		binary.BigEndian.PutUint64(h[2:], uint64(n))
		hl = 10
	}
	if hl < wsMaxHeader {
		copy(dst[mark+hl:], dst[mark+wsMaxHeader:])
		dst = dst[:len(dst)-(wsMaxHeader-hl)]
	}
	copy(dst[mark:], h[:hl])
	return dst
}

// wsAppendFrame appends a final frame of opcode op carrying payload.
func wsAppendFrame(dst []byte, op byte, payload []byte) []byte {
	dst, mark := wsBeginFrame(dst)
	return wsEndFrame(append(dst, payload...), mark, op)
}

// wsAppendClose appends a close frame with code and reason (cut at a rune
// boundary to fit a control frame), as gorilla's FormatCloseMessage does.
func wsAppendClose(dst []byte, code int, reason string) []byte {
	dst, mark := wsBeginFrame(dst)
	if code == websocket.CloseNoStatusReceived {
		return wsEndFrame(dst, mark, websocket.CloseMessage) // it has no payload
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	dst = append(dst, protocol.TruncateReason(reason)...)
	return wsEndFrame(dst, mark, websocket.CloseMessage)
}
