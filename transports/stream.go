package transports

import (
	"net/http"
	"sync"
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

// streamYielder is a streamWriter whose dialect ends a stream that gives
// way to a refused receiver (the native one: SockJS keeps the first
// connection and refuses the second, as its protocol says). yield appends
// the close frame that says so, c4100.
type streamYielder interface {
	yield(dst []byte) []byte
}

// streamAcker is a streamWriter told each time what it wrote was flushed
// to the client's connection, and before the answer's last write (after
// which the client may attach its next answer at once): a dialect whose
// clients never acknowledge (SockJS) acknowledges then on their behalf.
type streamAcker interface {
	written()
}

// unchunked has net/http send a streaming answer as it comes, ended by
// closing the connection, instead of in chunks (a response without a
// length runs to the close, RFC 9112 §6.3). Through net/http a chunk of
// more than 4 KiB takes two writes to the socket (its header and the rest
// pass through a 4 KiB buffer), where an unframed batch goes out in one,
// and the client reads it without parsing chunk lines: in the s2c bench
// (100 messages of 64 bytes per flush) each side spent about 6% less CPU
// per message. Chunking would add nothing the carriers need: a streaming
// answer ends with its own close frame, an event stream's end means the
// same however it comes, and the connection it keeps alive would carry
// one answer of up to MaxStreamBytes anyway. HTTP/2 drops the header and
// frames the answer itself.
func unchunked(h http.Header) { h.Set("Transfer-Encoding", "identity") }

// streamBufs holds the buffers streaming answers build their writes in.
// An answer takes one only while it has something to write, so an idle
// stream holds none, and a busy one reuses a buffer already grown to a
// full batch.
var streamBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledStreamBuf is the largest buffer kept for reuse: one grown by an
// outsized message goes back to the garbage collector.
const maxPooledStreamBuf = 256 << 10

func putStreamBuf(bp *[]byte) {
	if bp != nil && cap(*bp) <= maxPooledStreamBuf {
		streamBufs.Put(bp)
	}
}

// serveStream runs one streaming answer: prelude, then a flush per batch
// and per heartbeat, until the session closes, the client leaves or the
// answer reaches maxBytes. Whatever is queued when the receiver wakes goes
// out as one Write and one Flush (one chunk) per MaxBatchBytes. It reports
// whether it ended because the client left (or its connection failed)
// rather than by the server's choice.
func serveStream(w http.ResponseWriter, r *http.Request, rcv *session.Receiver, cfg Config,
	sw streamWriter, maxBytes int) (left bool) {
	s := stream{w: w, rc: http.NewResponseController(w), rcv: rcv, sw: sw, maxBytes: maxBytes}
	s.acker, _ = sw.(streamAcker)
	w.WriteHeader(http.StatusOK)
	bp := streamBufs.Get().(*[]byte)
	defer func() { putStreamBuf(bp) }()
	buf := sw.prelude((*bp)[:0])
	_, err := w.Write(buf)
	*bp = buf[:0]
	if err != nil || s.rc.Flush() != nil {
		return true // a ResponseWriter that cannot flush cannot stream
	}
	if o, ok := sw.(streamOpener); ok {
		if *bp = o.open((*bp)[:0]); len(*bp) > 0 && s.write(bp, false) {
			return s.left
		}
	}
	putStreamBuf(bp)
	bp = nil
	hb := time.NewTimer(cfg.Session.HeartbeatInterval)
	defer hb.Stop()
	var b session.Batch
	ready := rcv.Ready()
	yield := yieldSignal(rcv, sw)
	for {
		select {
		case <-r.Context().Done():
			return true
		case <-yield:
			bp = streamBufs.Get().(*[]byte)
			*bp = sw.(streamYielder).yield((*bp)[:0])
			s.write(bp, true)
			return s.left
		case <-hb.C:
			bp = streamBufs.Get().(*[]byte)
			*bp = sw.heartbeat((*bp)[:0])
			if s.write(bp, false) {
				return s.left
			}
		case <-ready:
			// Drain everything queued, one flush per MaxBatchBytes: the
			// ready signal was consumed, so nothing may be left behind.
			// A batch without More took the rest; what comes after it
			// signals ready again.
			bp = streamBufs.Get().(*[]byte)
			*bp = (*bp)[:0]
			for rcv.Next(&b, cfg.Session.MaxBatchBytes) {
				*bp = sw.batch(*bp, &b)
				if (b.Close || len(*bp) >= cfg.Session.MaxBatchBytes) && s.write(bp, b.Close) {
					return s.left
				}
				if !b.More {
					break
				}
			}
			if len(*bp) > 0 && s.write(bp, false) {
				return s.left
			}
		}
		putStreamBuf(bp)
		bp = nil
		hb.Reset(cfg.Session.HeartbeatInterval)
	}
}

// yieldSignal returns what tells a stream of a yielding dialect that its
// session refused another receiver (nil for the others, which never
// fires). The stream then ends with c4100 (SPEC.md §5): a network that
// went silent (a phone between two networks) sends no FIN, so the server
// cannot tell a stream its client lost from a quiet one, and unlike a
// WebSocket (a ping) a stream cannot ask its peer. The client that lost
// it would be refused until TCP gives up on the stream's unacknowledged
// bytes, many minutes on; a client only opens another receiver when it
// has given up on this one. The probe detaches the stream itself: its
// goroutine may be stuck in a write that the lost client's full socket
// will not take, and would see the signal only once TCP gave up.
func yieldSignal(rcv *session.Receiver, sw streamWriter) <-chan struct{} {
	if _, ok := sw.(streamYielder); !ok {
		return nil
	}
	c := make(chan struct{}, 1)
	rcv.OnWake(nil, func() {
		rcv.Detach()
		select {
		case c <- struct{}{}:
		default:
		}
	})
	return c
}

// stream is one streaming answer under way.
type stream struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	rcv      *session.Receiver
	sw       streamWriter
	acker    streamAcker
	maxBytes int
	sent     int
	left     bool // the client left, or its connection failed
}

// write sends *bp, leaves it empty, and reports whether the answer must
// end: the client left, the session closed, or the byte limit was reached.
func (s *stream) write(bp *[]byte, closing bool) bool {
	s.sent += len(*bp)
	end := closing || s.sent >= s.maxBytes
	if !closing && end {
		*bp = s.sw.limit(*bp)
	}
	if end {
		// Detach before the last bytes go out: the client re-opens as
		// soon as it reads c4101, and must not find this answer still
		// attached (c4103). What this answer carried stays in the log
		// until the client acknowledges it; a dialect that acknowledges
		// for its client does so now, or the next answer, attached at
		// once, would repeat it (if these bytes are lost, the client is
		// lost with them).
		if s.acker != nil {
			s.acker.written()
		}
		s.rcv.Detach()
	}
	_, err := s.w.Write(*bp)
	*bp = (*bp)[:0]
	if err == nil {
		err = s.rc.Flush()
	}
	if err != nil {
		s.left = true
	} else if s.acker != nil && !end {
		s.acker.written()
	}
	return err != nil || end
}
