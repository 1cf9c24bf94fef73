package transports

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// Polling is the `polling` carrier: a GET answered at once with whatever is
// queued, or an empty body, for networks that cut requests held open. The
// client polls again after the interval the handshake suggested.
type Polling struct {
	cfg Config
}

// NewPolling returns the polling carrier for cfg.
func NewPolling(cfg Config) *Polling { return &Polling{cfg: cfg} }

// Serve answers one poll on l, after the client acknowledged ack.
func (p *Polling) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, ack uint64) {
	f := p.cfg.framer()
	rcv, err := l.Attach(protocol.Polling, ack)
	if err != nil {
		p.Refuse(w, r, err)
		return
	}
	rcv.AcksOnData() // an empty answer says nothing, an ack alone little
	b := getBatch()
	defer putBatch(b)
	var body []byte
	took := rcv.Next(b, p.cfg.Session.MaxBatchBytes)
	if !took && rcv.HeldBack() {
		took = awaitRelease(r, rcv, b, p.cfg.Session.MaxBatchBytes)
	}
	if took {
		body = f.AppendBatch(make([]byte, 0, batchSize(b)), b)
	}
	rcv.Detach()
	WriteAnswer(w, textPlain, body)
}

// awaitRelease is a poll's look after the release of a send answer that
// was carrying messages when the poll came (SPEC.md §5). The poll an
// answer's `h` hurried can come between that answer's flush and its
// release, and would otherwise be answered empty, leaving the rest to the
// client's next interval. The release signals Ready whether or not
// anything is left (HeldBack), so a poll that meets a complete answer is
// answered empty at once. The wait is bounded: an ordinary poll that
// meets a large answer still being written is answered after a moment,
// as a poll that found nothing.
func awaitRelease(r *http.Request, rcv *session.Receiver, b *session.Batch, maxBytes int) bool {
	t := time.NewTimer(releaseWait)
	defer t.Stop()
	if f := awaitingForTest.Load(); f != nil {
		(*f)()
	}
	select {
	case <-rcv.Ready():
		return rcv.Next(b, maxBytes)
	case <-t.C:
	case <-r.Context().Done():
	}
	return false
}

// awaitingForTest, when a test sets it, runs as a poll starts waiting in
// awaitRelease.
var awaitingForTest atomic.Pointer[func()]

// releaseWait bounds awaitRelease. A flushed answer is released within
// microseconds; this is the margin for a busy scheduler.
const releaseWait = 50 * time.Millisecond

// Refuse answers a failed lookup or attach with its close frame.
func (p *Polling) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	WriteAttachError(w, p.cfg.framer(), err)
}
