package transports

import (
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
// code if it sent one. Both send a WebSocket ping with each heartbeat, which
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
// handler runs for a connection that exists, and carries it until either
// side ends it.
func (ws *SockJSWebSocket) Serve(w http.ResponseWriter, r *http.Request, open func() (*session.Link, error)) {
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
		return
	}
	defer rcv.Detach()
	if !ws.raw && ws.send(conn, websocket.TextMessage, protocol.AppendSockJSOpen(nil)) != nil {
		interrupted(l)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		ws.write(ctx, conn, l, rcv)
		conn.Close() // ends the reader when the writer ends first
	}()
	ws.read(ctx, conn, l)
	cancel()
	<-writerDone
}

// read hands client messages to the session until the connection ends,
// then closes the session with the reason it ended.
func (ws *SockJSWebSocket) read(ctx context.Context, conn *websocket.Conn, l *session.Link) {
	opts := ws.cfg.Session
	for {
		conn.SetReadDeadline(time.Now().Add(opts.HeartbeatTimeout))
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			var ne interface{ Timeout() bool }
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				ws.fail(conn, l, protocol.CloseMessageTooBig, "message too big")
			case errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure:
				// A close frame from the client (1006 is gorilla's name for
				// a connection that ended without one).
				code := protocol.CloseCode(ce.Code)
				if code == websocket.CloseNoStatusReceived || !code.Valid() {
					code = protocol.CloseNormal
				}
				l.PeerClose(code, ce.Text)
			case errors.As(err, &ne) && ne.Timeout():
				l.Fail(protocol.CloseHeartbeatTimeout, "heartbeat timeout")
			default:
				interrupted(l)
			}
			return
		}
		msgs := [][]byte{msg}
		binary := ws.raw && typ == websocket.BinaryMessage
		if !ws.raw {
			if msgs, err = protocol.DecodeSockJSWebSocket(msg); err != nil {
				ws.fail(conn, l, protocol.CloseProtocolError, "Broken framing.")
				return
			}
		}
		for _, m := range msgs {
			if len(m) > opts.MaxMessageSize {
				ws.fail(conn, l, protocol.CloseMessageTooBig, "message too big")
				return
			}
		}
		for _, m := range msgs {
			if deliverNextWith(ctx, l, binary, m, l.DeliverInline) != nil {
				return
			}
		}
	}
}

// fail closes the session for a client fault. The WebSocket close goes
// first, so the writer, woken by the session's close, can send nothing
// after it: as with sockjs-node, the client gets no close frame, the
// connection just ends.
func (ws *SockJSWebSocket) fail(conn *websocket.Conn, l *session.Link, code protocol.CloseCode, reason string) {
	ws.wsClose(conn, code, reason)
	l.Fail(code, reason)
}

// write sends what the session hands the receiver, a heartbeat when it
// hands nothing for an interval, and the close, acknowledging each batch
// once it went out.
func (ws *SockJSWebSocket) write(ctx context.Context, conn *websocket.Conn, l *session.Link, rcv *session.Receiver) {
	opts := ws.cfg.Session
	hb := time.NewTimer(opts.HeartbeatInterval)
	defer hb.Stop()
	var b session.Batch
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return // the reader ended, and closed the session
		case <-hb.C:
			if !ws.raw && ws.send(conn, websocket.TextMessage, protocol.AppendSockJSHeartbeat(buf[:0])) != nil {
				return
			}
			if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) != nil {
				return
			}
		case <-rcv.Ready():
			for rcv.Next(&b, opts.MaxBatchBytes) {
				var err error
				if buf, err = ws.sendBatch(conn, &b, buf); err != nil {
					return
				}
				if seq := lastSeq(&b); seq != 0 {
					l.Ack(seq)
				}
				if b.Close {
					ws.close(conn, b.CloseCode, b.Reason)
					return
				}
			}
		}
		hb.Reset(opts.HeartbeatInterval)
	}
}

// sendBatch sends b's messages: framed, as one a[...] message; raw, each
// as a WebSocket message of its own.
func (ws *SockJSWebSocket) sendBatch(conn *websocket.Conn, b *session.Batch, buf []byte) ([]byte, error) {
	if len(b.Msgs) == 0 {
		return buf, nil
	}
	if !ws.raw {
		buf = appendSockJSMessages(buf[:0], b.Msgs)
		return buf, ws.send(conn, websocket.TextMessage, buf)
	}
	for _, m := range b.Msgs {
		typ := websocket.TextMessage
		if m.Binary {
			typ = websocket.BinaryMessage
		}
		if err := ws.send(conn, typ, m.Data); err != nil {
			return buf, err
		}
	}
	return buf, nil
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

func (ws *SockJSWebSocket) send(conn *websocket.Conn, typ int, data []byte) error {
	conn.SetWriteDeadline(time.Now().Add(ws.cfg.Session.HeartbeatTimeout))
	return conn.WriteMessage(typ, data)
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
