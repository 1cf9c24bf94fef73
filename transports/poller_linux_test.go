package transports

import (
	"syscall"
	"testing"
	"time"
)

// TestPollerOpenRetries: a poller that could not make its epoll set for
// want of descriptors (EMFILE) makes it at a later try, once the retry is
// due; one that found epoll missing (ENOSYS) never tries again.
func TestPollerOpenRetries(t *testing.T) {
	for _, c := range []struct {
		errno syscall.Errno
		later bool // available at the later try
	}{{syscall.EMFILE, true}, {syscall.ENFILE, true}, {syscall.ENOSYS, false}} {
		var fail syscall.Errno = c.errno
		tries := 0
		p := &poller{create: func(flags int) (int, error) {
			tries++
			if fail != 0 {
				return -1, fail
			}
			return syscall.EpollCreate1(flags)
		}}
		if p.available() {
			t.Fatalf("%v: available after a failed open", c.errno)
		}
		p.available() // before the retry is due: no new try
		fail = 0
		p.mu.Lock()
		p.retry = time.Time{} // the retry is due
		p.mu.Unlock()
		if got := p.available(); got != c.later {
			t.Fatalf("%v: available %v at the later try, want %v", c.errno, got, c.later)
		}
		if want := map[bool]int{true: 2, false: 1}[c.later]; tries != want {
			t.Fatalf("%v: epoll made %d times, want %d", c.errno, tries, want)
		}
		if c.later {
			syscall.Close(p.epfd)
		}
	}
}
