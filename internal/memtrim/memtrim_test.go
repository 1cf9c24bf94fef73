package memtrim

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHighWater: a table is shrunk once at most half of its high-water
// mark, and at least MinDrop below it; a rebuild keeps every entry and
// makes the survivors the new mark.
func TestHighWater(t *testing.T) {
	var h HighWater
	m := map[int]string{}
	for i := range 3000 {
		m[i] = "x"
		h.Grew(len(m))
	}
	for i := range 1499 {
		delete(m, i)
	}
	if h.Shrunk(len(m)) {
		t.Fatalf("1501 of 3000 counted as shrunk")
	}
	delete(m, 1499)
	if !h.Shrunk(len(m)) {
		t.Fatalf("1500 of 3000 not counted as shrunk")
	}
	m = Rebuild(m, &h)
	if len(m) != 1500 || h.High() != 1500 || m[1500] != "x" || m[2999] != "x" {
		t.Fatalf("rebuild: %d entries, high %d", len(m), h.High())
	}
	// Half of what is left, but fewer than MinDrop below the mark.
	for i := 1500; i < 2250; i++ {
		delete(m, i)
	}
	if h.Shrunk(len(m)) {
		t.Fatalf("a drop of 750 counted as shrunk")
	}
}

// TestReleaserInterval: a release comes at once when the interval has
// passed, later otherwise, once for however many asked meanwhile; a
// non-positive interval releases nothing.
func TestReleaserInterval(t *testing.T) {
	freed := make(chan struct{}, 8)
	r := &Releaser{Free: func() { freed <- struct{}{} }}
	r.Release(0)
	r.Release(-1)
	if r.Releases() != 0 || r.Pending() {
		t.Fatal("a release with the interval off")
	}
	r.Release(time.Hour)
	if r.Releases() != 1 || len(freed) != 1 {
		t.Fatalf("first release not at once: %d", r.Releases())
	}
	<-freed
	// Within the interval: scheduled, once for every asker, brought
	// forward by a shorter interval.
	r.Release(time.Hour)
	if !r.Pending() || r.Releases() != 1 {
		t.Fatal("release within the interval not scheduled")
	}
	if w := r.Wait(time.Hour); w <= 0 {
		t.Fatalf("Wait within the interval = %v", w)
	}
	if w := r.Wait(0); w != 0 {
		t.Fatalf("Wait(0) = %v", w)
	}
	r.Release(20 * time.Millisecond)
	r.Release(time.Minute) // covered by the one scheduled
	awaitRelease(t, r, freed, 2, 30*time.Millisecond)
}

// TestReleaserConcurrentAskers: callers that ask at once when a release is
// due get one release between them; the others wait for the interval.
func TestReleaserConcurrentAskers(t *testing.T) {
	for range 2000 {
		var freed atomic.Int64
		r := &Releaser{Free: func() { freed.Add(1) }}
		var start atomic.Bool
		var ready, wg sync.WaitGroup
		for range 4 {
			ready.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Done()
				for !start.Load() { // all at once
					runtime.Gosched()
				}
				r.Release(time.Hour)
			}()
		}
		ready.Wait()
		start.Store(true)
		wg.Wait()
		if n := freed.Load(); n != 1 || r.Releases() != 1 || !r.Pending() {
			t.Fatalf("%d releases (%d counted), pending %v: want 1, the others scheduled", n, r.Releases(), r.Pending())
		}
	}
}

// TestReleaserTimerRunBeforeDue: a run of the timer's function that comes
// before the release is due is one the timer was Reset over (it fired
// while Release held the lock and brought the release forward): it
// releases nothing, and the release comes when due, once.
func TestReleaserTimerRunBeforeDue(t *testing.T) {
	freed := make(chan struct{}, 8)
	r := &Releaser{Free: func() { freed <- struct{}{} }}
	r.Release(time.Hour) // at once
	<-freed
	r.Release(100 * time.Millisecond) // scheduled
	r.releaseNow()                    // the stale run
	if r.Releases() != 1 || !r.Pending() || len(freed) != 0 {
		t.Fatalf("a run before the release was due released: %d, pending %v", r.Releases(), r.Pending())
	}
	awaitRelease(t, r, freed, 2, 150*time.Millisecond)
}

// awaitRelease waits for the release r was to make, then for as long as a
// second one would take to come, and checks that r made n in all and has
// none pending.
func awaitRelease(t *testing.T, r *Releaser, freed <-chan struct{}, n int, second time.Duration) {
	t.Helper()
	select {
	case <-freed:
	case <-time.After(10 * time.Second):
		t.Fatal("the scheduled release did not come")
	}
	time.Sleep(second)
	if r.Releases() != n || r.Pending() || len(freed) != 0 {
		t.Fatalf("after the release: %d made, pending %v, %d more came; want %d, none", r.Releases(), r.Pending(), len(freed), n)
	}
}
