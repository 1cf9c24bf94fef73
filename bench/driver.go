package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Conn is one session of one protocol, as lean as the protocol allows:
// no reconnection, no queueing, no replay, only what a load generator
// needs to keep a session alive and count its messages.
type Conn interface {
	// Send sends one text message. Sends are serialized per Conn.
	Send(msg []byte) error
	// SendBatch sends msgs in one request or frame where the protocol
	// has batches (HTTP carriers, SockJS arrays), one by one otherwise.
	SendBatch(msgs [][]byte) error
	// Recv waits for the next answer (a WebSocket message, a poll
	// response, a stream read) and calls fn on each application message
	// it carried, returning how many. Protocol frames (heartbeats, acks,
	// pings) are handled here and count for nothing. msg is valid only
	// during fn. Only one goroutine may call Recv.
	//
	// Where a send's answer carries messages (tether/1 longpoll and
	// polling), the next Recv returns them without a request; and while a
	// Recv is in progress, a Send on another goroutine calls that Recv's
	// fn for them itself, so that a held poll does not delay them. Calls
	// of fn never overlap, all come before that Recv returns, and its
	// count includes them.
	Recv(fn func(msg []byte)) (int, error)
	// Close ends the session the protocol's polite way and releases it;
	// it unblocks a Recv in progress.
	Close() error
	// Abandon releases the connection without telling the server.
	Abandon()
}

// dialFunc opens one session.
type dialFunc func(ctx context.Context) (Conn, error)

// dialer returns the dial function of e's protocol and transport.
func (e *env) dialer() dialFunc {
	switch e.cfg.Proto {
	case "tether":
		return e.dialNative
	case "sockjs":
		return e.dialSockJS
	case "ws":
		return e.dialRawWS
	case "engineio":
		return func(ctx context.Context) (Conn, error) { return e.dialEngineIO(ctx, "") }
	case "socketio":
		return func(ctx context.Context) (Conn, error) { return e.dialEngineIO(ctx, e.cfg.Event) }
	}
	return func(context.Context) (Conn, error) { return nil, fmt.Errorf("unknown protocol %q", e.cfg.Proto) }
}

// ErrClosedByServer is a session that the server ended.
type ErrClosedByServer struct {
	Code   int
	Reason string
}

func (e *ErrClosedByServer) Error() string {
	return fmt.Sprintf("closed by the server: %d %s", e.Code, e.Reason)
}

// wsConn is the WebSocket part most drivers share: reads into one reused
// buffer, writes under a lock.
type wsConn struct {
	c    *websocket.Conn
	wmu  sync.Mutex
	rbuf []byte
}

func (e *env) dialWS(ctx context.Context, url string) (*wsConn, error) {
	c, resp, err := e.ws.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
			return nil, fmt.Errorf("websocket %s: %s %s", url, resp.Status, bytes.TrimSpace(body))
		}
		return nil, err
	}
	return &wsConn{c: c}, nil
}

// read returns the next message; binary tells its type. The bytes are
// valid until the next read.
func (w *wsConn) read() (data []byte, binary bool, err error) {
	typ, r, err := w.c.NextReader()
	if err != nil {
		return nil, false, err
	}
	b := w.rbuf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	if cap(b) <= 64<<10 {
		w.rbuf = b
	}
	return b, typ == websocket.BinaryMessage, nil
}

func (w *wsConn) write(msg []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.c.WriteMessage(websocket.TextMessage, msg)
}

// writeLocked writes with wmu held by the caller.
func (w *wsConn) writeLocked(msg []byte) error {
	return w.c.WriteMessage(websocket.TextMessage, msg)
}

// closeWS sends WebSocket's close and closes the connection.
func (w *wsConn) closeWS() error {
	w.wmu.Lock()
	w.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	w.wmu.Unlock()
	return w.c.Close()
}

// eachJSONString calls fn on each string of a JSON array of strings
// (SockJS "a[...]" frames), unescaping only strings that need it.
func eachJSONString(arr []byte, fn func([]byte)) (int, error) {
	s := bytes.TrimSpace(arr)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return 0, fmt.Errorf("not a JSON array: %.40q", s)
	}
	s = s[1 : len(s)-1]
	n := 0
	for {
		s = bytes.TrimLeft(s, " \t\r\n,")
		if len(s) == 0 {
			return n, nil
		}
		str, rest, err := nextJSONString(s)
		if err != nil {
			return n, err
		}
		fn(str)
		n++
		s = rest
	}
}

// nextJSONString splits a leading JSON string off s and returns its
// value (unescaped when it holds escapes) and the rest.
func nextJSONString(s []byte) (val, rest []byte, err error) {
	if len(s) == 0 || s[0] != '"' {
		return nil, nil, fmt.Errorf("want a JSON string at %.40q", s)
	}
	// The common case, no escape before the closing quote, found with two
	// vectorised searches rather than a loop over every byte.
	if end := bytes.IndexByte(s[1:], '"') + 1; end > 0 && bytes.IndexByte(s[1:end], '\\') < 0 {
		return s[1:end], s[end+1:], nil
	}
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return s[1:i], s[i+1:], nil
			}
			var v string
			if err := json.Unmarshal(s[:i+1], &v); err != nil {
				return nil, nil, err
			}
			return []byte(v), s[i+1:], nil
		}
	}
	return nil, nil, errors.New("unterminated JSON string")
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst, s []byte) []byte {
	if !needsEscape(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	b, _ := json.Marshal(string(s))
	return append(dst, b...)
}

func needsEscape(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			return true
		}
	}
	return false
}
