package transports

import (
	"runtime"
	"sync"
)

// wsFlusher writes for WebSockets what is sent to them from outside their
// reader (an app's Send from another goroutine, a broadcast): a few
// goroutines, started when connections queue up and gone when none is
// left, each writing connection after connection without waiting for any
// socket. A write the socket cannot take at once is left to that
// connection's own writer goroutine (wsConn.write), so one stalled client
// holds up nobody. A broadcast to thousands of connections thus costs no
// goroutine wake-up per connection, and an idle connection still has no
// goroutine at all.
type wsFlusher struct {
	mu      sync.Mutex
	queue   []*wsConn // queue[head:] wait, each once (wsConn.queued)
	head    int
	running int // flusher goroutines
}

var wsFlush wsFlusher

// wsFlushBacklog is how many connections may wait per running flusher
// before another starts, up to GOMAXPROCS of them.
const wsFlushBacklog = 64

// wsFlushCompact is how many flushed entries may sit at the front of the
// queue, when they are at least half of it, before the rest moves down.
const wsFlushCompact = 1024

// add queues w, unless it waits already, and makes sure a flusher runs.
func (f *wsFlusher) add(w *wsConn) {
	if w.queued.Swap(true) {
		return // it is flushed after this: the flusher clears queued first
	}
	f.mu.Lock()
	f.queue = append(f.queue, w)
	start := f.running == 0
	if waiting := len(f.queue) - f.head; !start && waiting > wsFlushBacklog*f.running {
		start = f.running < runtime.GOMAXPROCS(0)
	}
	if start {
		f.running++
	}
	f.mu.Unlock()
	if start {
		go f.run()
	}
}

func (f *wsFlusher) run() {
	for w := f.next(); w != nil; w = f.next() {
		w.queued.Store(false)
		w.flushTry()
	}
}

// next takes the connection at the front of the queue; when none waits,
// it counts the calling flusher out and returns nil.
func (f *wsFlusher) next() *wsConn {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.head == len(f.queue) {
		f.running--
		if cap(f.queue) > 1<<16 {
			f.queue = nil // a huge broadcast's queue is not kept
		} else {
			f.queue = f.queue[:0]
		}
		f.head = 0
		return nil
	}
	w := f.queue[f.head]
	f.queue[f.head] = nil
	f.head++
	if f.head >= wsFlushCompact && 2*f.head >= len(f.queue) {
		// Under steady load the queue may never run dry: drop the
		// flushed front, or the slice grows with all traffic.
		n := copy(f.queue, f.queue[f.head:])
		clear(f.queue[n:])
		f.queue, f.head = f.queue[:n], 0
	}
	return w
}

// flushTry is the flusher's flush of w: it skips w if another holds its
// write lock (that one looks at pending once it lets go), and hands w to
// its writer goroutine what the socket did not take at once.
func (w *wsConn) flushTry() {
	if !w.mu.TryLock() {
		return
	}
	done, held := w.flushLocked(true, false, wsClock())
	w.mu.Unlock()
	switch {
	case done:
		w.shut()
	case held:
		w.startWriter()
	case w.pending.Load():
		// Set after the flush looked, while another flusher found mu
		// taken and left w to this one: queue it again.
		wsFlush.add(w)
	}
}
