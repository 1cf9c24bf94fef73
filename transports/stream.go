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

// streamOpener is a streamWriter whose dialect greets a new session with
// a frame of its own after the prelude, flushed apart from it (SockJS's o).
type streamOpener interface {
	open(dst []byte) []byte
}

// streamAcker is a streamWriter told each time what it wrote was flushed
// to the client's connection, and before the answer's last write (after
// which the client may attach its next answer at once): a dialect whose
// clients never acknowledge (SockJS) acknowledges then on their behalf.
type streamAcker interface {
	written()
}

// serveStream runs one streaming answer: prelude, then a flush per batch
// and per heartbeat, until the session closes, the client leaves or the
// answer reaches maxBytes. It reports whether it ended because the client
// left (or its connection failed) rather than by the server's choice.
func serveStream(w http.ResponseWriter, r *http.Request, rcv *session.Receiver, cfg Config,
	sw streamWriter, maxBytes int) (left bool) {
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	buf := sw.prelude(nil)
	if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
		return true // a ResponseWriter that cannot flush cannot stream
	}
	acker, _ := sw.(streamAcker)
	sent := 0
	hb := time.NewTimer(cfg.Session.HeartbeatInterval)
	defer hb.Stop()
	var b session.Batch
	// write sends buf and reports whether the answer must end: the client
	// left, the session closed, or the byte limit was reached.
	write := func(closing bool) bool {
		sent += len(buf)
		end := closing || sent >= maxBytes
		if !closing && end {
			buf = sw.limit(buf)
		}
		if end {
			// Detach before the last bytes go out: the client re-opens as
			// soon as it reads c4101, and must not find this answer still
			// attached (c4103). What this answer carried stays in the log
			// until the client acknowledges it; a dialect that acknowledges
			// for its client does so now, or the next answer, attached at
			// once, would repeat it (if these bytes are lost, the client
			// is lost with them).
			if acker != nil {
				acker.written()
			}
			rcv.Detach()
		}
		_, err := w.Write(buf)
		buf = buf[:0]
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			left = true
		} else if acker != nil && !end {
			acker.written()
		}
		return err != nil || end
	}
	if o, ok := sw.(streamOpener); ok {
		if buf = o.open(buf[:0]); len(buf) > 0 && write(false) {
			return left
		}
	}
	for {
		buf = buf[:0]
		select {
		case <-r.Context().Done():
			return true
		case <-hb.C:
			buf = sw.heartbeat(buf)
			if write(false) {
				return left
			}
		case <-rcv.Ready():
			// Drain everything queued, one flush per MaxBatchBytes: the
			// ready signal was consumed, so nothing may be left behind.
			for rcv.Next(&b, cfg.Session.MaxBatchBytes) {
				buf = sw.batch(buf, &b)
				if (b.Close || len(buf) >= cfg.Session.MaxBatchBytes) && write(b.Close) {
					return left
				}
			}
			if len(buf) > 0 && write(false) {
				return left
			}
		}
		hb.Reset(cfg.Session.HeartbeatInterval)
	}
}
