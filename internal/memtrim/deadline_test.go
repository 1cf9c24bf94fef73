package memtrim

import (
	"sync"
	"testing"
	"time"
)

// TestDeadlineTake: a run of the timer before the deadline (one it was
// Reset over) takes nothing and the timer comes again; the deadline is
// taken once, when it has come.
func TestDeadlineTake(t *testing.T) {
	var mu sync.Mutex
	var d Deadline
	runs, taken := make(chan bool, 8), 0
	f := func() {
		mu.Lock()
		ok := d.Take()
		if ok {
			taken++
		}
		mu.Unlock()
		runs <- ok
	}
	mu.Lock()
	d.Arm(time.Hour, f)
	if !d.Pending() || time.Until(d.Due()) < 59*time.Minute {
		t.Fatalf("armed for an hour: pending %v, due in %v", d.Pending(), time.Until(d.Due()))
	}
	d.Arm(300*time.Millisecond, f) // brought forward
	// A stray early run, as a Reset over a firing timer makes one.
	if d.Take() {
		t.Fatal("a run before the deadline took it")
	}
	mu.Unlock()
	if !<-runs {
		t.Fatal("the run at the deadline did not take it")
	}
	go f() // a late stray run
	if <-runs {
		t.Fatal("a deadline was taken twice")
	}
	mu.Lock()
	defer mu.Unlock()
	if taken != 1 || d.Pending() {
		t.Fatalf("taken %d times, pending %v", taken, d.Pending())
	}
}
