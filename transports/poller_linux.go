//go:build linux

package transports

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tether-rt/tether/internal/sockpeek"
)

// poller watches, in one epoll set, the sockets that wait without a
// goroutine: idle WebSockets, whose readers have returned (wsread.go), and
// parked polls (park.go). Each registration is one-shot, so an event wakes
// its target once, and carries a sequence number besides the descriptor,
// so an event meant for a connection that is gone never reaches another
// that reused its descriptor. Its one goroutine runs while any socket is
// registered, and leaves within a second of the last.
type poller struct {
	state atomic.Int32 // pollerUnopened, pollerOpen or pollerMissing
	epfd  int          // set before state turns pollerOpen
	// create and ctl are syscall.EpollCreate1 and EpollCtl; tests make
	// them fail. ctl is called, and swapped, with mu held.
	create func(flags int) (int, error)
	ctl    func(epfd, op, fd int, ev *syscall.EpollEvent) error

	mu      sync.Mutex
	retry   time.Time // when a failed open may be tried again
	targets map[int32]pollEntry
	seq     uint32
	running bool
}

// The poller's states.
const (
	pollerUnopened = iota
	pollerOpen
	pollerMissing // epoll cannot be had
)

// pollerRetry is how long after a failure for want of descriptors or
// memory the poller's epoll set is tried again.
const pollerRetry = time.Second

type pollEntry struct {
	t   pollTarget
	seq uint32
}

var thePoller = &poller{create: syscall.EpollCreate1, ctl: syscall.EpollCtl}

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// pollWatch is a socket's registration in the poller: fd is valid while
// seq != 0. Its owner guards it.
type pollWatch struct {
	fd  int32
	seq uint32
}

// pollerAvailable reports whether sockets can wait in the poller: every
// held poll asks, so once the poller is open (or found missing) it is one
// atomic load.
func pollerAvailable() bool { return thePoller.available() }

func (p *poller) available() bool {
	if st := p.state.Load(); st != pollerUnopened {
		return st == pollerOpen
	}
	return p.open()
}

// open makes the epoll set and reports whether there is one. A failure
// for want of descriptors or memory (EMFILE, ENFILE, ENOMEM) is the
// moment's, tried again pollerRetry later, not a process without a poller
// for good; any other (no epoll: ENOSYS, or EPERM from a seccomp filter)
// is final.
func (p *poller) open() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st := p.state.Load(); st != pollerUnopened {
		return st == pollerOpen
	}
	now := time.Now()
	if now.Before(p.retry) {
		return false
	}
	fd, err := p.create(syscall.EPOLL_CLOEXEC)
	switch err {
	case nil:
		p.epfd, p.targets = fd, make(map[int32]pollEntry)
		p.state.Store(pollerOpen)
		return true
	case syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM:
		p.retry = now.Add(pollerRetry)
		return false
	}
	p.state.Store(pollerMissing)
	return false
}

// pollArm has the poller tell t once when nc's socket turns readable (or
// its peer hangs up), registering it in w the first time, and reports
// whether it could.
func pollArm(t pollTarget, w *pollWatch, nc net.Conn) bool {
	return pollWatchConn(t, w, nc) == nil
}

// pollWatchConn is pollArm that says why it could not: errUnwatchable when
// no connection like nc can wait in the poller, another error when this
// one cannot (closed meanwhile, or the kernel's limit on watches, ENOSPC,
// or its memory, ENOMEM, reached).
func pollWatchConn(t pollTarget, w *pollWatch, nc net.Conn) error {
	if !pollerAvailable() {
		return errUnwatchable
	}
	op, fd := syscall.EPOLL_CTL_MOD, w.fd
	if w.seq == 0 {
		var err error
		if fd, err = connFD(nc); err != nil {
			return err
		}
		op = syscall.EPOLL_CTL_ADD
	}
	p := thePoller
	p.mu.Lock()
	defer p.mu.Unlock()
	seq := w.seq
	if op == syscall.EPOLL_CTL_ADD {
		p.seq++
		if p.seq == 0 {
			p.seq = 1
		}
		seq = p.seq
	}
	ev := syscall.EpollEvent{Events: pollEvents, Fd: fd, Pad: int32(seq)}
	if err := p.ctl(p.epfd, op, int(fd), &ev); err != nil {
		if err == syscall.EPERM {
			// A descriptor epoll cannot watch (not a socket): the
			// listener's other connections are the same kind.
			return errUnwatchable
		}
		return err
	}
	*w = pollWatch{fd: fd, seq: seq}
	p.targets[fd] = pollEntry{t: t, seq: seq}
	if !p.running {
		p.running = true
		go p.run()
	}
	return nil
}

// pollForget takes the watched socket out of the poller, before it is
// closed or handed back.
func pollForget(w *pollWatch) {
	if w.seq == 0 {
		return
	}
	p := thePoller
	p.mu.Lock()
	if e, ok := p.targets[w.fd]; ok && e.seq == w.seq {
		delete(p.targets, w.fd)
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(w.fd), nil)
	}
	w.seq = 0
	p.mu.Unlock()
}

// pollPeek looks at the watched socket without taking anything from it,
// for a timer that may run before the poller told what it saw: readable
// when a read would not wait (bytes, the end of stream or an error), gone
// when that is the end or an error.
func pollPeek(w *pollWatch) (readable, gone bool) {
	if w.seq == 0 {
		return false, false
	}
	return sockpeek.FD(uintptr(w.fd))
}

// connGone reports whether nc's peer has closed it (or it failed), by a
// look at its socket, for a connection the poller does not watch: false
// when that cannot be told.
func connGone(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	rc.Control(func(s uintptr) { _, gone = sockpeek.FD(s) })
	return gone
}

// pollable reports whether a WebSocket's socket may wait in the poller:
// only a plain TCP one, since TLS buffers data of its own, which the
// poller would not see.
func pollable(nc net.Conn) bool {
	_, ok := nc.(*net.TCPConn)
	return ok && pollerAvailable()
}

func (p *poller) run() {
	events := make([]syscall.EpollEvent, 128)
	var ready []pollTarget
	for {
		n, err := syscall.EpollWait(p.epfd, events, 1000)
		if err != nil && err != syscall.EINTR {
			time.Sleep(10 * time.Millisecond) // not expected; do not spin
		}
		p.mu.Lock()
		if n <= 0 && len(p.targets) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		for _, ev := range events[:max(n, 0)] {
			if e, ok := p.targets[ev.Fd]; ok && e.seq == uint32(ev.Pad) {
				ready = append(ready, e.t)
			}
		}
		p.mu.Unlock()
		for i, t := range ready {
			t.readable()
			ready[i] = nil
		}
		ready = ready[:0]
	}
}

// connFD returns the descriptor of a connection: errUnwatchable for one
// without (a listener wrapped it), the error of one closed meanwhile.
func connFD(nc net.Conn) (int32, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0, errUnwatchable
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, errors.Join(errUnwatchable, err)
	}
	fd := int32(-1)
	if err := rc.Control(func(s uintptr) { fd = int32(s) }); err != nil {
		return 0, err
	}
	if fd < 0 {
		return 0, errUnwatchable
	}
	return fd, nil
}
