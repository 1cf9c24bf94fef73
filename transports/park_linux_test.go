package transports

import (
	"net/http"
	"syscall"
	"testing"

	"github.com/tether-rt/tether/protocol"
)

// failWatches makes the poller refuse every new registration with errno,
// for the rest of the test.
func failWatches(t *testing.T, errno syscall.Errno) {
	p := thePoller
	p.mu.Lock()
	ctl := p.ctl
	p.ctl = func(epfd, op, fd int, ev *syscall.EpollEvent) error {
		if op == syscall.EPOLL_CTL_ADD {
			return errno
		}
		return ctl(epfd, op, fd, ev)
	}
	p.mu.Unlock()
	t.Cleanup(func() {
		p.mu.Lock()
		p.ctl = ctl
		p.mu.Unlock()
	})
}

// TestParkUnwatched: a poll whose socket the poller refuses for itself
// alone (here the kernel's limit on watches, ENOSPC) still waits parked,
// and is answered when the session has something; the server's next poll
// is parked too; and a client that left is found out when its next
// carrier is refused.
func TestParkUnwatched(t *testing.T) {
	g := newParkRig(t, longWait, 1, nil)
	failWatches(t, syscall.ENOSPC)
	c, br := g.dial()
	g.get(c, "/poll")
	g.await(c, http.StateHijacked, 1)
	g.l.Session().Send("hi")
	if _, body := readAnswer(t, br); body != "m1:\"hi\"\n" {
		t.Fatalf("answer %q, want the message", body)
	}
	if unparkable(g.srv.Config) {
		t.Fatal("one connection's refusal marked the server unparkable")
	}
	g.get(c, "/poll?ack=1")
	g.await(c, http.StateHijacked, 2)
	c.Close()
	awaitAttach(t, g)
}

// TestParkUnwatchable: a socket of a kind epoll does not take (EPERM)
// marks its server unparkable, and its poll gets a heartbeat at once.
func TestParkUnwatchable(t *testing.T) {
	g := newParkRig(t, longWait, 1, nil)
	failWatches(t, syscall.EPERM)
	c, br := g.dial()
	g.get(c, "/poll")
	if _, body := readAnswer(t, br); body != "h\n" {
		t.Fatalf("answer %q, want a heartbeat", body)
	}
	if !unparkable(g.srv.Config) {
		t.Fatal("the server is not marked unparkable")
	}
	if rcv, err := g.l.Attach(protocol.LongPoll, 0); err != nil {
		t.Fatalf("attach after the heartbeat: %v", err)
	} else {
		rcv.Detach()
	}
}
