package transports

import (
	"testing"
	"time"

	"github.com/tether-rt/tether/internal/memtrim"
)

// TestCrowdRelease: memory is released once the parked polls have doubled
// (by at least the minimum) and stopped growing, once per doubling; a
// count that holds steady, or a negative interval, never releases.
func TestCrowdRelease(t *testing.T) {
	freed := make(chan struct{}, 8)
	k := &Parking{}
	k.crowd.min, k.crowd.settle = 2, time.Millisecond
	k.crowd.release = &memtrim.Releaser{Free: func() { freed <- struct{}{} }}
	pending := func() bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.crowd.pending
	}
	waitFreed := func(n int) {
		t.Helper()
		select {
		case <-freed:
		case <-time.After(10 * time.Second):
			t.Fatalf("release %d did not come", n)
		}
	}
	const iv = time.Millisecond
	k.add(1, iv)
	if pending() {
		t.Fatal("one parked poll scheduled a release (minimum 2)")
	}
	k.add(1, iv)
	waitFreed(1)
	// 3 and back: less than double the 2 released at.
	k.add(1, iv)
	k.add(-1, 0)
	k.add(1, iv)
	if pending() {
		t.Fatal("a release was scheduled before the crowd doubled")
	}
	k.add(1, iv) // 4: doubled, and by the minimum
	waitFreed(2)
	// Parking off for memory: a negative interval never schedules.
	k.add(4, -1)
	if pending() {
		t.Fatal("a negative FreeMemoryInterval scheduled a release")
	}
	if frees := k.crowd.release.Releases(); frees != 2 {
		t.Fatalf("%d releases, want 2", frees)
	}
}
