package transports

import "github.com/tether-rt/tether/session"

// wsSession is what both WebSocket dialects keep of their session: the
// link, the receiver they write from, and the batch and buffer they write
// with (wsConn.mu guards the last two).
type wsSession struct {
	l   *session.Link
	rcv *session.Receiver
	b   session.Batch
	buf []byte
	// ackWritten acknowledges each batch once written: the dialect's
	// clients send no acks (SockJS).
	ackWritten bool
}

// wsBatchFramer is a dialect's framing of the batches flushBatches
// writes.
type wsBatchFramer interface {
	// appendBatch appends b as WebSocket frames to dst; a closing batch
	// (b.Close) ends with the WebSocket close frame.
	appendBatch(dst []byte, b *session.Batch) []byte
}

// flushBatches is both dialects' flush (wsCarrier.flush): it writes the
// receiver's batches, each as frames in one write, and the close after
// the last. It stops when a batch was the last (Batch.More): what comes
// after it sets pending, for another flush, so asking again would only
// take the session's lock to hear there is nothing. With ackWritten, a
// batch is acknowledged once written, or left for the writer goroutine:
// the session ends with the connection anyway.
func (w *wsConn) flushBatches(s *wsSession, f wsBatchFramer) (done bool) {
	for !w.held && s.rcv.Next(&s.b, w.opts.MaxBatchBytes) {
		s.buf = f.appendBatch(s.buf[:0], &s.b)
		var seq uint64
		if s.ackWritten {
			seq = lastSeq(&s.b)
		}
		clear(s.b.Msgs) // let the sent payloads go
		if s.b.Close {
			w.sendClose(s.buf)
			return true
		}
		if w.send(s.buf) != nil {
			return true
		}
		if seq != 0 {
			s.l.Ack(seq)
		}
		if !s.b.More {
			break
		}
	}
	s.trim()
	return false
}

// trim drops buffers grown past what a heartbeat or a small batch needs,
// so an idle connection does not keep large ones.
func (s *wsSession) trim() {
	if cap(s.buf) > 1024 {
		s.buf = nil
	}
	if cap(s.b.Msgs) > 64 {
		s.b.Msgs = nil
	}
}

// detach lets the receiver go (wsCarrier.detach).
func (s *wsSession) detach() { s.rcv.Detach() }
