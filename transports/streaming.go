package transports

import (
	"bytes"
	"net/http"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// DefaultMaxStreamBytes ends a streaming answer after this many bytes, so
// a proxy that buffers responses never buffers forever and a browser's
// XHR never holds more than this of response text; the client re-opens
// the stream on the same session. Every re-open is a request, a prelude
// and an attach: at 128 KiB (SockJS's limit) a stream of 64-byte messages
// re-opened every 1,700 or so, which showed in the profiles of a busy
// stream; 1 MiB makes that eight times rarer.
const DefaultMaxStreamBytes = 1 << 20

// SockJSResponseLimit is the SockJS dialect's default byte limit of a
// streaming answer (sockjs-node's response_limit), kept for its clients.
const SockJSResponseLimit = 128 << 10

// Streaming is the `streaming` carrier: one long text/plain answer (not
// chunked, see unchunked) carries batches as they come, flushed each time,
// for proxies that break WebSocket. It ends with a 4101 close frame at the
// byte limit.
type Streaming struct {
	cfg      Config
	maxBytes int
}

// NewStreaming returns the streaming carrier; maxBytes <= 0 means
// DefaultMaxStreamBytes.
func NewStreaming(cfg Config, maxBytes int) *Streaming {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxStreamBytes
	}
	return &Streaming{cfg: cfg, maxBytes: maxBytes}
}

// Serve streams l to the client, after the client acknowledged ack.
func (s *Streaming) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, ack uint64) {
	rcv, err := l.Attach(protocol.Streaming, ack)
	if err != nil {
		s.Refuse(w, r, err)
		return
	}
	defer rcv.Detach()
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Accel-Buffering", "no") // ask nginx not to buffer this answer
	SetNoCache(h)
	unchunked(h)
	serveStream(w, r, rcv, s.cfg, plainStream{s.cfg.framer()}, s.maxBytes)
}

// Refuse answers a failed lookup or attach with its close frame.
func (s *Streaming) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	WriteAttachError(w, s.cfg.framer(), err)
}

// plainStream writes frames as they are, one per line.
type plainStream struct{ f Framer }

var heartbeatPrelude = bytes.Repeat([]byte("h\n"), PreludeBytes/2)

func (p plainStream) prelude(dst []byte) []byte { return append(dst, heartbeatPrelude...) }
func (p plainStream) batch(dst []byte, b *session.Batch) []byte {
	return p.f.AppendBatch(dst, b)
}
func (p plainStream) heartbeat(dst []byte) []byte { return p.f.AppendHeartbeat(dst) }
func (p plainStream) yield(dst []byte) []byte {
	return p.f.AppendClose(dst, protocol.CloseCarrierReplaced, protocol.CloseCarrierReplaced.String())
}
func (p plainStream) limit(dst []byte) []byte {
	return p.f.AppendClose(dst, protocol.CloseStreamLimit, protocol.CloseStreamLimit.String())
}
