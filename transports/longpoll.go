package transports

import (
	"net/http"
	"sync"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// LongPoll is the `longpoll` carrier: a GET held until the session has
// something for the client or a heartbeat interval passes, answered with
// one batch. The client acknowledges it in its next poll's query.
type LongPoll struct {
	cfg Config
}

// NewLongPoll returns the long-polling carrier for cfg.
func NewLongPoll(cfg Config) *LongPoll { return &LongPoll{cfg: cfg} }

// Serve holds one poll on l, after the client acknowledged ack.
func (p *LongPoll) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, ack uint64) {
	serveHeld(w, r, l, ack, p.cfg, heldCarrier{name: protocol.LongPoll, contentType: textPlain, acksOnData: true})
}

// heldCarrier is what differs between the carriers whose polls are held
// (longpoll, jsonp).
type heldCarrier struct {
	name        string              // as it attaches
	contentType string              // of its answers
	wrap        func([]byte) []byte // turns a batch into the body (JSONP's callback); nil: the batch
	// acksOnData is false for a carrier whose client cannot read its send
	// answers (JSONP's form sends): its polls are then its only source of
	// acks, and carry one as soon as it is due, data or not.
	acksOnData bool
}

// serveHeld runs a held poll of carrier c.
func serveHeld(w http.ResponseWriter, r *http.Request, l *session.Link, ack uint64, cfg Config, c heldCarrier) {
	f := cfg.framer()
	rcv, err := l.Attach(c.name, ack)
	if err != nil {
		code, reason := AttachErrorClose(err)
		body := f.AppendClose(nil, code, reason)
		if c.wrap != nil {
			body = c.wrap(body)
		}
		WriteAnswer(w, c.contentType, body)
		return
	}
	if c.acksOnData {
		rcv.AcksOnData()
	}
	b := getBatch()
	defer putBatch(b)
	switch hold(w, r, rcv, cfg, b, c.contentType, c.wrap) {
	case holdParked:
		return // the parked poll answers, and detaches
	case holdLeft:
		rcv.Detach()
		return // the messages taken stay in the log until acknowledged
	}
	rcv.Detach()
	WriteAnswer(w, c.contentType, heldBody(f, b, c.wrap)) // a parked poll writes its own
}

// heldBody is a held poll's answer for b: its batch, or a heartbeat.
func heldBody(f Framer, b *session.Batch, wrap func([]byte) []byte) []byte {
	var body []byte
	if b.Empty() {
		body = f.AppendHeartbeat(nil)
	} else {
		body = f.AppendBatch(make([]byte, 0, batchSize(b)), b)
	}
	if wrap != nil {
		body = wrap(body)
	}
	return body
}

// batches recycles the batches of polls: a poll's batch and its message
// slice were two allocations per answer.
var batches = sync.Pool{New: func() any { return new(session.Batch) }}

func getBatch() *session.Batch { return batches.Get().(*session.Batch) }

// putBatch recycles b, without its references to messages (they would
// keep their memory alive) and unless a burst made it large.
func putBatch(b *session.Batch) {
	if cap(b.Msgs) > 64 {
		return
	}
	clear(b.Msgs[:cap(b.Msgs)])
	*b = session.Batch{Msgs: b.Msgs[:0]}
	batches.Put(b)
}

// batchSize is a guess at the encoded size of b, large enough for a batch
// of plain text to be framed in one allocation.
func batchSize(b *session.Batch) int {
	n := 24
	for _, m := range b.Msgs {
		n += len(m.Data) + len(m.Data)/8 + 24
	}
	if b.Close {
		n += 160
	}
	return n
}

// What hold did with a poll.
const (
	holdAnswer = iota // b holds the answer, or is empty for a heartbeat
	holdLeft          // the client left first
	holdParked        // the poll was parked (park.go), which answers it
)

// hold waits until rcv hands out messages or the close frame, and returns
// holdAnswer with them in b, or until a heartbeat interval passes, and
// returns holdAnswer with b empty. It returns holdLeft when the client
// left first. A poll that waited cfg.Parking.After without news is parked,
// when it can be, and hold returns holdParked; contentType and wrap are what
// the parked poll answers with. A nil w never parks. A longpoll receiver
// hands out acks only with data (AcksOnData): an ack alone ending the wait
// would cost a poll round trip per send for an app that answers nothing;
// a JSONP one hands them out alone, its client having no other way to
// learn them.
func hold(w http.ResponseWriter, r *http.Request, rcv *session.Receiver, cfg Config, b *session.Batch,
	contentType string, wrap func([]byte) []byte) int {
	max := cfg.Session.MaxBatchBytes
	// A busy session has something at once (a resume's replay, the reply
	// to the send that came just before): then no timer is armed, and
	// neither the receiver's Ready channel nor the request's Done channel,
	// which net/http makes on first use, is ever made.
	if rcv.Next(b, max) {
		return holdAnswer
	}
	ready := rcv.Ready() // signalled already if something came meanwhile
	wait := cfg.Session.HeartbeatInterval
	parkAfter := cfg.Parking.after()
	canPark := w != nil && parkAfter > 0 && parkAfter < wait && parkable(r)
	first := wait
	if canPark {
		first = parkAfter
	}
	hb := newHeartbeat(first) // one Reset of a recycled timer, not two
	defer recycleHeartbeat(hb)
	done := r.Context().Done()
	for {
		select {
		case <-ready:
			if rcv.Next(b, max) {
				return holdAnswer
			}
		case <-hb.C:
			if canPark {
				canPark = false
				f := cfg.framer()
				if cfg.Parking.park(w, r, rcv, &cfg, wait-parkAfter, heldReply{contentType: contentType,
					body: func(b *session.Batch) []byte { return heldBody(f, b, wrap) }}) {
					return holdParked
				}
				hb.Reset(wait - parkAfter)
				continue
			}
			b.Msgs, b.Ack, b.Close = b.Msgs[:0], 0, false
			rcv.TakeAck(b) // a heartbeat may as well tell a due ack
			return holdAnswer
		case <-done:
			return holdLeft
		}
	}
}

// Refuse answers a failed lookup or attach with its close frame.
func (p *LongPoll) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	WriteAttachError(w, p.cfg.framer(), err)
}

// heartbeats recycles the timers of held polls: a new one per poll was a
// sizeable share of a long-polling round trip's allocations. A recycled
// timer is stopped and its channel empty, so it is as good as a new one.
var heartbeats sync.Pool

func newHeartbeat(d time.Duration) *time.Timer {
	if t, ok := heartbeats.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

func recycleHeartbeat(t *time.Timer) {
	if !t.Stop() {
		// Only a program built with asynctimerchan=1 (a main module older
		// than Go 1.23) can find a stale tick here; drop it.
		select {
		case <-t.C:
		default:
		}
	}
	heartbeats.Put(t)
}
