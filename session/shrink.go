package session

import "time"

// After a mass expiry (a crowd of clients gone at once, a load test) the
// memory of the sessions is free, but two things keep the process large:
// a Go map never gives back its buckets, so the registry's map stays sized
// for its high-water mark, and a server that has gone quiet allocates
// nothing, so no collection runs (until the runtime's two-minute forced
// one) and the freed heap is neither collected nor returned to the
// operating system. The registry therefore watches how far it has shrunk:
// once it holds at most half of the most sessions it held since its last
// shrink (and at least shrinkMinRemoved fewer), it copies the survivors
// into a map of their own size and then, unless Options.FreeMemoryInterval
// turns it off, collects and returns the freed memory to the operating
// system (debug.FreeOSMemory), at most once per FreeMemoryInterval. The
// trigger is the drop in what is held, not the number of expiries: a
// steady server, whose sessions come and go in a balance, never meets it,
// and the work done is proportional to what was freed.

// shrinkMinRemoved is the least drop worth a shrink: below it, the map and
// the freed sessions weigh a few MiB at most.
const shrinkMinRemoved = 1024

// shrinker is the registry's bookkeeping for shrinking, guarded by its mu.
type shrinker struct {
	high     int       // most sessions held since the last shrink
	pending  bool      // a shrink is scheduled
	lastFree time.Time // when memory was last returned to the OS
	shrinks  int       // shrinks done, for tests
	freeOS   func()    // debug.FreeOSMemory; tests count calls instead
}

// removedLocked schedules a shrink after a removal left the registry at
// most half of its high-water mark. The caller holds r.mu.
func (r *Registry) removedLocked() {
	k := &r.shrink
	if k.pending || !r.shrunkLocked() {
		return
	}
	k.pending = true
	// Wait for the interval since the last release to pass: a sweep that
	// goes on meanwhile is then shrunk in one go rather than many.
	wait := time.Duration(0)
	if iv := r.opts.FreeMemoryInterval; iv > 0 && !k.lastFree.IsZero() {
		wait = max(0, iv-time.Since(k.lastFree))
	}
	time.AfterFunc(wait, r.shrinkNow)
}

// shrunkLocked reports whether the registry holds at most half of its
// high-water mark, and shrinkMinRemoved fewer. The caller holds r.mu.
func (r *Registry) shrunkLocked() bool {
	n := len(r.sessions)
	return !r.stopping && r.shrink.high-n >= shrinkMinRemoved && 2*n <= r.shrink.high
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
	// A new map sized for the survivors (maps.Clone would keep the old
	// one's size).
	m := make(map[string]*Session, len(r.sessions))
	for id, s := range r.sessions {
		m[id] = s
	}
	r.sessions = m
	k.high = len(r.sessions)
	k.shrinks++
	free := r.opts.FreeMemoryInterval > 0
	if free {
		k.lastFree = time.Now()
	}
	freeOS := k.freeOS
	r.mu.Unlock()
	if free {
		freeOS()
	}
}
