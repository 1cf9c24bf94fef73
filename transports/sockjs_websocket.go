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

// SockJSWebSocket is the websocket carrier of the SockJS dialect, or, when
// raw, its raw WebSocket endpoint for programs (<prefix>/websocket).
//
// Framed, it sends o, then a[...] per batch, h per heartbeat interval and
// c[code,"reason"] before the WebSocket close; the client sends JSON
// arrays of strings or single JSON strings, and empty messages, which are
// ignored. Raw, every message travels as one WebSocket message both ways,
// binary ones as binary, with no frames at all, and a close is the
// WebSocket close with the session's code and reason.
//
// Either way the session lives exactly as long as its WebSocket, as SockJS
// sessions do: a SockJS client never resumes a WebSocket session, so when
// the connection ends the session closes at once, with the client's close
// code if it sent one. Both send a WebSocket ping every heartbeat interval
// in which the client was not heard from, even while messages flow, which
// browsers answer by themselves; SockJS clients send nothing on their own,
// so the pong is what proves the peer alive.
type SockJSWebSocket struct {
	cfg Config
	up  websocket.Upgrader
	raw bool
}

// NewSockJSWebSocket returns the websocket carrier, raw or framed.
// checkOrigin decides the upgrade's origin check; the router passes its
// own policy.
func NewSockJSWebSocket(cfg Config, checkOrigin func(*http.Request) bool, raw bool) *SockJSWebSocket {
	return &SockJSWebSocket{cfg: cfg, raw: raw, up: websocket.Upgrader{
		CheckOrigin:     checkOrigin,
		WriteBufferPool: &sync.Pool{},
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, "Not a valid websocket request: "+reason.Error(), status)
		},
	}}
}

// Serve upgrades r, then opens the session with open, so the app's
// handler runs for a connection that exists, and sets the connection
// going; it returns while the session goes on.
func (ws *SockJSWebSocket) Serve(w http.ResponseWriter, r *http.Request, open func() (*session.Link, error)) {
	sc := &sockJSConn{ws: ws}
	if sc.upgrade(&ws.up, w, r) != nil {
		return // Upgrade answered with an HTTP error
	}
	conn, opts := sc.conn, ws.cfg.Session
	sc.setup(sc, opts)
	name := protocol.SockJSWebSocket
	if ws.raw {
		name = protocol.SockJSRawWebSocket
	}
	l, err := open()
	var rcv *session.Receiver
	if err == nil {
		rcv, err = l.Attach(name, 0)
	}
	if err != nil {
		code, reason := AttachErrorClose(err)
		ws.close(conn, code, reason)
		conn.Close()
		return
	}
	conn.SetWriteDeadline(time.Now().Add(opts.HeartbeatTimeout))
	if !ws.raw && conn.WriteMessage(websocket.TextMessage, protocol.AppendSockJSOpen(nil)) != nil {
		interrupted(l)
		rcv.Detach()
		conn.Close()
		return
	}
	sc.l, sc.rcv = l, rcv
	sc.ackWritten = true // SockJS clients send no acks
	sc.pings = true
	rcv.OnWake(sc.kick, nil)
	sc.start()
}

// sockJSConn is the SockJS dialect of a WebSocket.
type sockJSConn struct {
	wsConn
	wsSession
	ws   *SockJSWebSocket
	msgs [][]byte // the reader's: the messages of the WebSocket message at hand
}

// readErr closes the session with the reason reading ended.
func (sc *sockJSConn) readErr(err error) {
	var ce *websocket.CloseError
	var ne interface{ Timeout() bool }
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		sc.ws.fail(sc.conn, sc.l, protocol.CloseMessageTooBig, "message too big")
	case errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure:
		// A close frame from the client (1006 is gorilla's name for a
		// connection that ended without one).
		code := protocol.CloseCode(ce.Code)
		if code == websocket.CloseNoStatusReceived || !code.Valid() {
			code = protocol.CloseNormal
		}
		sc.l.PeerClose(code, ce.Text)
	case errors.As(err, &ne) && ne.Timeout():
		sc.l.Fail(protocol.CloseHeartbeatTimeout, "heartbeat timeout")
	default:
		interrupted(sc.l)
	}
}

// message hands one client message to the session. The messages are
// decoded into a slice the reader reuses, and copied as they are
// delivered: msg is the reader's.
func (sc *sockJSConn) message(typ int, msg []byte) bool {
	ws, opts := sc.ws, sc.ws.cfg.Session
	binary := ws.raw && typ == websocket.BinaryMessage
	if ws.raw {
		sc.msgs = append(sc.msgs[:0], msg)
	} else {
		var err error
		if sc.msgs, err = protocol.AppendSockJSWebSocket(sc.msgs[:0], msg); err != nil {
			ws.fail(sc.conn, sc.l, protocol.CloseProtocolError, "Broken framing.")
			return false
		}
	}
	defer clear(sc.msgs) // nothing of msg stays behind
	for _, m := range sc.msgs {
		if len(m) > opts.MaxMessageSize {
			ws.fail(sc.conn, sc.l, protocol.CloseMessageTooBig, "message too big")
			return false
		}
	}
	for _, m := range sc.msgs {
		if sc.l.DeliverNext(context.Background(), binary, bytes.Clone(m)) != nil {
			return false
		}
	}
	return true
}

// rest drops the reader's message slice while the socket is parked.
func (sc *sockJSConn) rest() { sc.msgs = nil }

// fail closes the session for a client fault. The WebSocket close goes
// first, so the writer, woken by the session's close, can send nothing
// after it: as with sockjs-node, the client gets no close frame, the
// connection just ends.
func (ws *SockJSWebSocket) fail(conn *websocket.Conn, l *session.Link, code protocol.CloseCode, reason string) {
	ws.wsClose(conn, code, reason)
	l.Fail(code, reason)
}

// flush writes the receiver's batches in the SockJS framing (appendBatch),
// acknowledging each once written.
func (sc *sockJSConn) flush() bool { return sc.flushBatches(&sc.wsSession, sc.ws) }

// heartbeat sends h (framed, if frame) and a WebSocket ping, whose pong
// proves the peer alive.
func (sc *sockJSConn) heartbeat(frame, ping bool) error {
	buf := sc.buf[:0]
	if frame && !sc.ws.raw {
		var mark int
		buf, mark = wsBeginFrame(buf)
		buf = wsEndFrame(protocol.AppendSockJSHeartbeat(buf), mark, websocket.TextMessage)
	}
	if ping {
		buf = wsAppendFrame(buf, websocket.PingMessage, nil)
	}
	sc.buf = buf
	if len(buf) == 0 {
		return nil // raw, and only the frame was due: raw has none
	}
	return sc.send(buf)
}

// end: the session closed when reading ended; nothing more goes out.
func (sc *sockJSConn) end() {}

// appendBatch appends b's messages as WebSocket frames: framed, one
// a[...] message; raw, each a WebSocket message of its own. A closing
// batch ends with its close (appendClose).
func (ws *SockJSWebSocket) appendBatch(dst []byte, b *session.Batch) []byte {
	switch {
	case ws.raw:
		for _, m := range b.Msgs {
			op := byte(websocket.TextMessage)
			if m.Binary {
				op = websocket.BinaryMessage
			}
			dst = wsAppendFrame(dst, op, m.Data)
		}
	case len(b.Msgs) > 0:
		var mark int
		dst, mark = wsBeginFrame(dst)
		dst = wsEndFrame(appendSockJSMessages(dst, b.Msgs), mark, websocket.TextMessage)
	}
	if b.Close {
		dst = ws.appendClose(dst, b.CloseCode, b.Reason)
	}
	return dst
}

// appendClose appends the close frame (framed only) and the WebSocket
// close of a session close.
func (ws *SockJSWebSocket) appendClose(dst []byte, code protocol.CloseCode, reason string) []byte {
	if !ws.raw {
		var mark int
		dst, mark = wsBeginFrame(dst)
		dst = wsEndFrame(appendSockJSClose(dst, code, reason), mark, websocket.TextMessage)
	}
	code, reason = protocol.SockJSClose(code, reason)
	return wsAppendClose(dst, wsCloseCode(code), reason)
}

// close sends the close frame (framed only) and the WebSocket close.
func (ws *SockJSWebSocket) close(conn *websocket.Conn, code protocol.CloseCode, reason string) {
	if !ws.raw {
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.WriteMessage(websocket.TextMessage, appendSockJSClose(nil, code, reason))
	}
	ws.wsClose(conn, code, reason)
}

// wsClose sends the WebSocket close for a session close.
func (ws *SockJSWebSocket) wsClose(conn *websocket.Conn, code protocol.CloseCode, reason string) {
	code, reason = protocol.SockJSClose(code, reason)
	conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(wsCloseCode(code), protocol.TruncateReason(reason)), time.Now().Add(time.Second))
}

// wsCloseCode returns code if a WebSocket close frame may carry it
// (RFC 6455 §7.4), else 1000: SockJS's 2010, say, is not one.
func wsCloseCode(code protocol.CloseCode) int {
	switch c := int(code); {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014, c >= 3000 && c <= 4999:
		return c
	}
	return websocket.CloseNormalClosure
}
