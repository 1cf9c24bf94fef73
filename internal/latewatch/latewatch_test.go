package latewatch

import (
	"sync"
	"testing"
	"time"
)

// Each item is looked at once per Add, a period at least after it was
// added; an item whose look asks again is looked at again; the goroutine
// leaves once nothing is watched.
func TestWatcher(t *testing.T) {
	var mu sync.Mutex
	looks := map[int]int{}
	added := map[int]time.Time{}
	early := 0
	lw := New(2*time.Millisecond, func(x int) bool {
		mu.Lock()
		defer mu.Unlock()
		looks[x]++
		if looks[x] == 1 && time.Since(added[x]) < 2*time.Millisecond {
			early++
		}
		return x == 0 && looks[x] < 3 // item 0 asks for two more looks
	})
	for i := range 100 {
		mu.Lock()
		added[i] = time.Now()
		mu.Unlock()
		lw.Add(i)
	}
	deadline := time.Now().Add(5 * time.Second)
	for lw.Running() {
		if time.Now().After(deadline) {
			t.Fatal("the watcher still runs with nothing to watch")
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if looks[0] != 3 {
		t.Fatalf("item 0 was looked at %d times, want 3", looks[0])
	}
	for i := 1; i < 100; i++ {
		if looks[i] != 1 {
			t.Fatalf("item %d was looked at %d times, want once", i, looks[i])
		}
	}
	if early != 0 {
		t.Fatalf("%d items were looked at less than a period after they were added", early)
	}
	// It starts again for an item added later.
	lw.Add(7)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Unlock()
		lw.mu.Lock()
		n := len(lw.fresh) + len(lw.due)
		lw.mu.Unlock()
		mu.Lock()
		if looks[7] == 2 && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("item 7, added again, was looked at %d times in all, want 2", looks[7])
		}
	}
}
