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
// sets the connection going; it returns while the session goes on, so the
// connection keeps neither net/http's goroutine nor its buffers.
func (ws *WebSocket) Serve(w http.ResponseWriter, r *http.Request, open Opener) {
	out := &wsOut{ws: ws}
	if out.upgrade(&ws.up, w, r) != nil {
		return // Upgrade answered with an HTTP error
	}
	conn, opts := out.conn, ws.cfg.Session
	out.setup(out, opts)
	l, rcv, openFrame, err := ws.hello(r, conn, open)
	if err != nil {
		code, reason := AttachErrorClose(err)
		ws.refuse(conn, code, reason)
		conn.Close()
		return
	}
	conn.SetWriteDeadline(time.Now().Add(opts.HeartbeatTimeout))
	if conn.WriteMessage(websocket.TextMessage, openFrame) != nil {
		rcv.Detach()
		conn.Close()
		return
	}
	out.l, out.rcv = l, rcv
	probeLimit := min(ProbeTimeout, opts.HeartbeatTimeout/4)
	rcv.OnWake(out.kick, func() { out.probe(probeLimit) })
	out.start()
}

// wsOut is the native dialect of a WebSocket: what it makes of client
// messages, and how it writes batches and heartbeats (under wsConn.mu).
type wsOut struct {
	wsConn
	wsSession
	ws     *WebSocket
	frames []protocol.Frame // the reader's: the frames of the message at hand
}

// flush writes the receiver's batches in the native framing (appendBatch).
func (o *wsOut) flush() bool { return o.flushBatches(&o.wsSession, o.ws) }

// appendBatch appends b as WebSocket messages (appendWSBatch), and the
// WebSocket close after a closing one.
func (ws *WebSocket) appendBatch(dst []byte, b *session.Batch) []byte {
	dst = appendWSBatch(dst, b)
	if b.Close {
		dst = wsAppendClose(dst, int(b.CloseCode), b.Reason)
	}
	return dst
}

func (o *wsOut) heartbeat(_, _ bool) error { // never pings: its clients send heartbeats
	buf, mark := wsBeginFrame(o.buf[:0])
	o.buf = wsEndFrame(o.ws.cfg.framer().AppendHeartbeat(buf), mark, websocket.TextMessage)
	return o.send(o.buf)
}

// end sends the close frame if the session closed meanwhile (a protocol
// error): the client still gets it after reading ended.
func (o *wsOut) end() {
	if o.rcv.Next(&o.b, o.opts.MaxBatchBytes) && o.b.Close {
		o.ws.refuse(o.conn, o.b.CloseCode, o.b.Reason)
	}
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

// readErr ends reading: an oversize message fails the session; a peer
// quiet past the heartbeat timeout gets a close, and the session lives on
// for the client to resume.
func (o *wsOut) readErr(err error) {
	var ne interface{ Timeout() bool }
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		o.l.Fail(protocol.CloseMessageTooBig, "message too big")
	case errors.As(err, &ne) && ne.Timeout():
		o.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(int(protocol.CloseHeartbeatTimeout), "heartbeat timeout"),
			time.Now().Add(time.Second))
	}
}

// message feeds one client message into the session; a malformed one
// fails it. The frames are decoded into a slice the reader reuses, their
// data still in msg.
func (o *wsOut) message(typ int, msg []byte) bool {
	opts := o.ws.cfg.Session
	var err error
	if typ == websocket.BinaryMessage {
		var f protocol.Frame
		f, err = protocol.DecodeWSBinary(msg)
		if err == nil {
			o.frames = append(o.frames[:0], f)
		}
	} else {
		o.frames, err = protocol.AppendBatch(o.frames[:0], msg)
	}
	if err == nil {
		err = check(o.frames, opts.MaxMessageSize)
	}
	if err != nil {
		clear(o.frames)
		code := protocol.CloseProtocolError
		var bad *badFrames
		if errors.As(err, &bad) {
			code = bad.code
		}
		o.l.Fail(code, protocol.TruncateReason(err.Error()))
		return false
	}
	// The session keeps what it is given, and so may the app: the data
	// of the messages is copied out of msg, which is the reader's.
	for i, f := range o.frames {
		if isMessage(f.Type) {
			o.frames[i].Data = bytes.Clone(f.Data)
		}
	}
	err = apply(context.Background(), o.l, o.frames)
	clear(o.frames) // nothing of msg stays behind
	return err == nil
}

// rest drops the reader's frame slice while the socket is parked.
func (o *wsOut) rest() { o.frames = nil }

// appendWSBatch appends one batch as WebSocket frames: text frames grouped
// into text messages, binary messages each as a binary message of its own
// (SPEC.md §2.1), order kept; the close frame, if any, ends the last text
// message.
func appendWSBatch(dst []byte, b *session.Batch) []byte {
	text := -1 // mark of the text message open, if any
	if b.Ack != 0 {
		dst, text = wsBeginFrame(dst)
		dst = append(protocol.AppendAck(dst, b.Ack), '\n')
	}
	for _, m := range b.Msgs {
		if !m.Binary {
			if text < 0 {
				dst, text = wsBeginFrame(dst)
			}
			dst = append(AppendMessage(dst, m), '\n')
			continue
		}
		if text >= 0 {
			dst, text = wsEndFrame(dst, text, websocket.TextMessage), -1
		}
		var mark int
		dst, mark = wsBeginFrame(dst)
		dst = wsEndFrame(protocol.AppendWSBinary(dst, m.Seq, m.Data), mark, websocket.BinaryMessage)
	}
	if b.Close {
		if text < 0 {
			dst, text = wsBeginFrame(dst)
		}
		dst = Native{}.AppendClose(dst, b.CloseCode, b.Reason)
	}
	if text >= 0 {
		dst = wsEndFrame(dst, text, websocket.TextMessage)
	}
	return dst
}
