package transports

import (
	"sync"
	"time"
)

// wsLateWatcher is the process's one watch over callbacks that sent
// something and run on (wsConn.armLate): a goroutine that wakes every
// wsLate while any connection is watched, and hands the write of such a
// callback on to the flusher. A timer per connection cost a timer update
// each time it was set and a goroutine each time it fired, which on busy
// connections was about once per wsLate each: per message, a share that
// showed in an echo's CPU time. Here a connection is put on a list, and a
// tick costs one wake-up for all of them.
//
// A connection added during one tick period is looked at on the tick
// after the next, so a callback gets at least wsLate, and at most twice
// that, before its message is handed on; when a later callback sent
// meanwhile, that one is looked at a tick later, having run for wsLate
// at least since it was seen.
type wsLateWatcher struct {
	mu      sync.Mutex
	fresh   []*wsConn // added since the last tick: looked at on the tick after the next
	due     []*wsConn // looked at on the next tick
	running bool      // the watching goroutine runs
}

var wsLateWatch wsLateWatcher

// add watches w, which is on no list (wsConn.lateArmed was clear).
func (lw *wsLateWatcher) add(w *wsConn) {
	lw.mu.Lock()
	lw.fresh = append(lw.fresh, w)
	start := !lw.running
	lw.running = true
	lw.mu.Unlock()
	if start {
		go lw.run()
	}
}

// run ticks while any connection is watched, and leaves when none is.
// Three lists take turns: the one looked at on this tick, the one for the
// next, the one filling; spare is the first once looked at.
func (lw *wsLateWatcher) run() {
	t := time.NewTicker(wsLate)
	defer t.Stop()
	var spare, again []*wsConn
	for range t.C {
		lw.mu.Lock()
		now := lw.due
		lw.due, lw.fresh = lw.fresh, spare[:0]
		if len(now) == 0 && len(lw.due) == 0 {
			lw.running = false
			lw.mu.Unlock()
			return
		}
		lw.mu.Unlock()
		for i, w := range now {
			now[i] = nil
			if w.lateCheck() {
				again = append(again, w)
			}
		}
		if len(again) > 0 {
			lw.mu.Lock()
			lw.due = append(lw.due, again...)
			lw.mu.Unlock()
			clear(again)
			again = again[:0]
		}
		spare = now[:0]
		if cap(spare) > 1<<16 {
			spare = nil // a crowd's list is not kept
		}
	}
}

// lateCheck looks at a watched connection: the callback it was watched
// for runs on and sent something, so the write is handed on; or a later
// callback sent and runs now, which is watched a tick longer (true); or
// nothing waits, and the watch ends.
func (w *wsConn) lateCheck() (again bool) {
	if call := w.calls.Load(); call&1 != 0 && w.pending.Load() {
		if call != w.lateCall.Load() {
			w.lateCall.Store(call) // a later callback sent: give it its wsLate
			return true
		}
		w.lateArmed.Store(false)
		w.push()
		return false
	}
	w.lateArmed.Store(false)
	// A kick that found the watch set just before it was cleared left the
	// callback it came from to this check.
	if w.delivering() && w.pending.Load() {
		w.armLate()
	}
	return false
}
