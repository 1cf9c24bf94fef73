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
		return k.crowd.next.Pending()
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

// TestCrowdReleaseResetWhileFiring: the release timer may fire while a
// poll that parks holds k.mu and pushes the release back (Reset on a timer
// whose function has started, waiting for k.mu). That run releases
// nothing: the pushed-back release comes once, when due, and no second
// one is scheduled behind it.
func TestCrowdReleaseResetWhileFiring(t *testing.T) {
	rel := &memtrim.Releaser{Free: func() {}}
	k := &Parking{}
	k.crowd.min, k.crowd.settle, k.crowd.release = 2, 20*time.Millisecond, rel
	const iv = time.Hour
	k.add(2, iv) // doubled: a release in 20 ms
	k.mu.Lock()
	time.Sleep(100 * time.Millisecond) // the timer fires; its function waits for k.mu
	k.n++
	k.grewLocked(iv) // still growing: pushed back
	k.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); rel.Releases() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no release")
		}
	}
	time.Sleep(100 * time.Millisecond) // a second run of the timer would come by now
	if n := rel.Releases(); n != 1 || rel.Pending() {
		t.Fatalf("%d releases, another pending %v: want 1, none", n, rel.Pending())
	}
}
