package session

import (
	"time"

	"github.com/tether-rt/tether/internal/memtrim"
)

// After a mass expiry (a crowd of clients gone at once, a load test) the
// memory of the sessions is free, but two things keep the process large:
// a Go map never gives back its buckets, so the registry's map stays sized
// for its high-water mark, and a server that has gone quiet allocates
// nothing, so no collection runs (until the runtime's two-minute forced
// one) and the freed heap is neither collected nor returned to the
// operating system. The registry therefore watches how far it has shrunk:
// once it holds at most half of the most sessions it held since its last
// shrink (and at least memtrim.MinDrop fewer), it copies the survivors
// into a map of their own size and then, unless Options.FreeMemoryInterval
// turns it off, collects and returns the freed memory to the operating
// system (debug.FreeOSMemory), at most once per FreeMemoryInterval in the
// whole process (memtrim.Process). The
// trigger is the drop in what is held, not the number of expiries: a
// steady server, whose sessions come and go in a balance, never meets it,
// and the work done is proportional to what was freed.

// shrinker is the registry's bookkeeping for shrinking, guarded by its mu.
type shrinker struct {
	memtrim.HighWater
	pending bool              // a shrink is scheduled
	shrinks int               // shrinks done, for tests
	release *memtrim.Releaser // memtrim.Process; tests count on their own
}

// removedLocked schedules a shrink after a removal left the registry at
// most half of its high-water mark. The caller holds r.mu.
func (r *Registry) removedLocked() {
	k := &r.shrink
	if k.pending || !r.shrunkLocked() {
		return
	}
	k.pending = true
	// Wait for the interval since the process last released memory to
	// pass: a sweep that goes on meanwhile is then shrunk in one go rather
	// than many.
	wait := time.Duration(0)
	if iv := r.opts.FreeMemoryInterval; iv > 0 {
		wait = k.release.Wait(iv)
	}
	time.AfterFunc(wait, r.shrinkNow)
}

// shrunkLocked reports whether the registry is worth shrinking. The caller
// holds r.mu.
func (r *Registry) shrunkLocked() bool {
	return !r.stopping && r.shrink.Shrunk(len(r.sessions))
}

// shrinkNow rebuilds the map at its live size and releases the freed
// memory when that is on.
func (r *Registry) shrinkNow() {
	r.mu.Lock()
	k := &r.shrink
	k.pending = false
	if !r.shrunkLocked() { // the sessions came back while it waited
		r.mu.Unlock()
		return
	}
	r.sessions = memtrim.Rebuild(r.sessions, &k.HighWater)
	k.shrinks++
	r.mu.Unlock()
	k.release.Release(r.opts.FreeMemoryInterval)
}
