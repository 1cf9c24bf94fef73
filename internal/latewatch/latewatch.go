// Package latewatch is a process-wide watch over things that may need a
// second look once some time has passed: a WebSocket whose callback sent
// something and runs on (transports), a session whose wake-ups a carrying
// send holds while its callback runs on (session). Each of those happens
// per message on a busy server; a timer each cost a timer update every
// time it was set and a goroutine every time it fired. Here an item is
// put on a list, and one goroutine, running only while a list is not
// empty, looks at all of them once per period.
//
// An item added during one period is looked at on the tick after the
// next, so it waits at least a period, and at most two, before its look.
// A look that asks for another (again) gets it a tick later.
package latewatch

import (
	"sync"
	"time"
)

// Watcher watches items of type T, calling look on each when its time
// comes. look runs on the watcher's goroutine, without the watcher's
// lock; it reports whether to look at the item again a tick later.
type Watcher[T any] struct {
	period time.Duration
	look   func(T) (again bool)

	mu      sync.Mutex
	fresh   []T  // added since the last tick: looked at on the tick after the next
	due     []T  // looked at on the next tick
	running bool // the watching goroutine runs
}

// New returns a watcher that ticks every period while it has items.
func New[T any](period time.Duration, look func(T) (again bool)) *Watcher[T] {
	return &Watcher[T]{period: period, look: look}
}

// Add watches x. The caller keeps x from being added twice before its
// look (a flag of its own): nothing here checks.
func (lw *Watcher[T]) Add(x T) {
	lw.mu.Lock()
	lw.fresh = append(lw.fresh, x)
	start := !lw.running
	lw.running = true
	lw.mu.Unlock()
	if start {
		go lw.run()
	}
}

// Running reports whether the watching goroutine runs (for tests: it must
// leave once nothing is watched).
func (lw *Watcher[T]) Running() bool {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.running
}

// run ticks while any item is watched, and leaves when none is. Three
// lists take turns: the one looked at on this tick, the one for the next,
// the one filling; spare is the first once looked at.
//
// Each tick is timed a period after the previous one was taken, not on a
// ticker's fixed schedule: a ticker whose goroutine ran late delivers its
// next tick early, which would look at items added just before the late
// one less than a period after they were added.
func (lw *Watcher[T]) run() {
	t := time.NewTimer(lw.period)
	defer t.Stop()
	var zero T
	var spare, again []T
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
		t.Reset(lw.period)
		for i, x := range now {
			now[i] = zero
			if lw.look(x) {
				again = append(again, x)
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
