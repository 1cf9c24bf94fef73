//go:build linux

package transports

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// wsPoller holds the sockets of idle WebSockets, whose readers have
// returned, in one epoll set; its one goroutine starts a socket's reader
// again when the socket turns readable. Each registration is one-shot, so
// an event starts one reader, and carries a sequence number besides the
// descriptor, so an event meant for a connection that is gone never
// reaches another that reused its descriptor. The goroutine runs while any
// socket is registered, and leaves within a second of the last.
type wsPoller struct {
	mu      sync.Mutex
	epfd    int // -1 until first used; -2 when epoll is unavailable
	conns   map[int32]*wsConn
	seq     uint32
	running bool
}

var wsPoll = &wsPoller{epfd: -1}

const wsPollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// pollPark arms w's socket in the poller and reports whether it did; a
// socket that is not a plain TCP one (TLS buffers data of its own) is not
// parked. The caller holds w.rmu.
func pollPark(w *wsConn) bool {
	p := wsPoll
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epfd == -1 {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			p.epfd = -2
			return false
		}
		p.epfd, p.conns = fd, make(map[int32]*wsConn)
	}
	if p.epfd < 0 {
		return false
	}
	op := syscall.EPOLL_CTL_MOD
	if w.pollSeq == 0 {
		fd, ok := socketFD(w.sock.Conn)
		if !ok {
			return false
		}
		p.seq++
		if p.seq == 0 {
			p.seq = 1
		}
		w.pollFD, w.pollSeq = fd, p.seq
		op = syscall.EPOLL_CTL_ADD
	}
	ev := syscall.EpollEvent{Events: wsPollEvents, Fd: w.pollFD, Pad: int32(w.pollSeq)}
	if err := syscall.EpollCtl(p.epfd, op, int(w.pollFD), &ev); err != nil {
		if op == syscall.EPOLL_CTL_ADD {
			w.pollSeq = 0
		}
		return false
	}
	p.conns[w.pollFD] = w
	if !p.running {
		p.running = true
		go p.run()
	}
	return true
}

// pollForget takes w's socket out of the poller; the caller closes the
// socket after, holding w.rmu.
func pollForget(w *wsConn) {
	if w.pollSeq == 0 {
		return
	}
	p := wsPoll
	p.mu.Lock()
	if p.conns[w.pollFD] == w {
		delete(p.conns, w.pollFD)
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(w.pollFD), nil)
	}
	w.pollSeq = 0
	p.mu.Unlock()
}

// pollHasData reports whether w's parked socket has bytes (or its end)
// waiting to be read: the poller may not have run yet when the deadline
// timer does. The caller holds w.rmu.
func pollHasData(w *wsConn) bool {
	if w.pollSeq == 0 {
		return false
	}
	var b [1]byte
	n, _, err := syscall.Recvfrom(int(w.pollFD), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err == nil && n >= 0
}

// pollable reports whether pollPark can take nc's socket.
func pollable(nc net.Conn) bool {
	_, ok := nc.(*net.TCPConn)
	return ok
}

func socketFD(nc net.Conn) (int32, bool) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return 0, false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := int32(-1)
	if rc.Control(func(s uintptr) { fd = int32(s) }) != nil || fd < 0 {
		return 0, false
	}
	return fd, true
}

func (p *wsPoller) run() {
	events := make([]syscall.EpollEvent, 128)
	var ready []*wsConn
	for {
		n, err := syscall.EpollWait(p.epfd, events, 1000)
		if err != nil && err != syscall.EINTR {
			time.Sleep(10 * time.Millisecond) // not expected; do not spin
		}
		p.mu.Lock()
		if n <= 0 && len(p.conns) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		for _, ev := range events[:max(n, 0)] {
			if w := p.conns[ev.Fd]; w != nil && w.pollSeq == uint32(ev.Pad) {
				ready = append(ready, w)
			}
		}
		p.mu.Unlock()
		for i, w := range ready {
			w.readable()
			ready[i] = nil
		}
		ready = ready[:0]
	}
}
