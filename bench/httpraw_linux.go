package bench

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawIO reads and writes a TCP connection with raw system calls under the
// runtime's poller: the socket is non-blocking, so a read or write returns
// at once (EAGAIN hands the wait to the poller, as net.Conn does), and a
// raw call spares each one the scheduler's system-call bookkeeping, which
// in a ping-pong load wakes the runtime's monitor thread at almost every
// request: a context switch per round trip that the driver would charge
// to every measurement.
type rawIO struct {
	rc      syscall.RawConn
	readFn  func(fd uintptr) bool // method values, made once: no allocation per call
	writeFn func(fd uintptr) bool
	p       []byte
	n       int
	err     error
}

// newRawIO returns raw I/O for c, or nil when c is not a TCP connection.
func newRawIO(c net.Conn) io.ReadWriter {
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
	r.p, r.n, r.err = p, 0, nil
	err := r.rc.Read(r.readFn)
	n, rerr := r.n, r.err
	r.p, r.err = nil, nil
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
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch errno {
		case 0:
			r.n = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		r.err = errno
		return true
	}
}

func (r *rawIO) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.err = p, 0, nil
	err := r.rc.Write(r.writeFn)
	n, werr := r.n, r.err
	r.p, r.err = nil, nil
	if err == nil {
		err = werr
	}
	return n, err
}

func (r *rawIO) writeFD(fd uintptr) bool {
	for r.n < len(r.p) {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.p[r.n])), uintptr(len(r.p)-r.n))
		switch errno {
		case 0:
			r.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.err = errno
			return true
		}
	}
	return true
}
