package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// eioConn speaks Engine.IO v4 (packets 0 open, 1 close, 2 ping, 3 pong,
// 4 message, 6 noop; polling payloads joined by 0x1e) over a WebSocket or
// long-polling, and Socket.IO v4 on top when event is set: it connects to
// the namespace "/" (40) and sends and receives 42["event",payload].
type eioConn struct {
	e         *env
	event     string // "": plain Engine.IO
	eventJSON []byte // the event's name as a JSON string
	ws        *wsConn

	// polling: a connection for the GETs and one for the POSTs, and
	// their target, <path>?EIO=4&transport=polling&sid=…
	poll, send *hconn
	target     []byte

	ctx    context.Context
	cancel context.CancelFunc
	smu    sync.Mutex
	wbuf   []byte
}

type eioOpen struct {
	SID string `json:"sid"`
}

func (e *env) dialEngineIO(ctx context.Context, event string) (Conn, error) {
	c := newEIOConn(e, event)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if err := c.open(ctx); err != nil {
		c.cancel()
		if c.ws != nil {
			c.ws.c.Close()
		}
		return nil, err
	}
	return c, nil
}

func newEIOConn(e *env, event string) *eioConn {
	return &eioConn{e: e, event: event, eventJSON: appendJSONString(nil, []byte(event))}
}

func (c *eioConn) path() string {
	p := c.e.target.Path
	if p == "" || p == "/" {
		p = "/engine.io/"
		if c.event != "" {
			p = "/socket.io/"
		}
	}
	return p
}

func (c *eioConn) open(ctx context.Context) error {
	var first []byte
	if c.e.cfg.Transport == "websocket" {
		ws, err := c.e.dialWS(ctx, c.e.wsURL(c.path(), "EIO=4&transport=websocket"))
		if err != nil {
			return err
		}
		c.ws = ws
		stop := context.AfterFunc(ctx, func() { ws.c.Close() })
		defer stop()
		msg, _, err := ws.read()
		if err != nil {
			return err
		}
		first = msg
	} else {
		status, body, err := c.e.oneShot(ctx, http.MethodGet, []byte(c.path()+"?EIO=4&transport=polling"), nil, nil)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("engine.io handshake: %d %s", status, bytes.TrimSpace(body))
		}
		first, _, _ = bytes.Cut(body, []byte{0x1e})
	}
	if len(first) == 0 || first[0] != '0' {
		return fmt.Errorf("engine.io: want an open packet, got %.60q", first)
	}
	var o eioOpen
	if err := json.Unmarshal(first[1:], &o); err != nil {
		return fmt.Errorf("engine.io open: %v", err)
	}
	c.target = []byte(c.path() + "?EIO=4&transport=polling&sid=" + url.QueryEscape(o.SID))
	if c.event == "" {
		return nil
	}
	// Socket.IO: connect to the main namespace and wait for its answer.
	if err := c.write([]byte("40")); err != nil {
		return err
	}
	for {
		connected := false
		_, err := c.recv(func([]byte) {}, func(p []byte) {
			if len(p) > 0 && p[0] == '0' { // 40{"sid":…}: connected to "/"
				connected = true
			}
		})
		if err != nil {
			return err
		}
		if connected {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// write sends packets: one WebSocket message each, or one POST.
func (c *eioConn) write(packets ...[]byte) error {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.ws != nil {
		for _, p := range packets {
			if err := c.ws.write(p); err != nil {
				return err
			}
		}
		return nil
	}
	b := c.wbuf[:0]
	for i, p := range packets {
		if i > 0 {
			b = append(b, 0x1e)
		}
		b = append(b, p...)
	}
	c.wbuf = b
	return c.postLocked(c.ctx, b)
}

// postLocked sends a polling payload. The caller holds smu.
func (c *eioConn) postLocked(ctx context.Context, payload []byte) error {
	if c.send == nil {
		c.send = c.e.slot(c.ctx)
	}
	status, body, err := c.send.do(ctx, http.MethodPost, c.target, textPlainHdr, payload)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("engine.io post: %d %s", status, bytes.TrimSpace(body))
	}
	return nil
}

// packet appends the Engine.IO packet of an application message.
func (c *eioConn) packet(dst, msg []byte) []byte {
	if c.event == "" {
		return append(append(dst, '4'), msg...)
	}
	dst = append(dst, `42[`...)
	dst = append(dst, c.eventJSON...)
	dst = append(dst, ',')
	dst = appendJSONString(dst, msg)
	return append(dst, ']')
}

func (c *eioConn) Send(msg []byte) error { return c.SendBatch([][]byte{msg}) }

// SendBatch sends msgs as one WebSocket message each, or as one polling
// payload, built in one reused buffer.
func (c *eioConn) SendBatch(msgs [][]byte) error {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.ws != nil {
		for _, m := range msgs {
			c.wbuf = c.packet(c.wbuf[:0], m)
			if err := c.ws.write(c.wbuf); err != nil {
				return err
			}
		}
		return nil
	}
	b := c.wbuf[:0]
	for i, m := range msgs {
		if i > 0 {
			b = append(b, 0x1e)
		}
		b = c.packet(b, m)
	}
	c.wbuf = b
	return c.postLocked(c.ctx, b)
}

func (c *eioConn) Recv(fn func([]byte)) (int, error) {
	return c.recv(fn, nil)
}

// recv reads one WebSocket message or one poll answer, answers pings,
// and hands application messages to fn (Socket.IO: the payload of the
// chosen event) and other Socket.IO packets to other.
func (c *eioConn) recv(fn func([]byte), other func([]byte)) (int, error) {
	var data []byte
	if c.ws != nil {
		msg, _, err := c.ws.read()
		if err != nil {
			return 0, err
		}
		data = msg
	} else {
		if c.poll == nil {
			c.poll = c.e.slot(c.ctx)
		}
		status, body, err := c.poll.do(c.ctx, http.MethodGet, c.target, nil, nil)
		if err != nil {
			return 0, err
		}
		if status != http.StatusOK {
			return 0, fmt.Errorf("engine.io poll: %d %s", status, bytes.TrimSpace(body))
		}
		data = body
	}
	n := 0
	for len(data) > 0 {
		p := data
		if i := bytes.IndexByte(data, 0x1e); i >= 0 && c.ws == nil {
			p, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(p) == 0 {
			continue
		}
		switch p[0] {
		case '2': // ping: answer at once
			if err := c.write([]byte("3")); err != nil {
				return n, err
			}
		case '1':
			return n, &ErrClosedByServer{Code: 1000, Reason: "engine.io close"}
		case '4':
			p = p[1:]
			if c.event == "" {
				fn(p)
				n++
				continue
			}
			ok, err := c.sioEvent(p, fn)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			} else if other != nil {
				other(p)
			}
		}
	}
	return n, nil
}

// sioEvent hands the payload of 2["event",payload] to fn when the event
// is ours.
func (c *eioConn) sioEvent(p []byte, fn func([]byte)) (bool, error) {
	switch {
	case len(p) > 0 && p[0] == '1':
		return false, &ErrClosedByServer{Code: 1000, Reason: "socket.io disconnect"}
	case len(p) < 2 || p[0] != '2' || p[1] != '[':
		return false, nil
	}
	name, rest, err := nextJSONString(p[2:])
	if err != nil {
		return false, err
	}
	if string(name) != c.event {
		return false, nil
	}
	rest = bytes.TrimLeft(rest, " ,")
	if len(rest) > 0 && rest[0] == '"' {
		val, _, err := nextJSONString(rest)
		if err != nil {
			return false, err
		}
		fn(val)
	} else {
		fn(bytes.TrimSuffix(rest, []byte("]")))
	}
	return true, nil
}

func (c *eioConn) Close() error {
	defer c.cancel()
	if c.ws != nil {
		c.write([]byte("1"))
		return c.ws.closeWS()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.smu.Lock()
	defer c.smu.Unlock()
	err := c.postLocked(ctx, []byte("1"))
	c.e.release(c.send)
	c.send = nil
	return err
}

func (c *eioConn) Abandon() {
	c.cancel()
	if c.ws != nil {
		c.ws.c.Close()
	}
}
