package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
)

// webSocket carries a session over one WebSocket, both ways. The token
// travels in the hello frame, never in the URL (SPEC.md §4.2).
type webSocket struct {
	dialer *websocket.Dialer
	url    string
	header http.Header

	conn      *websocket.Conn
	closeOnce sync.Once
}

var _ duplex = (*webSocket)(nil)

func newWebSocket(base *url.URL, o *Options) *webSocket {
	u := endpoint(base, protocol.WebSocket, true)
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	h := o.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if o.Origin != "" {
		h.Set("Origin", o.Origin)
	}
	return &webSocket{dialer: o.Dialer, url: u.String(), header: h}
}

func (w *webSocket) duplex() {}

func (w *webSocket) handshake(ctx context.Context, hello protocol.Hello) (protocol.Open, []protocol.Frame, error) {
	conn, resp, err := w.dialer.DialContext(ctx, w.url, w.header)
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			body, _ := io.ReadAll(resp.Body)
			return protocol.Open{}, nil, &HandshakeError{Status: resp.StatusCode, Reason: reason(body)}
		}
		return protocol.Open{}, nil, err
	}
	conn.SetReadLimit(maxBodyBytes)
	w.conn = conn
	// The dialer's context does not reach the connection: close it if ctx
	// ends while the hello or its answer is on the way.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	deadline, _ := ctx.Deadline()
	conn.SetWriteDeadline(deadline)
	conn.SetReadDeadline(deadline)

	hello.V = protocol.Version
	hello.Transport = "" // the URL says it (SPEC.md §4.2)
	if err := conn.WriteMessage(websocket.TextMessage, protocol.AppendHello(nil, hello)); err != nil {
		return protocol.Open{}, nil, w.ctxErr(ctx, err)
	}
	typ, msg, err := conn.ReadMessage()
	if err != nil {
		return protocol.Open{}, nil, w.ctxErr(ctx, err)
	}
	if typ != websocket.TextMessage {
		return protocol.Open{}, nil, errors.New("tether: handshake answered with a binary message")
	}
	open, rest, err := openAnswer(http.StatusSwitchingProtocols, msg)
	if err != nil {
		return protocol.Open{}, nil, err
	}
	return open, rest, nil
}

// ctxErr prefers ctx's error over the one closing the connection caused.
func (w *webSocket) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (w *webSocket) receive(ctx context.Context, _ uint64) ([]protocol.Frame, error) {
	deadline, _ := ctx.Deadline()
	w.conn.SetReadDeadline(deadline)
	typ, msg, err := w.conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	if typ == websocket.BinaryMessage {
		f, err := protocol.DecodeWSBinary(msg)
		if err != nil {
			return nil, err
		}
		return []protocol.Frame{f}, nil
	}
	return protocol.DecodeBatch(msg)
}

func (w *webSocket) send(ctx context.Context, batch []byte) ([]protocol.Frame, error) {
	deadline, _ := ctx.Deadline()
	w.conn.SetWriteDeadline(deadline)
	return nil, w.conn.WriteMessage(websocket.TextMessage, batch)
}

func (w *webSocket) close() {
	w.closeOnce.Do(func() {
		if w.conn == nil {
			return
		}
		// The tether close frame, if any, already went as a text message;
		// this is only WebSocket's own goodbye.
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		w.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(100*time.Millisecond))
		w.conn.Close()
	})
}
