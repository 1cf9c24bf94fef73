package transports

import (
	"net/http"
	"time"

	"github.com/tether-rt/tether/session"
)

// PreludeBytes is the padding a streaming answer starts with: browsers
// (and some proxies) hold back the first bytes of a response before they
// hand it to script, so the stream begins with this much filler.
const PreludeBytes = 2048

// streamWriter is what differs between the streaming carriers: how a batch,
// a heartbeat, the prelude and the end look on the wire.
type streamWriter interface {
	prelude(dst []byte) []byte
	batch(dst []byte, b *session.Batch) []byte
	heartbeat(dst []byte) []byte
	// limit is written when the byte limit is reached, before the answer
	// ends; nil means ending the answer is enough.
	limit(dst []byte) []byte
}

// serveStream runs one streaming answer: prelude, then a flush per batch
// and per heartbeat, until the session closes, the client leaves or the
// answer reaches cfg.Session's MaxStreamBytes.
func serveStream(w http.ResponseWriter, r *http.Request, rcv *session.Receiver, cfg Config,
	sw streamWriter, maxBytes int) {
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	buf := sw.prelude(nil)
	if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
		return // a ResponseWriter that cannot flush cannot stream
	}
	sent := 0
	hb := time.NewTimer(cfg.Session.HeartbeatInterval)
	defer hb.Stop()
	var b session.Batch
	for {
		buf = buf[:0]
		select {
		case <-r.Context().Done():
			return
		case <-hb.C:
			buf = sw.heartbeat(buf)
		case <-rcv.Ready():
			for len(buf) < cfg.Session.MaxBatchBytes && rcv.Next(&b, cfg.Session.MaxBatchBytes) {
				buf = sw.batch(buf, &b)
				if b.Close {
					break
				}
			}
		}
		if len(buf) == 0 {
			continue
		}
		sent += len(buf)
		done := b.Close
		if !done && sent >= maxBytes {
			buf = sw.limit(buf)
			done = true
		}
		if _, err := w.Write(buf); err != nil || rc.Flush() != nil || done {
			return
		}
		hb.Reset(cfg.Session.HeartbeatInterval)
	}
}
