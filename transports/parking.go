package transports

import (
	"bytes"
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/tether-rt/tether/internal/expiry"
	"github.com/tether-rt/tether/internal/memtrim"
)

// DefaultParkAfter is how long a held poll waits on its goroutine before it
// is parked: long enough that a busy session's polls are answered first,
// short enough that an idle one costs little.
const DefaultParkAfter = 250 * time.Millisecond

// Parking parks the idle held polls of the carriers whose Config shares
// it (park.go), and keeps count of them until they are answered, so that a
// shutdown can wait for their last answers, and so that the memory a crowd
// of them leaves behind is returned (see crowdMin). Its methods are safe
// for concurrent use.
type Parking struct {
	// After is how long a held poll waits on its goroutine before it is
	// parked. Zero means DefaultParkAfter; negative, never.
	After time.Duration

	mu     sync.Mutex
	n      int                                          // parked polls not yet answered
	idle   chan struct{}                                // closed when n drops to 0; made by Wait
	queues map[time.Duration]*expiry.Queue[*parkedPoll] // heartbeats, by wait
	heads  map[string][]byte                            // answer heads, shared
	crowd  crowdRelease
}

// heartbeats returns the queue of the parked polls that wait d: one delay
// for every poll of a router, so one timer for them all.
func (k *Parking) heartbeats(d time.Duration) *expiry.Queue[*parkedPoll] {
	k.mu.Lock()
	defer k.mu.Unlock()
	q := k.queues[d]
	if q == nil {
		if k.queues == nil {
			k.queues = make(map[time.Duration]*expiry.Queue[*parkedPoll])
		}
		q = expiry.New(d, (*parkedPoll).heartbeat)
		k.queues[d] = q
	}
	return q
}

// maxHeads bounds the answer heads kept for sharing: they differ only by
// content type and CORS headers, so a server has a handful.
const maxHeads = 64

// shareHead returns a head equal to b that parked polls share, so that
// each does not keep its own copy.
func (k *Parking) shareHead(b []byte) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	if h, ok := k.heads[string(b)]; ok {
		return h
	}
	h := bytes.Clone(b)
	if len(k.heads) < maxHeads {
		if k.heads == nil {
			k.heads = make(map[string][]byte)
		}
		k.heads[string(h)] = h
	}
	return h
}

func (k *Parking) after() time.Duration {
	switch {
	case k == nil || k.After < 0:
		return 0
	case k.After == 0:
		return DefaultParkAfter
	}
	return k.After
}

// add counts d more parked polls; interval is the session options'
// FreeMemoryInterval, for a poll that just parked.
func (k *Parking) add(d int, interval time.Duration) {
	k.mu.Lock()
	k.n += d
	if k.n == 0 && k.idle != nil {
		close(k.idle)
		k.idle = nil
	}
	if d > 0 {
		k.grewLocked(interval)
	}
	k.mu.Unlock()
}

// Wait waits until every parked poll was answered (its answer written and
// its connection handed back) or dropped, or until ctx ends. A router
// calls it once its sessions are closed, which answers them all.
func (k *Parking) Wait(ctx context.Context) error {
	k.mu.Lock()
	if k.n == 0 {
		k.mu.Unlock()
		return nil
	}
	if k.idle == nil {
		k.idle = make(chan struct{})
	}
	idle := k.idle
	k.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// After a crowd of polls parks at once (clients reconnecting after a
// restart, a load test), what net/http kept for each while it held them
// (about 16 KiB of buffers, request and goroutine stacks) is free, but the
// runtime keeps it until its next collection, and a server whose clients
// are parked allocates little, so that may be minutes away: the process
// stays at the crowd's peak. The registry does the same after a mass
// expiry (session/shrink.go). So once the parked polls have at least
// doubled since memory was last released, and by crowdMin or more, the
// freed memory is collected and returned to the operating system
// (debug.FreeOSMemory) when the crowd has stopped growing for crowdSettle,
// and at most once per FreeMemoryInterval in the whole process
// (memtrim.Process; negative: never). A server whose
// number of parked polls holds steady never does it; a growing one does it
// once per doubling.
const (
	crowdMin    = 1024
	crowdSettle = time.Second
)

// crowdRelease is Parking's bookkeeping for that, guarded by its mu.
type crowdRelease struct {
	released int              // parked polls when memory was last released
	interval time.Duration    // FreeMemoryInterval of the poll that scheduled it
	next     memtrim.Deadline // the release scheduled, pushed back while the crowd grows

	// Tests set these: the least growth, the settling time, and the
	// releaser (memtrim.Process when nil).
	min     int
	settle  time.Duration
	release *memtrim.Releaser
}

// grewLocked schedules a release when the parked polls have doubled. The
// caller holds k.mu.
func (k *Parking) grewLocked(interval time.Duration) {
	c := &k.crowd
	if interval <= 0 || k.n < 2*c.released || k.n-c.released < cmp.Or(c.min, crowdMin) {
		return
	}
	c.interval = interval
	// Settled, and not before the process may release again.
	c.next.Arm(max(cmp.Or(c.settle, crowdSettle), c.releaser().Wait(interval)), k.release)
}

func (c *crowdRelease) releaser() *memtrim.Releaser {
	return cmp.Or(c.release, memtrim.Process)
}

// release is the timer's function. A run that finds the release not yet
// due is one the timer was pushed back over (Reset while this run waited
// for k.mu, the crowd still growing): the timer, armed again, releases
// when it is due, once; this run does nothing.
func (k *Parking) release() {
	k.mu.Lock()
	c := &k.crowd
	if !c.next.Take() {
		k.mu.Unlock()
		return
	}
	c.released = k.n
	r, iv := c.releaser(), c.interval
	k.mu.Unlock()
	r.Release(iv)
}
