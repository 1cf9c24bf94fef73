//go:build linux

package transports

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// parkPoller watches the sockets of parked polls (park.go) in one epoll
// set. Each registration is one-shot, for readability or the peer's
// hang-up, and carries a sequence number besides the descriptor, so an
// event meant for a connection that is gone never reaches another that
// reused its descriptor. Its goroutine runs while any poll is parked and
// leaves within a second of the last.
type parkPoller struct {
	once sync.Once
	epfd int // set by once: -1 when epoll is unavailable

	mu      sync.Mutex
	polls   map[int32]*parkedPoll
	seq     uint32
	running bool
}

var parkPoll = &parkPoller{}

// pollWatch is a parked poll's registration: fd is valid while seq != 0.
type pollWatch struct {
	fd  int32
	seq uint32
}

const parkPollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// pollerAvailable reports whether polls can be parked: every held poll
// asks, so after the first call it is one atomic load.
func pollerAvailable() bool {
	p := parkPoll
	p.once.Do(p.open)
	return p.epfd >= 0
}

func (p *parkPoller) open() {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		p.epfd = -1
		return
	}
	p.epfd, p.polls = fd, make(map[int32]*parkedPoll)
}

// pollWatchConn registers pp's socket and reports whether it could: a
// connection without a descriptor (one a listener wrapped) cannot be.
func pollWatchConn(pp *parkedPoll) bool {
	fd, ok := connFD(pp.nc)
	if !ok {
		return false
	}
	if !pollerAvailable() {
		return false
	}
	p := parkPoll
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	if p.seq == 0 {
		p.seq = 1
	}
	ev := syscall.EpollEvent{Events: parkPollEvents, Fd: fd, Pad: int32(p.seq)}
	if syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev) != nil {
		return false
	}
	pp.watch = pollWatch{fd: fd, seq: p.seq}
	p.polls[fd] = pp
	if !p.running {
		p.running = true
		go p.run()
	}
	return true
}

// pollForgetConn takes a parked poll's socket out of the poller, before
// the socket is closed or handed back.
func pollForgetConn(w *pollWatch) {
	if w.seq == 0 {
		return
	}
	p := parkPoll
	p.mu.Lock()
	if pp := p.polls[w.fd]; pp != nil && pp.watch.seq == w.seq {
		delete(p.polls, w.fd)
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(w.fd), nil)
	}
	w.seq = 0
	p.mu.Unlock()
}

// pollPeerGone reports whether the watched socket's peer has closed it (or
// it failed); a socket with bytes to read, or none yet, is not gone.
func pollPeerGone(w *pollWatch) bool {
	if w.seq == 0 {
		return false
	}
	var b [1]byte
	n, _, err := syscall.Recvfrom(int(w.fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return false
	case err != nil:
		return true
	}
	return n == 0
}

func (p *parkPoller) run() {
	events := make([]syscall.EpollEvent, 128)
	var ready []*parkedPoll
	for {
		n, err := syscall.EpollWait(p.epfd, events, 1000)
		if err != nil && err != syscall.EINTR {
			time.Sleep(10 * time.Millisecond) // not expected; do not spin
		}
		p.mu.Lock()
		if n <= 0 && len(p.polls) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		for _, ev := range events[:max(n, 0)] {
			if pp := p.polls[ev.Fd]; pp != nil && pp.watch.seq == uint32(ev.Pad) {
				ready = append(ready, pp)
			}
		}
		p.mu.Unlock()
		for i, pp := range ready {
			pp.readable()
			ready[i] = nil
		}
		ready = ready[:0]
	}
}

// connFD returns the descriptor of a connection that has one.
func connFD(nc net.Conn) (int32, bool) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := int32(-1)
	if rc.Control(func(s uintptr) { fd = int32(s) }) != nil || fd < 0 {
		return 0, false
	}
	return fd, true
}
