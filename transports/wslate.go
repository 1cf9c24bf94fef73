package transports

import "github.com/tether-rt/tether/internal/latewatch"

// wsLateWatch is the process's one watch over callbacks that sent
// something and run on (wsConn.armLate): it wakes every wsLate while any
// connection is watched, and hands the write of such a callback on to the
// flusher. A callback gets at least wsLate, and at most twice that, before
// its message is handed on; when a later callback sent meanwhile, that one
// is looked at a tick later, having run for wsLate at least since it was
// seen.
var wsLateWatch *latewatch.Watcher[*wsConn]

// (Set here: lateCheck leads back to wsLateWatch through armLate.)
func init() { wsLateWatch = latewatch.New(wsLate, (*wsConn).lateCheck) }

// lateCheck looks at a watched connection: the callback it was watched
// for runs on and sent something, so the write is handed on; or a later
// callback sent and runs now, which is watched a tick longer (true); or
// nothing waits, and the watch ends.
func (w *wsConn) lateCheck() (again bool) {
	if call := w.calls.Load(); call&1 != 0 && w.pending.Load() {
		if call != w.lateCall.Load() {
			w.lateCall.Store(call) // a later callback sent: give it its wsLate
			return true
		}
		w.lateArmed.Store(false)
		w.push()
		return false
	}
	w.lateArmed.Store(false)
	// A kick that found the watch set just before it was cleared left the
	// callback it came from to this check.
	if w.delivering() && w.pending.Load() {
		w.armLate()
	}
	return false
}
