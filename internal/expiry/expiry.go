// Package expiry runs one callback per entry once a fixed delay has passed
// since the entry was last armed, for many entries, with one runtime timer.
//
// A session's disconnect delay and a parked poll's heartbeat are the same
// delay for every entry of a registry or carrier, so their deadlines fall
// in the order they were armed: a list kept in arming order is kept in
// deadline order, arming is a move to its tail and stopping an unlink,
// both O(1), and only the list's head needs a timer. A runtime timer per
// entry cost its memory (about 140 bytes with its callback) and a slot in
// the runtime's per-P timer heap, an array that grows to the most timers
// ever armed at once and is never shrunk: after a crowd of abandoned
// sessions it kept megabytes for good.
package expiry

import (
	"sync"
	"time"
)

// Entry is one thing a Queue can fire; embed it in the thing. Its zero
// value is stopped. It belongs to one Queue.
type Entry[T any] struct {
	prev, next *Entry[T]
	when       time.Duration // deadline, since the queue's epoch; 0: stopped
	v          T
}

// Queue fires its entries, each delay after it was last armed, by calling
// fire with the entry's value, one at a time, on a goroutine of the
// queue's. It is safe for concurrent use; fire runs without the queue's
// lock, so it may arm or stop entries.
type Queue[T any] struct {
	delay time.Duration
	fire  func(T)
	epoch time.Time

	mu         sync.Mutex
	head, tail *Entry[T]
	timer      *time.Timer
	due        time.Duration // when the timer fires; 0: not pending
}

// New returns a queue whose entries fire delay after they are armed.
func New[T any](delay time.Duration, fire func(T)) *Queue[T] {
	return &Queue[T]{delay: delay, fire: fire, epoch: time.Now()}
}

// now is the monotonic time since the epoch, at least 1 so that a zero
// deadline means stopped.
func (q *Queue[T]) now() time.Duration { return max(time.Since(q.epoch), 1) }

// Arm (re)starts e's delay: fire(v) runs once it has passed, unless e is
// armed again or stopped first.
func (q *Queue[T]) Arm(e *Entry[T], v T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.unlinkLocked(e)
	// Computed under the lock, deadlines only grow along the list.
	now := q.now()
	e.when, e.v = now+q.delay, v
	e.prev = q.tail
	if q.tail != nil {
		q.tail.next = e
	} else {
		q.head = e
	}
	q.tail = e
	if q.due == 0 {
		q.startLocked(now)
	}
}

// Stop stops e; it does not fire until armed again. Stopping an entry that
// fired or was never armed does nothing.
func (q *Queue[T]) Stop(e *Entry[T]) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.unlinkLocked(e)
	var zero T
	e.v = zero
}

// Deadline returns when e fires, or the zero time when it is stopped.
func (q *Queue[T]) Deadline(e *Entry[T]) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e.when == 0 {
		return time.Time{}
	}
	return q.epoch.Add(e.when)
}

func (q *Queue[T]) unlinkLocked(e *Entry[T]) {
	if e.when == 0 {
		return
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		q.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.prev, e.next, e.when = nil, nil, 0
}

// startLocked sets the timer for the head's deadline. A head stopped or
// re-armed after that leaves the timer early, never late: run then finds
// nothing due and sets it again.
func (q *Queue[T]) startLocked(now time.Duration) {
	if q.head == nil {
		q.due = 0
		return
	}
	q.due = q.head.when
	d := q.due - now
	if q.timer == nil {
		q.timer = time.AfterFunc(d, q.run)
		return
	}
	q.timer.Reset(d)
}

// fireBatch bounds how many due entries one turn of the lock takes.
const fireBatch = 64

// run fires what is due, a batch per turn of the lock, then sets the
// timer for what is left. The timer is set only once nothing is due, so
// one run goroutine fires at a time.
func (q *Queue[T]) run() {
	var due [fireBatch]T
	for {
		q.mu.Lock()
		now := q.now()
		n := 0
		for q.head != nil && q.head.when <= now && n < len(due) {
			e := q.head
			due[n] = e.v
			n++
			q.unlinkLocked(e)
			var zero T
			e.v = zero
		}
		if n == 0 {
			q.startLocked(now)
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		for i := range due[:n] {
			q.fire(due[i])
			var zero T
			due[i] = zero
		}
	}
}
