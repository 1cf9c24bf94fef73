//go:build unix

package transports

import (
	"net"
	"syscall"
)

// rawWriter returns the raw connection through which a write that must
// not wait reaches nc's socket: a plain TCP one only (TLS must write
// whole records).
func rawWriter(nc net.Conn) syscall.RawConn {
	if tc, ok := nc.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			return rc
		}
	}
	return nil
}

// write writes t.p to the socket until it would block; it never waits.
func (t *wsTry) write(fd uintptr) bool {
	for t.n < len(t.p) {
		n, err := syscall.Write(int(fd), t.p[t.n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			if err != syscall.EAGAIN {
				t.err = err
			}
			break
		}
		t.n += n
	}
	return true
}
