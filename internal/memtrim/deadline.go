package memtrim

import "time"

// Deadline is a timer for work that is pushed back (a crowd still
// growing) or brought forward (a shorter interval asked) while it may be
// firing. A timer Reset while its function already started runs that
// function twice, and the early run must not do the work: the function
// calls Take, which says whether the deadline has come. The owner's lock
// guards a Deadline, and the function takes that lock before Take.
type Deadline struct {
	timer   *time.Timer
	due     time.Time
	pending bool
}

// Arm sets the deadline wait from now, to call f then; a deadline already
// armed (with the same f) is moved, earlier or later.
func (d *Deadline) Arm(wait time.Duration, f func()) {
	d.pending, d.due = true, time.Now().Add(wait)
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, f)
		return
	}
	d.timer.Reset(wait)
}

// Pending reports whether the deadline is armed and not yet taken.
func (d *Deadline) Pending() bool { return d.pending }

// Due is when an armed deadline comes.
func (d *Deadline) Due() time.Time { return d.due }

// Take, from the timer's function, reports whether the deadline has come,
// and then disarms it. A run before it, or after it was taken, is one the
// timer was Reset over: it reports false, and an armed deadline's timer is
// set again for it (so the work is never lost, whatever Reset did).
func (d *Deadline) Take() bool {
	if !d.pending {
		return false
	}
	if now := time.Now(); now.Before(d.due) {
		d.timer.Reset(d.due.Sub(now))
		return false
	}
	d.pending = false
	return true
}
