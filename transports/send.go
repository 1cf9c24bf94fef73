package transports

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// Send is the POST send path shared by every HTTP carrier: the body is a
// batch of client frames; the answer acknowledges what was accepted.
type Send struct {
	cfg Config
}

// NewSend returns the send path for cfg.
func NewSend(cfg Config) *Send { return &Send{cfg: cfg} }

// Serve reads one batch from body (nil: from r.Body, as long as it says)
// and applies it to l. The caller has checked the method and found the
// session. A malformed batch is refused
// whole with 400 and the session is untouched; an oversize body or message
// is 413 and closes the session with CloseMessageTooBig. With carry (the
// client asked with carry=1, SPEC.md §5) the answer also carries the
// messages the client has not acknowledged, mostly the app's replies to
// this batch, which the app's callbacks then do not wake the receiver for.
func (s *Send) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, body io.Reader, carry bool) {
	f := s.cfg.framer()
	limit := MaxSend(s.cfg.Session)
	var data []byte
	var err error
	if body == nil {
		data, err = readBody(r.Body, r.ContentLength, limit)
		closeRead(r, err)
	} else {
		data, err = ReadLimited(body, limit)
	}
	switch {
	case errors.Is(err, ErrBodyTooBig):
		l.Fail(protocol.CloseMessageTooBig, "send body over limit")
		http.Error(w, "send body over the limit", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if code, reason, closed := l.Closed(); closed {
		WriteClose(w, f, code, reason)
		return
	}
	// A send batch is an ack and a message or two: decoded into an array
	// on the stack, where a slice of its own was one more allocation.
	var buf [4]protocol.Frame
	frames, err := protocol.AppendBatch(buf[:0], data)
	if err == nil {
		err = check(frames, s.cfg.Session.MaxMessageSize)
	}
	if err != nil {
		refuseBatch(w, l, err)
		return
	}
	held := carry && l.HoldWakes()
	took := false
	if held {
		defer func() { l.ReleaseWakes(took) }() // after the answer is flushed, below
	}
	l.Touch()
	err = apply(r.Context(), l, frames)
	l.Touch()
	if err != nil && r.Context().Err() != nil {
		return // the client left; it will re-send what was not acknowledged
	}
	// The answer tells the client the ack, and the session notes it, so
	// polls need not repeat it; but a JSONP page's form (body set) cannot
	// read its answer: its ack must still ride on the next poll's data.
	var ack uint64
	if body == nil {
		ack = l.AckAnswer()
	} else {
		ack = l.InAck()
	}
	// Nothing is carried to a client that left: the receiver hands it
	// out, to the client's next poll or resume.
	if held && r.Context().Err() == nil {
		carried := getBatch()
		defer putBatch(carried)
		if took = l.Carry(carried, s.cfg.Session.MaxBatchBytes); took {
			writeCarried(w, f, ack, carried, s.cfg.Session.HeartbeatTimeout)
			return
		}
	}
	out := make([]byte, 0, 24)
	out = append(protocol.AppendAck(out, ack), '\n')
	if code, reason, closed := l.Closed(); closed {
		out = f.AppendClose(out, code, reason)
	}
	WriteAnswer(w, textPlain, out)
}

// writeCarried writes a send answer that carries b (with its close frame
// when b took the last message of a closed session, and only then: a
// client stops at a close frame). When b stopped at the byte bound with
// messages left, the answer ends with an `h` frame, which tells a
// `polling` client to poll at once rather than after its interval: the
// rest would otherwise wait for it (SPEC.md §5). It goes out before the
// receiver may hand out what came after b (ReleaseWakes, deferred by the
// caller), so that no poll answer overtakes it; its length is given, so
// flushing does not chunk it.
//
// The receiver hands out nothing while the answer is on its way, so a
// write that stalls (the client's network gone mid-answer) must not last
// until TCP gives up, many minutes on: an answer larger than a socket
// takes at once gets the dead-peer timeout (wait) to be written in.
// net/http clears a connection's write deadline after each request, so
// the next request on it is not bound by this one. A cut answer leaves a
// gap, which the client's resume replays.
func writeCarried(w http.ResponseWriter, f Framer, ack uint64, b *session.Batch, wait time.Duration) {
	out := make([]byte, 0, 24+batchSize(b))
	out = append(protocol.AppendAck(out, ack), '\n')
	out = f.AppendBatch(out, b)
	if b.More {
		out = f.AppendHeartbeat(out)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	rc := http.NewResponseController(w) // through middleware that wraps w
	if len(out) > carriedUnbounded {
		rc.SetWriteDeadline(time.Now().Add(wait)) // net/http clears it after the request
	}
	WriteAnswer(w, textPlain, out)
	rc.Flush()
}

// carriedUnbounded is the largest carrying answer written without a
// deadline: net/http's own buffer, which hands the socket one write the
// kernel takes whole (a send connection holds no unacknowledged data of
// an earlier answer: its client read that before it sent again). The
// replies of a request/response app, the common case, stay under it and
// cost no deadline.
const carriedUnbounded = 4 << 10

// refuseBatch answers a batch that check or the decoder refused: 413 and
// a closed session for a message over the limit, 400 for the rest. (Its
// own function: the variable errors.As fills would otherwise be allocated
// for every send.)
func refuseBatch(w http.ResponseWriter, l *session.Link, err error) {
	var bad *badFrames
	if errors.As(err, &bad) && bad.code == protocol.CloseMessageTooBig {
		l.Fail(bad.code, "message too big")
		http.Error(w, bad.msg, http.StatusRequestEntityTooLarge)
		return
	}
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// closeRead closes a request body read to its end (err nil): net/http
// otherwise reads it again after the handler, to make sure, with a reader
// and a copy of its own.
func closeRead(r *http.Request, err error) {
	if err == nil {
		r.Body.Close()
	}
}

// readBody is ReadLimited for a request body of the declared length size
// (-1: unknown): one allocation of that size, where io.ReadAll starts at
// 512 bytes and grows.
func readBody(body io.Reader, size int64, limit int) ([]byte, error) {
	if size <= 0 || size > int64(limit) {
		return ReadLimited(body, limit)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(body, b); err != nil {
		return nil, err
	}
	return b, nil
}
