package bench

import (
	"crypto/tls"
	"net"
	"syscall"

	"github.com/tether-rt/tether/internal/sockpeek"
)

// connProbe tells whether the server has given up a kept-alive connection
// while it sat idle between requests: its close (FIN, or RST) or bytes it
// sent unasked (a 408, a TLS close_notify) are waiting in the socket. It
// looks with sockpeek (one non-blocking MSG_PEEK, which neither waits nor
// takes anything), and only before a request is written: a request never
// written on a connection found closed is provably one the server never
// took, so it may go on a new connection whatever its method (httpc.go).
// It costs a system call per request on a reused connection, some 0.2 µs.
type connProbe struct {
	rc   syscall.RawConn
	fn   func(fd uintptr) bool // p.peek, made once: no allocation per request
	gone bool
}

// newConnProbe returns a probe of c's TCP socket (beneath TLS too), or nil
// when c has none.
func newConnProbe(c net.Conn) *connProbe {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	var tcp *net.TCPConn
	switch c := c.(type) {
	case *rawTCPConn:
		tcp = c.TCPConn
	case *net.TCPConn:
		tcp = c
	default:
		return nil
	}
	rc, err := tcp.SyscallConn()
	if err != nil {
		return nil
	}
	p := &connProbe{rc: rc}
	p.fn = p.peek
	return p
}

// closed reports whether the connection is seen given up (or was closed
// here); false when it looks whole, or when p is nil and nothing can be
// told.
func (p *connProbe) closed() bool {
	if p == nil {
		return false
	}
	if err := p.rc.Read(p.fn); err != nil {
		return true
	}
	return p.gone
}

func (p *connProbe) peek(fd uintptr) bool {
	// Anything there is the server's close (FIN, RST) or bytes nobody
	// asked for: either way the connection is given up.
	p.gone, _ = sockpeek.FD(fd)
	return true // never wait: the answer is now
}
