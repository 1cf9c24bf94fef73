package transports

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// ProbeTimeout bounds how long a WebSocket whose session refused another
// receiver has to answer a ping before it is taken for dead.
const ProbeTimeout = 5 * time.Second

// Opener opens or resumes the session a hello asks for and returns it with
// its open frame (no newline). It refuses with a *session.CloseError, whose
// code and reason the carrier sends as a close frame.
type Opener func(r *http.Request, h protocol.Hello) (*session.Link, []byte, error)

// WebSocket is the `websocket` carrier: one WebSocket carries the session
// both ways. Batches go out as text messages, binary messages as binary
// WebSocket messages (SPEC.md §2.1). The client's first message is a hello,
// so the token never appears in a URL.
type WebSocket struct {
	cfg Config
	up  websocket.Upgrader
}

// NewWebSocket returns the WebSocket carrier. checkOrigin decides the
// upgrade's origin check; the router passes its own policy.
func NewWebSocket(cfg Config, checkOrigin func(*http.Request) bool) *WebSocket {
	return &WebSocket{cfg: cfg, up: websocket.Upgrader{
		CheckOrigin: checkOrigin,
		// A pooled write buffer is held only while a message is written,
		// which keeps idle sessions small.
		WriteBufferPool: &sync.Pool{},
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, reason.Error(), status)
		},
	}}
}

// Serve upgrades r, reads the hello, opens or resumes through open, and
// carries the session until either side ends it.
func (ws *WebSocket) Serve(w http.ResponseWriter, r *http.Request, open Opener) {
	conn, err := ws.up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered with an HTTP error
	}
	defer conn.Close()
	opts := ws.cfg.Session
	conn.SetReadLimit(int64(MaxSend(opts)))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(opts.HeartbeatTimeout))
	})

	l, rcv, openFrame, err := ws.hello(r, conn, open)
	if err != nil {
		code, reason := AttachErrorClose(err)
		ws.refuse(conn, code, reason)
		return
	}
	defer rcv.Detach()
	conn.SetWriteDeadline(time.Now().Add(opts.HeartbeatTimeout))
	if conn.WriteMessage(websocket.TextMessage, openFrame) != nil {
		return
	}

	ctx, cancel := context.WithCancel(r.Context())
	out := &wsOut{ws: ws, conn: conn, rcv: rcv}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		ws.write(ctx, out)
		conn.Close() // ends the reader when the writer ends first
	}()
	ws.read(ctx, conn, l, out)
	cancel()
	<-writerDone
}

// wsOut is a WebSocket's sending side, shared by its writer goroutine and
// its reader: gorilla allows one writer at a time, so whoever holds mu
// writes. The reader flushes what its own messages' callbacks queued (an
// echo's reply) when the writer is idle, which spares a goroutine hand-off
// per round trip; the writer covers everything else.
type wsOut struct {
	ws   *WebSocket
	conn *websocket.Conn
	rcv  *session.Receiver
	mu   sync.Mutex
	b    session.Batch
	buf  []byte
}

// flush writes every batch the receiver has; the caller holds mu. closed
// reports that the close frame went out and the connection must end.
func (o *wsOut) flush() (closed bool, err error) {
	for o.rcv.Next(&o.b, o.ws.cfg.Session.MaxBatchBytes) {
		if o.buf, err = o.ws.sendBatch(o.conn, &o.b, o.buf); err != nil {
			return false, err
		}
		if o.b.Close {
			o.conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(int(o.b.CloseCode), protocol.TruncateReason(o.b.Reason)),
				time.Now().Add(time.Second))
			return true, nil
		}
	}
	return false, nil
}

// tryFlush flushes unless the writer is busy writing, which then covers it.
func (o *wsOut) tryFlush() (closed bool, err error) {
	if !o.mu.TryLock() {
		return false, nil
	}
	defer o.mu.Unlock()
	return o.flush()
}

// hello reads and acts on the client's first message.
func (ws *WebSocket) hello(r *http.Request, conn *websocket.Conn, open Opener) (*session.Link, *session.Receiver, []byte, error) {
	conn.SetReadDeadline(time.Now().Add(ws.cfg.Session.HeartbeatTimeout))
	typ, msg, err := conn.ReadMessage()
	if err != nil {
		return nil, nil, nil, &session.CloseError{Code: protocol.CloseProtocolError, Reason: "no hello"}
	}
	msg = bytes.TrimSuffix(msg, []byte("\n"))
	f, err := protocol.DecodeFrame(msg)
	if err == nil && (typ != websocket.TextMessage || f.Type != protocol.FrameHello) {
		err = errors.New("the first message must be a hello frame")
	}
	var h protocol.Hello
	if err == nil {
		h, err = protocol.DecodeHello(f.Data)
	}
	if err != nil {
		return nil, nil, nil, &session.CloseError{Code: protocol.CloseProtocolError, Reason: protocol.TruncateReason(err.Error())}
	}
	l, openFrame, err := open(r, h)
	if err != nil {
		return nil, nil, nil, err
	}
	rcv, err := l.Attach(protocol.WebSocket, h.Last)
	if err != nil {
		return nil, nil, nil, err
	}
	return l, rcv, openFrame, nil
}

// refuse sends a close frame and the matching WebSocket close.
func (ws *WebSocket) refuse(conn *websocket.Conn, code protocol.CloseCode, reason string) {
	deadline := time.Now().Add(time.Second)
	conn.SetWriteDeadline(deadline)
	conn.WriteMessage(websocket.TextMessage, ws.cfg.framer().AppendClose(nil, code, reason))
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(int(code), protocol.TruncateReason(reason)), deadline)
}

// read feeds client messages into the session until the connection ends,
// the peer goes quiet past the heartbeat timeout, or the client errs.
func (ws *WebSocket) read(ctx context.Context, conn *websocket.Conn, l *session.Link, out *wsOut) {
	opts := ws.cfg.Session
	for {
		conn.SetReadDeadline(time.Now().Add(opts.HeartbeatTimeout))
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			var ne interface{ Timeout() bool }
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				l.Fail(protocol.CloseMessageTooBig, "message too big")
			case errors.As(err, &ne) && ne.Timeout():
				// The session lives on for the client to resume.
				conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(int(protocol.CloseHeartbeatTimeout), "heartbeat timeout"),
					time.Now().Add(time.Second))
			}
			return
		}
		var frames []protocol.Frame
		if typ == websocket.BinaryMessage {
			var f protocol.Frame
			f, err = protocol.DecodeWSBinary(msg)
			frames = []protocol.Frame{f}
		} else {
			frames, err = protocol.DecodeBatch(msg)
		}
		if err == nil {
			err = check(frames, opts.MaxMessageSize)
		}
		if err != nil {
			code := protocol.CloseProtocolError
			var bad *badFrames
			if errors.As(err, &bad) {
				code = bad.code
			}
			l.Fail(code, protocol.TruncateReason(err.Error()))
			return
		}
		if applyWith(ctx, l, frames, l.DeliverInline) != nil {
			return
		}
		if closed, err := out.tryFlush(); closed || err != nil {
			return
		}
	}
}

// write sends what the session hands the receiver, and heartbeats when it
// hands nothing, until the close frame went out or ctx ends.
func (ws *WebSocket) write(ctx context.Context, out *wsOut) {
	opts := ws.cfg.Session
	conn, rcv := out.conn, out.rcv
	hb := time.NewTimer(opts.HeartbeatInterval)
	defer hb.Stop()
	var probing time.Time // end of the probe in flight, if any
	for {
		select {
		case <-ctx.Done():
			// The reader ended; if the session closed meanwhile (a
			// protocol error) the client still gets the close frame.
			out.mu.Lock()
			if rcv.Next(&out.b, opts.MaxBatchBytes) && out.b.Close {
				ws.refuse(conn, out.b.CloseCode, out.b.Reason)
			}
			out.mu.Unlock()
			return
		case <-hb.C:
			out.mu.Lock()
			out.buf = ws.cfg.framer().AppendHeartbeat(out.buf[:0])
			err := ws.send(conn, websocket.TextMessage, out.buf)
			out.mu.Unlock()
			if err != nil {
				return
			}
		case <-rcv.Probe():
			// Another carrier of this session was refused: make sure this
			// peer is still there. A live one answers the ping (browsers do
			// by themselves), which moves the read deadline back out. A
			// probe in flight is not restarted, or a client retrying its
			// resume would keep a dead peer alive.
			if time.Now().Before(probing) {
				continue
			}
			probing = time.Now().Add(min(ProbeTimeout, opts.HeartbeatTimeout/4))
			conn.SetReadDeadline(probing)
			if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) != nil {
				return
			}
			continue
		case <-rcv.Ready():
			out.mu.Lock()
			closed, err := out.flush()
			out.mu.Unlock()
			if closed || err != nil {
				return
			}
		}
		hb.Reset(opts.HeartbeatInterval)
	}
}

// sendBatch writes one batch: text frames grouped into text messages,
// binary messages each as its own binary message, order kept.
func (ws *WebSocket) sendBatch(conn *websocket.Conn, b *session.Batch, buf []byte) ([]byte, error) {
	buf = buf[:0]
	if b.Ack != 0 {
		buf = append(protocol.AppendAck(buf, b.Ack), '\n')
	}
	for _, m := range b.Msgs {
		if !m.Binary {
			buf = append(AppendMessage(buf, m), '\n')
			continue
		}
		if len(buf) > 0 {
			if err := ws.send(conn, websocket.TextMessage, buf); err != nil {
				return buf, err
			}
			buf = buf[:0]
		}
		bin := protocol.AppendWSBinary(nil, m.Seq, m.Data)
		if err := ws.send(conn, websocket.BinaryMessage, bin); err != nil {
			return buf, err
		}
	}
	if b.Close {
		buf = Native{}.AppendClose(buf, b.CloseCode, b.Reason)
	}
	if len(buf) == 0 {
		return buf, nil
	}
	return buf, ws.send(conn, websocket.TextMessage, buf)
}

func (ws *WebSocket) send(conn *websocket.Conn, typ int, data []byte) error {
	conn.SetWriteDeadline(time.Now().Add(ws.cfg.Session.HeartbeatTimeout))
	return conn.WriteMessage(typ, data)
}
