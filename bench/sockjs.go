package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// sockjsConn speaks the SockJS protocol: frames o, h, a[...], c[...];
// over a WebSocket (<prefix>/<server>/<session>/websocket) or over
// xhr-polling (POST .../xhr to receive, POST .../xhr_send to send).
type sockjsConn struct {
	e  *env
	ws *wsConn

	// xhr-polling: a connection for the polls and one for the sends, and
	// their targets.
	poll, send *hconn
	xhr        []byte // <prefix>/<server>/<session>/xhr
	xhrSend    []byte // …/xhr_send

	ctx    context.Context
	cancel context.CancelFunc
	smu    sync.Mutex
	wbuf   []byte

	retries int // xhr polls refused with 2010 and retried
}

func (e *env) dialSockJS(ctx context.Context) (Conn, error) {
	path := fmt.Sprintf("%s/%03d/%s", e.mount(), rand.IntN(1000), randID(12))
	c := &sockjsConn{e: e, xhr: []byte(path + "/xhr"), xhrSend: []byte(path + "/xhr_send")}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	var open []byte
	var err error
	if e.cfg.Transport == "websocket" {
		c.ws, err = e.dialWS(ctx, e.wsURL(path+"/websocket", ""))
		if err == nil {
			stop := context.AfterFunc(ctx, func() { c.ws.c.Close() })
			open, _, err = c.ws.read()
			stop()
			if err != nil {
				c.ws.c.Close()
			}
		}
	} else {
		var status int
		status, open, err = e.oneShot(ctx, http.MethodPost, c.xhr, nil, nil)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("xhr: %d %s", status, bytes.TrimSpace(open))
		}
	}
	if err == nil && !bytes.Equal(bytes.TrimSpace(open), []byte("o")) {
		err = fmt.Errorf("sockjs: want an open frame, got %.60q", open)
		if c.ws != nil {
			c.ws.c.Close()
		}
	}
	if err != nil {
		c.cancel()
		return nil, err
	}
	return c, nil
}

func (c *sockjsConn) Send(msg []byte) error { return c.SendBatch([][]byte{msg}) }

// SendBatch sends ["m1","m2",...] as one WebSocket message or one xhr_send.
func (c *sockjsConn) SendBatch(msgs [][]byte) error {
	c.smu.Lock()
	defer c.smu.Unlock()
	b := appendSockJSArray(c.wbuf[:0], msgs)
	c.wbuf = b
	if c.ws != nil {
		return c.ws.write(b)
	}
	if c.send == nil {
		c.send = c.e.slot(c.ctx)
	}
	status, body, err := c.send.do(c.ctx, http.MethodPost, c.xhrSend, textPlainHdr, b)
	if err != nil {
		return err
	}
	if status != http.StatusNoContent && status != http.StatusOK {
		return fmt.Errorf("xhr_send: %d %s", status, bytes.TrimSpace(body))
	}
	return nil
}

// appendSockJSArray appends msgs as the JSON array of strings a SockJS
// client sends.
func appendSockJSArray(b []byte, msgs [][]byte) []byte {
	b = append(b, '[')
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m)
	}
	return append(b, ']')
}

func (c *sockjsConn) Recv(fn func([]byte)) (int, error) {
	var frame []byte
	if c.ws != nil {
		msg, _, err := c.ws.read()
		if err != nil {
			return 0, err
		}
		frame = msg
	} else {
		if c.poll == nil {
			c.poll = c.e.slot(c.ctx)
		}
		status, body, err := c.poll.do(c.ctx, http.MethodPost, c.xhr, nil, nil)
		if err != nil {
			return 0, err
		}
		if status != http.StatusOK {
			return 0, fmt.Errorf("xhr: %d %s", status, bytes.TrimSpace(body))
		}
		frame = body
	}
	return c.frame(frame, fn)
}

// frame handles one SockJS frame: each message of an a[...] frame goes to
// fn, by scanning (no JSON library call unless a string has escapes).
func (c *sockjsConn) frame(frame []byte, fn func([]byte)) (int, error) {
	frame = bytes.TrimRight(frame, "\n")
	if len(frame) == 0 {
		return 0, nil
	}
	switch frame[0] {
	case 'a':
		return eachJSONString(frame[1:], fn)
	case 'c':
		err := sockjsClose(frame[1:])
		var ce *ErrClosedByServer
		if c.ws == nil && errors.As(err, &ce) && ce.Code == 2010 {
			// "Another connection still open": this poll came before the
			// server detached the previous one (sockjs-go answers a poll
			// and detaches it apart). The session lives; poll again.
			c.retries++
			time.Sleep(time.Millisecond)
			return 0, nil
		}
		return 0, err
	}
	return 0, nil // o, h
}

// sockjsClose decodes c[code,"reason"].
func sockjsClose(b []byte) error {
	s := string(bytes.Trim(b, "[]"))
	code, reason, _ := bytes.Cut([]byte(s), []byte(","))
	n, _ := strconv.Atoi(string(code))
	return &ErrClosedByServer{Code: n, Reason: string(bytes.Trim(reason, `"`))}
}

func (c *sockjsConn) Close() error {
	defer c.cancel()
	if c.ws != nil {
		c.ws.c.SetWriteDeadline(time.Now().Add(time.Second))
		return c.ws.closeWS()
	}
	// xhr has no close request: the server times the session out. The
	// send connection is idle (smu) and goes back to the pool; the poll's
	// is closed with the context.
	c.smu.Lock()
	c.e.release(c.send)
	c.send = nil
	c.smu.Unlock()
	return nil
}

// textPlainHdr is the Content-Type browsers send with a string body.
var textPlainHdr = []byte("Content-Type: text/plain;charset=UTF-8\r\n")

func (c *sockjsConn) Abandon() {
	c.cancel()
	if c.ws != nil {
		c.ws.c.Close()
	}
}

// rawConn is a plain WebSocket: every message is one application message.
type rawConn struct {
	ws *wsConn
}

func (e *env) dialRawWS(ctx context.Context) (Conn, error) {
	ws, err := e.dialWS(ctx, e.wsURL(e.target.Path, e.target.RawQuery))
	if err != nil {
		return nil, err
	}
	return &rawConn{ws: ws}, nil
}

func (c *rawConn) Send(msg []byte) error { return c.ws.write(msg) }

func (c *rawConn) SendBatch(msgs [][]byte) error {
	c.ws.wmu.Lock()
	defer c.ws.wmu.Unlock()
	for _, m := range msgs {
		if err := c.ws.writeLocked(m); err != nil {
			return err
		}
	}
	return nil
}

func (c *rawConn) Recv(fn func([]byte)) (int, error) {
	msg, _, err := c.ws.read()
	if err != nil {
		return 0, err
	}
	fn(msg)
	return 1, nil
}

func (c *rawConn) Close() error {
	c.ws.c.SetWriteDeadline(time.Now().Add(time.Second))
	return c.ws.closeWS()
}

func (c *rawConn) Abandon() { c.ws.c.Close() }
