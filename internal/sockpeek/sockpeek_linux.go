package sockpeek

import (
	"syscall"
	"unsafe"
)

// FD peeks at the socket fd with one non-blocking MSG_PEEK: readable when
// anything waits (bytes, the peer's close, an error), gone when that is
// the close (0 bytes) or an error (a reset). It allocates nothing, so it
// may run once per request.
func FD(fd uintptr) (readable, gone bool) {
	var b [1]byte
	for {
		n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			return true, n == 0
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false, false
		}
		return true, true
	}
}
