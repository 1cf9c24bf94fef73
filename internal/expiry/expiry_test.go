package expiry

import (
	"sync"
	"testing"
	"time"
)

// recorder collects fired values in order.
type recorder struct {
	mu  sync.Mutex
	got []int
	ch  chan int
}

func newRecorder() *recorder { return &recorder{ch: make(chan int, 1<<16)} }

func (r *recorder) fire(v int) {
	r.mu.Lock()
	r.got = append(r.got, v)
	r.mu.Unlock()
	r.ch <- v
}

// wait waits for n firings and returns every value fired so far.
func (r *recorder) wait(t *testing.T, n int) []int {
	t.Helper()
	for range n {
		select {
		case <-r.ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %v fired, want %d", r.values(), n)
		}
	}
	return r.values()
}

func (r *recorder) values() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.got...)
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFiresInArmingOrder: entries fire in the order they were last armed,
// re-arming moves an entry behind the others, and a stopped entry does not
// fire (it would have fired first).
func TestFiresInArmingOrder(t *testing.T) {
	r := newRecorder()
	q := New(time.Millisecond, r.fire)
	var e [5]Entry[int]
	for i := range e {
		q.Arm(&e[i], i)
	}
	q.Arm(&e[0], 0) // now last
	q.Stop(&e[1])
	if got := r.wait(t, 4); !equal(got, []int{2, 3, 4, 0}) {
		t.Fatalf("fired %v, want [2 3 4 0]", got)
	}
	q.Stop(&e[2]) // fired already: nothing to do
	if !q.Deadline(&e[2]).IsZero() {
		t.Fatal("a fired entry still has a deadline")
	}
}

// TestDeadline: Deadline reports an armed entry's deadline, a delay ahead,
// and the zero time once stopped; a later arming has a later deadline.
func TestDeadline(t *testing.T) {
	q := New(time.Hour, func(int) { t.Error("fired") })
	var a, b Entry[int]
	q.Arm(&a, 1)
	q.Arm(&b, 2)
	da, db := q.Deadline(&a), q.Deadline(&b)
	if db.Before(da) || time.Until(da) <= 0 {
		t.Fatalf("deadlines %v %v", da, db)
	}
	q.Stop(&a)
	q.Stop(&b)
	if !q.Deadline(&a).IsZero() {
		t.Fatalf("stopped entry's deadline %v", q.Deadline(&a))
	}
}

// TestFireMayArm: a callback may arm its own entry again, which fires
// again; many entries armed together each fire once, in more than one
// batch.
func TestFireMayArm(t *testing.T) {
	r := newRecorder()
	var q *Queue[int]
	var again Entry[int]
	rearmed := false
	q = New(time.Millisecond, func(v int) {
		if v == -1 && !rearmed {
			rearmed = true
			q.Arm(&again, -1)
		}
		r.fire(v)
	})
	q.Arm(&again, -1)
	const n = 3*fireBatch + 5
	es := make([]Entry[int], n)
	for i := range es {
		q.Arm(&es[i], i)
	}
	got := r.wait(t, n+2)
	seen := make(map[int]int)
	for _, v := range got {
		seen[v]++
	}
	if seen[-1] != 2 || len(seen) != n+1 {
		t.Fatalf("re-armed entry fired %d times, %d distinct values, want 2 and %d", seen[-1], len(seen), n+1)
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("entry %d fired %d times", i, seen[i])
		}
	}
}
