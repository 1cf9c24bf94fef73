package router_test

// A small raw tether/1 client for end-to-end tests: it speaks the wire
// protocol of protocol/SPEC.md directly (handshake, long-poll, send,
// WebSocket hello and batches), so the tests see exactly what a client
// sees, with nothing of package client in between.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

// wait bounds every wait of the tests: long enough for a loaded machine
// under -race, short enough that a hang fails quickly.
const wait = 5 * time.Second

// quiet is a logger that drops everything.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fastOpts returns options with short heartbeats and delays, so that the
// package runs in seconds.
func fastOpts() *router.Options {
	return &router.Options{
		HeartbeatInterval: 100 * time.Millisecond,
		HeartbeatTimeout:  400 * time.Millisecond,
		DisconnectDelay:   2 * time.Second,
		Logger:            quiet,
	}
}

// server is one router behind a real HTTP server.
type server struct {
	t    testing.TB
	rt   *router.Router
	srv  *httptest.Server
	base string // URL of the router's prefix, without a trailing slash
	hc   *http.Client
}

// startServer serves a new router at the root of a test server; the router
// routes on the last path segment, so base may have any prefix.
func startServer(t testing.TB, h router.Handler, opts *router.Options) *server {
	t.Helper()
	rt := router.New(h, opts)
	return startMounted(t, rt, rt, "/t")
}

// startMounted serves handler, in which rt is mounted at prefix.
func startMounted(t testing.TB, rt *router.Router, handler http.Handler, prefix string) *server {
	t.Helper()
	srv := httptest.NewServer(handler)
	s := &server{t: t, rt: rt, srv: srv, base: srv.URL + prefix, hc: srv.Client()}
	t.Cleanup(s.close)
	return s
}

// close shuts the router down, which ends every held request and
// WebSocket, then the HTTP server.
func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.rt.Shutdown(ctx); err != nil {
		s.t.Errorf("Shutdown: %v", err)
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// do runs one HTTP request against path (relative to base, query
// included) and returns the answer with its whole body.
func (s *server) do(ctx context.Context, method, path string, hdr http.Header, body []byte) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// mustDo is do that fails the test on a transport error.
func (s *server) mustDo(t testing.TB, method, path string, hdr http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	resp, b, err := s.do(ctx, method, path, hdr, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, b
}

// handshake posts a hello (any JSON-able value, or raw bytes).
func (s *server) handshake(t testing.TB, hello any, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	body, ok := hello.([]byte)
	if !ok {
		var err error
		if body, err = json.Marshal(hello); err != nil {
			t.Fatal(err)
		}
	}
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Content-Type", "application/json")
	return s.mustDo(t, http.MethodPost, "/handshake", hdr, body)
}

// decodeOpen expects a batch of exactly one open frame.
func decodeOpen(t testing.TB, body []byte) protocol.Open {
	t.Helper()
	frames, err := protocol.DecodeBatch(body)
	if err != nil || len(frames) != 1 || frames[0].Type != protocol.FrameOpen {
		t.Fatalf("expected one open frame, got %q (%v)", body, err)
	}
	o, err := protocol.DecodeOpen(frames[0].Data)
	if err != nil {
		t.Fatalf("open frame %q: %v", body, err)
	}
	return o
}

// mustDecode decodes a batch or fails.
func mustDecode(t testing.TB, body []byte) []protocol.Frame {
	t.Helper()
	frames, err := protocol.DecodeBatch(body)
	if err != nil {
		t.Fatalf("undecodable batch %q: %v", body, err)
	}
	return frames
}

// isClose reports whether body is a close frame with code, after nothing
// but acks (a receive batch may start with the server's ack, SPEC.md §2.2).
func isClose(body []byte, code protocol.CloseCode) bool {
	frames, err := protocol.DecodeBatch(body)
	if err != nil || len(frames) == 0 {
		return false
	}
	for _, f := range frames[:len(frames)-1] {
		if f.Type != protocol.FrameAck {
			return false
		}
	}
	last := frames[len(frames)-1]
	return last.Type == protocol.FrameClose && last.Code == code
}

// ---------------------------------------------------------------------------
// Long-poll client.

// lpClient is a session received over `longpoll`.
type lpClient struct {
	s    *server
	open protocol.Open
	last uint64 // last server message received
	out  uint64 // last client message number used
	buf  []rframe
}

// openLP opens a new longpoll session.
func (s *server) openLP(t testing.TB, hdr http.Header) *lpClient {
	t.Helper()
	resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: protocol.LongPoll}, hdr)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("handshake: %d %q", resp.StatusCode, body)
	}
	return &lpClient{s: s, open: decodeOpen(t, body)}
}

func (c *lpClient) tokenHeader() http.Header {
	return http.Header{"X-Tether-Token": {c.open.Token}}
}

// poll runs one long-poll with ack.
func (c *lpClient) poll(ctx context.Context, ack uint64) (*http.Response, []byte, error) {
	return c.s.do(ctx, http.MethodGet, fmt.Sprintf("/longpoll?sid=%s&ack=%d", c.open.SID, ack), c.tokenHeader(), nil)
}

// mustPoll polls with ack and expects 200 and a well-formed batch.
func (c *lpClient) mustPoll(t testing.TB, ack uint64) ([]protocol.Frame, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	resp, body, err := c.poll(ctx, ack)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("poll: %d %q", resp.StatusCode, body)
	}
	return mustDecode(t, body), body
}

// send posts one batch.
func (c *lpClient) send(ctx context.Context, batch []byte) (*http.Response, []byte, error) {
	h := c.tokenHeader()
	h.Set("Content-Type", "text/plain")
	return c.s.do(ctx, http.MethodPost, "/send?sid="+c.open.SID, h, batch)
}

// mustSend posts batch and returns the answer's status and body.
func (c *lpClient) mustSend(t testing.TB, batch []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	resp, body, err := c.send(ctx, batch)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return resp.StatusCode, body
}

func (c *lpClient) Open() protocol.Open { return c.open }

func (c *lpClient) SendText(t testing.TB, text string) {
	t.Helper()
	c.out++
	c.sendOK(t, protocol.AppendText(nil, c.out, []byte(text)))
}

func (c *lpClient) SendBinary(t testing.TB, data []byte) {
	t.Helper()
	c.out++
	c.sendOK(t, protocol.AppendBinary(nil, c.out, data))
}

func (c *lpClient) SendClose(t testing.TB, code protocol.CloseCode, reason string) {
	t.Helper()
	status, body := c.mustSend(t, protocol.AppendClose(nil, code, reason))
	if status != http.StatusOK {
		t.Fatalf("send close: %d %q", status, body)
	}
	for _, f := range mustDecode(t, body) {
		if f.Type == protocol.FrameClose {
			c.buf = append(c.buf, rframe{Frame: f})
		}
	}
}

// sendOK sends a batch and expects 200 with an ack covering c.out.
func (c *lpClient) sendOK(t testing.TB, batch []byte) {
	t.Helper()
	status, body := c.mustSend(t, batch)
	if status != http.StatusOK {
		t.Fatalf("send %q: %d %q", batch, status, body)
	}
	frames := mustDecode(t, body)
	if len(frames) == 0 || frames[0].Type != protocol.FrameAck || frames[0].Seq != c.out {
		t.Fatalf("send %q: answer %q, want a%d first", batch, body, c.out)
	}
}

// Next returns the next message or close frame, polling as needed.
func (c *lpClient) Next(t testing.TB) rframe {
	t.Helper()
	deadline := time.Now().Add(wait)
	for len(c.buf) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("longpoll: nothing received within %v", wait)
		}
		frames, _ := c.mustPoll(t, c.last)
		if len(frames) == 1 && frames[0].Type == protocol.FrameClose && frames[0].Code == protocol.CloseReceiverBusy {
			// A previous receiver (a dropped WebSocket, a cut poll) is
			// still attached until the server notices: resume at once.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for _, f := range frames {
			switch f.Type {
			case protocol.FrameText, protocol.FrameBinary:
				if f.Seq != c.last+1 {
					t.Fatalf("longpoll: message %d after %d", f.Seq, c.last)
				}
				c.last = f.Seq
				c.buf = append(c.buf, rframe{Frame: f})
			case protocol.FrameClose:
				c.buf = append(c.buf, rframe{Frame: f})
			}
		}
	}
	f := c.buf[0]
	c.buf = c.buf[1:]
	return f
}

func (c *lpClient) Close() {}

// ---------------------------------------------------------------------------
// WebSocket client.

// rframe is a received frame; wsBinary marks a message that came as a
// WebSocket binary message (SPEC.md §2.1).
type rframe struct {
	protocol.Frame
	wsBinary bool
}

func (f rframe) String() string {
	switch f.Type {
	case protocol.FrameText:
		return fmt.Sprintf("m%d:%q", f.Seq, f.Data)
	case protocol.FrameBinary:
		return fmt.Sprintf("b%d:%x", f.Seq, f.Data)
	case protocol.FrameClose:
		return fmt.Sprintf("c%d:%q", f.Code, f.Reason)
	}
	return fmt.Sprintf("%c%d", f.Type, f.Seq)
}

// wsURL is base with the ws scheme, plus the websocket endpoint.
func (s *server) wsURL() string {
	return "ws" + strings.TrimPrefix(s.base, "http") + "/websocket"
}

// dialWS upgrades without sending the hello.
func (s *server) dialWS(hdr http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: wait}
	conn, resp, err := d.Dial(s.wsURL(), hdr)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return conn, resp, err
}

// wsClient is a session received over `websocket`.
type wsClient struct {
	s    *server
	conn *websocket.Conn
	open protocol.Open
	last uint64
	out  uint64
	buf  []rframe
}

// mustDialWS dials and fails the test on error; the connection is closed
// at cleanup.
func (s *server) mustDialWS(t testing.TB, hdr http.Header) *websocket.Conn {
	t.Helper()
	conn, resp, err := s.dialWS(hdr)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial websocket: %v (status %d)", err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// writeHello sends the hello frame.
func writeHello(t testing.TB, conn *websocket.Conn, h protocol.Hello) {
	t.Helper()
	h.V = protocol.Version
	if err := conn.WriteMessage(websocket.TextMessage, protocol.AppendHello(nil, h)); err != nil {
		t.Fatalf("write hello: %v", err)
	}
}

// readWS reads one WebSocket message as frames.
func readWS(conn *websocket.Conn, timeout time.Duration) ([]rframe, error) {
	conn.SetReadDeadline(time.Now().Add(timeout))
	typ, msg, err := conn.ReadMessage()
	if err != nil {
		return nil, err
	}
	if typ == websocket.BinaryMessage {
		f, err := protocol.DecodeWSBinary(msg)
		if err != nil {
			return nil, err
		}
		return []rframe{{Frame: f, wsBinary: true}}, nil
	}
	frames, err := protocol.DecodeBatch(msg)
	if err != nil {
		return nil, fmt.Errorf("undecodable batch %q: %w", msg, err)
	}
	out := make([]rframe, len(frames))
	for i, f := range frames {
		out[i] = rframe{Frame: f}
	}
	return out, nil
}

// helloWS dials, sends h and returns the first frame of the answer with
// the connection, retrying while the server still holds a previous
// receiver of the session (4103, which says: resume at once).
func (s *server) helloWS(t testing.TB, h protocol.Hello) (*websocket.Conn, rframe) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		conn := s.mustDialWS(t, nil)
		writeHello(t, conn, h)
		frames, err := readWS(conn, wait)
		if err != nil {
			t.Fatalf("reading the answer to a hello: %v", err)
		}
		f := frames[0]
		if f.Type == protocol.FrameClose && f.Code == protocol.CloseReceiverBusy && time.Now().Before(deadline) {
			conn.Close()
			time.Sleep(10 * time.Millisecond)
			continue
		}
		return conn, f
	}
}

// openWS opens a session over WebSocket (new, or resumed when h names one).
func (s *server) openWS(t testing.TB, h protocol.Hello) *wsClient {
	t.Helper()
	conn, f := s.helloWS(t, h)
	if f.Type != protocol.FrameOpen {
		t.Fatalf("websocket hello answered with %v", f)
	}
	o, err := protocol.DecodeOpen(f.Data)
	if err != nil {
		t.Fatal(err)
	}
	return &wsClient{s: s, conn: conn, open: o, last: h.Last}
}

func (c *wsClient) Open() protocol.Open { return c.open }

func (c *wsClient) write(t testing.TB, typ int, data []byte) {
	t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(wait))
	if err := c.conn.WriteMessage(typ, data); err != nil {
		t.Fatalf("websocket write: %v", err)
	}
}

func (c *wsClient) SendText(t testing.TB, text string) {
	t.Helper()
	c.out++
	c.write(t, websocket.TextMessage, protocol.AppendText(nil, c.out, []byte(text)))
}

// SendBinary uses the binary form of SPEC.md §2.1.
func (c *wsClient) SendBinary(t testing.TB, data []byte) {
	t.Helper()
	c.out++
	c.write(t, websocket.BinaryMessage, protocol.AppendWSBinary(nil, c.out, data))
}

func (c *wsClient) SendClose(t testing.TB, code protocol.CloseCode, reason string) {
	t.Helper()
	c.write(t, websocket.TextMessage, protocol.AppendClose(nil, code, reason))
}

// Next returns the next message or close frame, skipping heartbeats and
// acks, and acknowledges what it received.
func (c *wsClient) Next(t testing.TB) rframe {
	t.Helper()
	deadline := time.Now().Add(wait)
	for len(c.buf) == 0 {
		frames, err := readWS(c.conn, time.Until(deadline))
		if err != nil {
			t.Fatalf("websocket read: %v", err)
		}
		for _, f := range frames {
			switch f.Type {
			case protocol.FrameText, protocol.FrameBinary:
				if f.Seq != c.last+1 {
					t.Fatalf("websocket: message %d after %d", f.Seq, c.last)
				}
				c.last = f.Seq
				c.buf = append(c.buf, f)
			case protocol.FrameClose:
				c.buf = append(c.buf, f)
			}
		}
	}
	f := c.buf[0]
	c.buf = c.buf[1:]
	if f.Type != protocol.FrameClose {
		c.conn.SetWriteDeadline(time.Now().Add(wait))
		c.conn.WriteMessage(websocket.TextMessage, protocol.AppendAck(nil, c.last))
	}
	return f
}

func (c *wsClient) Close() { c.conn.Close() }

// closeCode reads until the WebSocket ends and returns its close code
// (the WebSocket close frame's, not a tether frame's), and the tether
// close frames seen on the way.
func closeCode(t testing.TB, conn *websocket.Conn) (int, []rframe) {
	t.Helper()
	deadline := time.Now().Add(wait)
	var closes []rframe
	for {
		frames, err := readWS(conn, time.Until(deadline))
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return ce.Code, closes
		case err != nil:
			t.Fatalf("websocket ended without a close frame: %v (tether closes %v)", err, closes)
		}
		for _, f := range frames {
			if f.Type == protocol.FrameClose {
				closes = append(closes, f)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// App side: a recording echo app.

// app records what each session's callbacks saw.
type app struct {
	mu       sync.Mutex
	sessions map[string]*appSession
	order    []*appSession
	created  chan *appSession
	// closeHook, when set, runs in OnClose before it is recorded.
	closeHook func(s *appSession, code protocol.CloseCode)
}

type appSession struct {
	c         *session.Session
	id        string
	transport string // Transport() when the handler ran
	app       *app

	events  []string // what the app saw, in order
	texts   []string // OnMessage texts only
	closes  []string
	closed  chan struct{}
	msgSeen chan struct{} // signalled on each message
}

func newApp() *app {
	return &app{sessions: make(map[string]*appSession), created: make(chan *appSession, 64)}
}

// handler is the echo app: it greets with "Welcome", echoes text as
// "new message: <text>" and binary as is, sends "goodbye" and closes with
// 3001 "bye" on "close me", sends "b1".."bN" on "burst N", and stays silent on "quiet".
func (a *app) handler(c *session.Session) {
	s := &appSession{c: c, id: c.ID(), transport: c.Transport(), app: a,
		closed: make(chan struct{}), msgSeen: make(chan struct{}, 1)}
	a.mu.Lock()
	a.sessions[s.id] = s
	a.order = append(a.order, s)
	a.mu.Unlock()
	select {
	case a.created <- s:
	default:
	}
	c.OnMessage(func(m session.Message) {
		a.mu.Lock()
		if m.Binary {
			s.events = append(s.events, fmt.Sprintf("binary %x", m.Data))
		} else {
			s.events = append(s.events, "text "+m.Text())
			s.texts = append(s.texts, m.Text())
		}
		a.mu.Unlock()
		select {
		case s.msgSeen <- struct{}{}:
		default:
		}
		switch text := m.Text(); {
		case m.Binary:
			c.SendBinary(m.Data)
		case text == "close me":
			c.Send("goodbye") // reaches the client before the close frame
			c.Close(3001, "bye")
		case text == "quiet":
		case strings.HasPrefix(text, "burst "):
			n, _ := strconv.Atoi(strings.TrimPrefix(text, "burst "))
			for i := 1; i <= n; i++ {
				c.Send("b" + strconv.Itoa(i))
			}
		default:
			c.Send("new message: " + text)
		}
	})
	c.OnClose(func(code protocol.CloseCode, reason string) {
		if a.closeHook != nil {
			a.closeHook(s, code)
		}
		a.mu.Lock()
		s.events = append(s.events, fmt.Sprintf("close %d %s", code, reason))
		s.closes = append(s.closes, fmt.Sprintf("%d %s", code, reason))
		n := len(s.closes)
		a.mu.Unlock()
		if n == 1 {
			close(s.closed)
		}
	})
	c.Send("Welcome")
}

// session returns the app's record of the session id.
func (a *app) session(t testing.TB, id string) *appSession {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[id]
	if s == nil {
		t.Fatalf("the app never saw session %s", id)
	}
	return s
}

func (a *app) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sessions)
}

// snapshot returns copies of the session's events, texts and closes.
func (s *appSession) snapshot() (events, texts, closes []string) {
	s.app.mu.Lock()
	defer s.app.mu.Unlock()
	return append([]string(nil), s.events...), append([]string(nil), s.texts...), append([]string(nil), s.closes...)
}

// waitClosed waits for OnClose and returns what it was told (all calls).
func (s *appSession) waitClosed(t testing.TB) []string {
	t.Helper()
	select {
	case <-s.closed:
	case <-time.After(wait):
		t.Fatalf("OnClose did not run for session %s", s.id)
	}
	_, _, closes := s.snapshot()
	return closes
}

// waitTexts waits until OnMessage saw n texts and returns them.
func (s *appSession) waitTexts(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.After(wait)
	for {
		_, texts, _ := s.snapshot()
		if len(texts) >= n {
			return texts
		}
		select {
		case <-s.msgSeen:
		case <-deadline:
			t.Fatalf("OnMessage saw %d texts, want %d: %q", len(texts), n, texts)
		}
	}
}
