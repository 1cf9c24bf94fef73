package transports

import "testing"

// Under steady load the flusher's queue never runs dry: connections are
// added as fast as they are taken. It must still take them in order and
// not grow with all the traffic: its flushed front is dropped.
func TestWSFlushQueueStaysSmallUnderLoad(t *testing.T) {
	const backlog, total = 10, 50 * wsFlushCompact
	conns := make([]*wsConn, backlog+total)
	for i := range conns {
		conns[i] = &wsConn{}
	}
	f := &wsFlusher{running: 1}
	f.queue = append(f.queue, conns[:backlog]...)
	for i := range total {
		f.queue = append(f.queue, conns[backlog+i]) // as add does
		if w := f.next(); w != conns[i] {
			t.Fatalf("take %d: got the connection at %d", i, index(conns, w))
		}
		if waiting := len(f.queue) - f.head; waiting != backlog {
			t.Fatalf("take %d: %d waiting, want %d", i, waiting, backlog)
		}
		if len(f.queue) > 2*wsFlushCompact+backlog {
			t.Fatalf("take %d: the queue holds %d entries for %d waiting", i, len(f.queue), backlog)
		}
	}
	for i := range backlog {
		if w := f.next(); w != conns[total+i] {
			t.Fatalf("draining %d: got the connection at %d", i, index(conns, w))
		}
	}
	if w := f.next(); w != nil || f.running != 0 || f.head != 0 || len(f.queue) != 0 {
		t.Fatalf("drained: got %p, running %d, head %d, %d queued", w, f.running, f.head, len(f.queue))
	}
}

func index(conns []*wsConn, w *wsConn) int {
	for i, c := range conns {
		if c == w {
			return i
		}
	}
	return -1
}
