package bench

import (
	"io"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// rawIO reads and writes a TCP connection with raw system calls under the
// runtime's poller: the socket is non-blocking, so a read or write returns
// at once (EAGAIN hands the wait to the poller, as net.Conn does), and a
// raw call spares each one the scheduler's system-call bookkeeping, which
// in a ping-pong load wakes the runtime's monitor thread at almost every
// request: a context switch per round trip that the driver would charge
// to every measurement. One Read and one Write may run at once (a
// WebSocket's reader and writer); each keeps its own state.
type rawIO struct {
	rc      syscall.RawConn
	readFn  func(fd uintptr) bool // method values, made once: no allocation per call
	writeFn func(fd uintptr) bool

	rp   []byte
	rn   int
	rerr error

	wp   []byte
	wn   int
	werr error
}

func newRawTCP(c net.Conn) *rawIO {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawIO{rc: rc}
	r.readFn, r.writeFn = r.readFD, r.writeFD
	return r
}

func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.rp, r.rn, r.rerr = p, 0, nil
	err := r.rc.Read(r.readFn)
	n, rerr := r.rn, r.rerr
	r.rp, r.rerr = nil, nil
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, rerr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (r *rawIO) readFD(fd uintptr) bool {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.rp[0])), uintptr(len(r.rp)))
		switch errno {
		case 0:
			r.rn = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		r.rerr = errno
		return true
	}
}

func (r *rawIO) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.wp, r.wn, r.werr = p, 0, nil
	err := r.rc.Write(r.writeFn)
	n, werr := r.wn, r.werr
	r.wp, r.werr = nil, nil
	if err == nil {
		err = werr
	}
	return n, err
}

func (r *rawIO) writeFD(fd uintptr) bool {
	for r.wn < len(r.wp) {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.wp[r.wn])), uintptr(len(r.wp)-r.wn))
		switch errno {
		case 0:
			r.wn += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.werr = errno
			return true
		}
	}
	return true
}

// rawTCPConn is a TCP connection whose reads and writes are rawIO's, for
// the WebSocket library: everything else (close, addresses) is the
// connection's own. It also skips setting a write deadline the connection
// already has: gorilla/websocket sets one (usually none, again) before
// every frame it writes, under its write lock, and the poller's deadline
// update costs a few percent of a round trip.
type rawTCPConn struct {
	*net.TCPConn
	io *rawIO

	wd    time.Time // the write deadline in force, when wdSet
	wdSet bool
}

func (c *rawTCPConn) Read(p []byte) (int, error)  { return c.io.Read(p) }
func (c *rawTCPConn) Write(p []byte) (int, error) { return c.io.Write(p) }

func (c *rawTCPConn) SetWriteDeadline(t time.Time) error {
	if c.wdSet && t.Equal(c.wd) {
		return nil
	}
	err := c.TCPConn.SetWriteDeadline(t)
	c.wd, c.wdSet = t, err == nil
	return err
}

func (c *rawTCPConn) SetDeadline(t time.Time) error {
	err := c.TCPConn.SetDeadline(t)
	c.wd, c.wdSet = t, err == nil
	return err
}

// withRawIO returns c with raw reads and writes when it is a TCP
// connection, else c.
func withRawIO(c net.Conn) net.Conn {
	if r := newRawTCP(c); r != nil {
		return &rawTCPConn{TCPConn: c.(*net.TCPConn), io: r}
	}
	return c
}
