package transports

import (
	"net/http"

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
	if rcv.Next(b, p.cfg.Session.MaxBatchBytes) {
		body = f.AppendBatch(make([]byte, 0, batchSize(b)), b)
	}
	rcv.Detach()
	WriteAnswer(w, textPlain, body)
}

// Refuse answers a failed lookup or attach with its close frame.
func (p *Polling) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	WriteAttachError(w, p.cfg.framer(), err)
}
