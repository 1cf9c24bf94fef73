// Package memtrim gives back what a crowd of sessions leaves behind once
// it is gone. Two things keep a process at the crowd's peak after the
// sessions themselves are free: a Go map never returns its buckets, so a
// table stays sized for its high-water mark, and a server that has gone
// quiet allocates little, so the runtime may not collect (and return to the
// operating system) the freed heap for minutes. HighWater decides when a
// table is worth rebuilding; Releaser returns the freed memory, at most once
// per interval for the whole process, since every table and carrier that
// asks shares one heap and a release is a full collection.
package memtrim

import (
	"runtime/debug"
	"sync"
	"time"
)

// MinDrop is the least drop below the high-water mark worth a rebuild:
// below it, the map and what it held weigh a few MiB at most.
const MinDrop = 1024

// HighWater is the most entries a table held since it was last rebuilt.
// The table's lock guards it.
type HighWater struct{ high int }

// Grew notes that the table now holds n entries.
func (h *HighWater) Grew(n int) { h.high = max(h.high, n) }

// High is the high-water mark.
func (h *HighWater) High() int { return h.high }

// Shrunk reports whether a table holding n entries is at most half of its
// high-water mark, and at least MinDrop below it. The trigger is the drop in
// what is held, not the number of removals: a table whose entries come and
// go in a balance never meets it, and each rebuild copies at most half of
// what was removed since the last one, so rebuilding is cheap over time.
func (h *HighWater) Shrunk(n int) bool { return h.high-n >= MinDrop && 2*n <= h.high }

// Rebuild returns a copy of m sized for what it holds (maps.Clone keeps
// the old size) and makes that the new high-water mark.
func Rebuild[M ~map[K]V, K comparable, V any](m M, h *HighWater) M {
	c := make(M, len(m))
	for k, v := range m {
		c[k] = v
	}
	h.high = len(c)
	return c
}

// Releaser returns freed memory to the operating system
// (debug.FreeOSMemory), at most once per interval. Process is the one the
// whole process shares; tests make their own.
type Releaser struct {
	// Free is the release; nil means debug.FreeOSMemory. Tests count
	// calls instead.
	Free func()

	mu   sync.Mutex
	last time.Time // when memory was last released
	next Deadline  // the release scheduled, if any
	n    int       // releases done
}

// Process is the process-wide Releaser that every registry and carrier
// uses.
var Process = &Releaser{}

// Wait is how long, from now, until a release asked with this interval
// would be done: zero when the interval since the last release has passed.
func (r *Releaser) Wait(interval time.Duration) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waitLocked(interval)
}

func (r *Releaser) waitLocked(interval time.Duration) time.Duration {
	if r.last.IsZero() {
		return 0
	}
	return max(0, interval-time.Since(r.last))
}

// Release returns freed memory to the operating system now, on the
// caller's goroutine, when interval has passed since the last release;
// otherwise once it has. One scheduled release covers every caller that
// asks meanwhile, brought forward for one with a shorter interval. A
// release is a full collection, so callers do not hold locks. interval
// <= 0 turns it off: nothing is released.
func (r *Releaser) Release(interval time.Duration) {
	if interval <= 0 {
		return
	}
	r.mu.Lock()
	wait := r.waitLocked(interval)
	due := time.Now().Add(wait)
	switch {
	case r.next.Pending() && !due.Before(r.next.Due()):
		// covered by the one scheduled
	case r.next.Pending() || wait > 0:
		r.next.Arm(wait, r.releaseNow)
	default:
		// Counted before mu is let go: another caller that comes
		// meanwhile sees this release and waits for the interval.
		free := r.doneLocked()
		r.mu.Unlock()
		free()
		return
	}
	r.mu.Unlock()
}

// releaseNow is the timer's function. A run that finds the release not
// yet due is one the timer was Reset over (it fired while Release held mu
// and brought the release forward): it makes none (Deadline.Take).
func (r *Releaser) releaseNow() {
	r.mu.Lock()
	if !r.next.Take() {
		r.mu.Unlock()
		return
	}
	free := r.doneLocked()
	r.mu.Unlock()
	free()
}

// doneLocked counts a release made now and returns what makes it. The
// caller holds mu and calls it after letting mu go.
func (r *Releaser) doneLocked() func() {
	r.last = time.Now()
	r.n++
	if r.Free != nil {
		return r.Free
	}
	return debug.FreeOSMemory
}

// Releases is how many releases were done.
func (r *Releaser) Releases() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Pending reports whether a release is scheduled.
func (r *Releaser) Pending() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next.Pending()
}
