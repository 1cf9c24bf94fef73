package transports

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/session"
)

// fakeCarrier drives a wsConn without a session: it records what the
// client sends and writes what the test queues.
type fakeCarrier struct {
	w     *wsConn
	got   chan string
	errs  chan error
	ended chan struct{}
	mu    sync.Mutex
	out   []string
	ping  bool                                             // heartbeats are WebSocket pings
	onMsg atomic.Pointer[func(f *fakeCarrier, msg string)] // runs as the message's callback
}

func (f *fakeCarrier) message(_ int, msg []byte) bool {
	if fn := f.onMsg.Load(); fn != nil {
		(*fn)(f, string(msg))
	}
	f.got <- string(msg)
	return true
}
func (f *fakeCarrier) rest()             {}
func (f *fakeCarrier) detach()           {}
func (f *fakeCarrier) readErr(err error) { f.errs <- err }
func (f *fakeCarrier) end()              { close(f.ended) }

func (f *fakeCarrier) flush() bool {
	f.mu.Lock()
	out := f.out
	f.out = nil
	f.mu.Unlock()
	var buf []byte
	for _, m := range out {
		buf = wsAppendFrame(buf, websocket.TextMessage, []byte(m))
	}
	return len(buf) > 0 && f.w.send(buf) != nil
}

func (f *fakeCarrier) heartbeat(_, _ bool) error {
	if f.ping {
		return f.w.send(wsAppendFrame(nil, websocket.PingMessage, nil))
	}
	return f.w.send(wsAppendFrame(nil, websocket.TextMessage, []byte("h")))
}

func (f *fakeCarrier) queue(m string) {
	f.mu.Lock()
	f.out = append(f.out, m)
	f.mu.Unlock()
	f.w.kick()
}

type wsEnv struct {
	srv        *httptest.Server
	conns      chan *fakeCarrier
	dialer     *websocket.Dialer // nil: the default one
	maxMessage int               // the connections' MaxMessageSize; 0: 1 MiB
}

func newWSEnv(t *testing.T, interval, timeout time.Duration, ping bool) *wsEnv {
	e := &wsEnv{conns: make(chan *fakeCarrier, 1000)}
	e.srv = httptest.NewServer(wsFakeHandler(e, interval, timeout, ping))
	t.Cleanup(e.srv.Close)
	return e
}

// wsFakeHandler upgrades and hands each connection, driven by a
// fakeCarrier, to e.conns.
func wsFakeHandler(e *wsEnv, interval, timeout time.Duration, ping bool) http.Handler {
	up := &websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := &fakeCarrier{got: make(chan string, 100), errs: make(chan error, 1),
			ended: make(chan struct{}), ping: ping, w: &wsConn{}}
		if f.w.upgrade(up, w, r) != nil {
			return
		}
		opts := &session.Options{HeartbeatInterval: interval, HeartbeatTimeout: timeout,
			MaxMessageSize: e.maxMessage}
		if opts.MaxMessageSize == 0 {
			opts.MaxMessageSize = 1 << 20
		}
		f.w.setup(f, opts)
		f.w.start()
		e.conns <- f
	})
}

func (e *wsEnv) dial(t *testing.T) (*websocket.Conn, *fakeCarrier) {
	t.Helper()
	d := e.dialer
	if d == nil {
		d = websocket.DefaultDialer
	}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, <-e.conns
}

func needPoller(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sockets are parked on Linux only")
	}
}

// waitParked waits until f's socket sits in the poller with no reader.
func waitParked(t *testing.T, f *fakeCarrier) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		f.w.rmu.Lock()
		parked := f.w.parked
		f.w.rmu.Unlock()
		if parked {
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the connection never parked")
		}
	}
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
		return ""
	}
}

func readers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "transports.(*wsConn).read(")
}

func TestWSParkResume(t *testing.T) {
	needPoller(t)
	e := newWSEnv(t, time.Hour, time.Hour, false)
	c, f := e.dial(t)
	for i := range 3 {
		waitParked(t, f)
		msg := fmt.Sprint("m", i)
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, f.got); got != msg {
			t.Fatalf("got %q, want %q", got, msg)
		}
	}
	// Two messages in one segment: both delivered before it parks again.
	c.WriteMessage(websocket.TextMessage, []byte("x"))
	c.WriteMessage(websocket.TextMessage, []byte("y"))
	if a, b := recv(t, f.got), recv(t, f.got); a != "x" || b != "y" {
		t.Fatalf("got %q %q", a, b)
	}
	// Writes reach a parked connection's client.
	waitParked(t, f)
	f.queue("out")
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "out" {
		t.Fatalf("read %q, %v", m, err)
	}
}

func TestWSManyParked(t *testing.T) {
	needPoller(t)
	e := newWSEnv(t, time.Hour, time.Hour, false)
	const n = 200
	clients := make([]*websocket.Conn, n)
	fakes := make([]*fakeCarrier, n)
	for i := range n {
		clients[i], fakes[i] = e.dial(t)
	}
	for _, f := range fakes {
		waitParked(t, f)
	}
	if r := readers(); r != 0 {
		t.Fatalf("%d readers run for %d parked connections", r, n)
	}
	for i, c := range clients {
		c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprint(i)))
	}
	for i, f := range fakes {
		if got := recv(t, f.got); got != fmt.Sprint(i) {
			t.Fatalf("connection %d got %q", i, got)
		}
	}
}

func TestWSPeerCloseWhileParked(t *testing.T) {
	needPoller(t)
	e := newWSEnv(t, time.Hour, time.Hour, false)
	c, f := e.dial(t)
	waitParked(t, f)
	c.NetConn().Close() // no close frame: the socket just ends
	select {
	case err := <-f.errs:
		if err == nil {
			t.Fatal("nil read error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the end of the peer went unnoticed")
	}
	<-f.ended
}

func TestWSServerCloseWhileParked(t *testing.T) {
	needPoller(t)
	e := newWSEnv(t, time.Hour, time.Hour, false)
	c, f := e.dial(t)
	waitParked(t, f)
	f.w.shut() // as the writer does when its close went out
	if err := <-f.errs; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read error %v, want net.ErrClosed", err)
	}
	<-f.ended
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := c.ReadMessage(); err == nil {
		t.Fatal("the client's connection stayed open")
	}
}

func TestWSDeadPeerWhileParked(t *testing.T) {
	needPoller(t)
	e := newWSEnv(t, time.Hour, time.Second, false)
	_, f := e.dial(t)
	waitParked(t, f)
	wantDeadPeer(t, f.errs)
	<-f.ended
}

// wantDeadPeer waits for the read error that ends a silent peer's
// connection, which must be a timeout.
func wantDeadPeer(t *testing.T, errs <-chan error) {
	t.Helper()
	select {
	case err := <-errs:
		var ne interface{ Timeout() bool }
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("read error %v, want a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a silent peer was not taken for dead")
	}
}

// A peer that answers the heartbeat's pings stays alive, and parked: the
// pong does not leave a reader waiting for a data message.
func TestWSPongsKeepParkedPeerAlive(t *testing.T) {
	needPoller(t)
	e := newWSEnv(t, 100*time.Millisecond, 1500*time.Millisecond, true)
	c, f := e.dial(t)
	go func() {
		for { // gorilla answers pings while reading
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	time.Sleep(2 * time.Second) // past the timeout: only the pongs keep it
	select {
	case err := <-f.errs:
		t.Fatalf("a peer answering pings was dropped: %v", err)
	default:
	}
	waitParked(t, f)
	// A ping from the client is answered while parked too.
	pong := make(chan struct{}, 1)
	c.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	c.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
	select {
	case <-pong:
	case <-time.After(10 * time.Second):
		t.Fatal("no pong")
	}
	waitParked(t, f)
}

// Wake-ups from many goroutines while the reader flushes too: every queued
// message reaches the client, none is stranded behind a busy writer.
func TestWSKickLosesNothing(t *testing.T) {
	e := newWSEnv(t, time.Hour, time.Hour, false)
	c, f := e.dial(t)
	const senders, each = 8, 200
	var wg sync.WaitGroup
	var cmu sync.Mutex // one client writer at a time
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				f.queue(fmt.Sprint(s, ".", i))
				if i%50 == 0 {
					cmu.Lock()
					c.WriteMessage(websocket.TextMessage, []byte("in"))
					cmu.Unlock()
				}
			}
		}()
	}
	seen := 0
	for seen < senders*each {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatalf("after %d of %d messages: %v", seen, senders*each, err)
		}
		seen++
	}
	wg.Wait()
}

// A callback that sends and then keeps working must not hold its message
// back until it returns: here it returns only once the client has the
// message, so a held-back message would never arrive.
func TestWSSendInLongCallbackGoesOut(t *testing.T) {
	e := newWSEnv(t, time.Minute, time.Minute, false)
	c, f := e.dial(t)
	received := make(chan struct{})
	onMsg := progressThenWait(received)
	f.onMsg.Store(&onMsg)
	if err := c.WriteMessage(websocket.TextMessage, []byte("work")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("the message sent inside a running callback did not arrive: %v", err)
	}
	close(received)
	if string(msg) != "progress work" {
		t.Fatalf("got %q", msg)
	}
	if got := recv(t, f.got); got != "work" {
		t.Fatalf("callback saw %q", got)
	}
}

// The late watch serves many connections at once: each one's callback
// sends and then waits for its client to have the message. Once they all
// returned, the watch's goroutine leaves.
func TestWSLateWatchManyThenLeaves(t *testing.T) {
	e := newWSEnv(t, time.Minute, time.Minute, false)
	const n = 20
	received := make(chan struct{})
	onMsg := progressThenWait(received)
	clients := make([]*websocket.Conn, n)
	for i := range clients {
		c, f := e.dial(t)
		f.onMsg.Store(&onMsg)
		clients[i] = c
	}
	for i, c := range clients {
		if err := c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range clients {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("connection %d: the message sent inside a running callback did not arrive: %v", i, err)
		}
		if want := fmt.Sprint("progress ", i); string(msg) != want {
			t.Fatalf("connection %d: got %q, want %q", i, msg, want)
		}
	}
	close(received)
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if !wsLateWatch.Running() {
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the late watch still runs with nothing to watch")
		}
	}
}

// progressThenWait is a callback that sends a progress report and then
// runs on until received is closed (the client has the report), or 10 s.
func progressThenWait(received <-chan struct{}) func(*fakeCarrier, string) {
	return func(f *fakeCarrier, msg string) {
		f.queue("progress " + msg)
		select {
		case <-received:
		case <-time.After(10 * time.Second):
		}
	}
}
