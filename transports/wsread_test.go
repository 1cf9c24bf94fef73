package transports

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

func TestWSUnmask(t *testing.T) {
	key := []byte{0x12, 0x34, 0x56, 0x78}
	for n := range 41 {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i * 7)
		}
		want := bytes.Clone(p)
		for i := range want {
			want[i] ^= key[i%4]
		}
		wsUnmask(key, p)
		if !bytes.Equal(p, want) {
			t.Fatalf("length %d: got %x, want %x", n, p, want)
		}
	}
}

// The reader takes plain whole frames from its buffer and leaves the rest
// to gorilla: every kind arrives whole and in order either way, and a
// ping is answered.
func TestWSFramesEitherPath(t *testing.T) {
	e := newWSEnv(t, time.Hour, time.Hour, false)
	d := websocket.Dialer{WriteBufferSize: 1024} // longer messages go out in fragments
	c, _, err := d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := <-e.conns
	pong := make(chan string, 1)
	c.SetPongHandler(func(s string) error { pong <- s; return nil })
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	msgs := []string{
		"short",
		strings.Repeat("b", 200),   // 16-bit length, whole in the buffer
		strings.Repeat("c", 480),   // fills most of the buffer
		strings.Repeat("d", 3000),  // longer than the buffer: gorilla
		strings.Repeat("e", 10000), // fragmented by the client: gorilla
		"", "after",
	}
	for i, m := range msgs {
		typ := websocket.TextMessage
		if i%2 == 1 {
			typ = websocket.BinaryMessage
		}
		if err := c.WriteMessage(typ, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second))
	for _, want := range msgs {
		if got := recv(t, f.got); got != want {
			t.Fatalf("got %d bytes %.10q…, want %d bytes %.10q…", len(got), got, len(want), want)
		}
	}
	select {
	case p := <-pong:
		if p != "are you there" {
			t.Fatalf("pong %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no pong")
	}
	// Parked, it keeps neither its read buffer nor gorilla's message.
	needPoller(t)
	waitParked(t, f)
	f.w.rmu.Lock()
	defer f.w.rmu.Unlock()
	if f.w.rbuf != nil || f.w.br.Size() != 0 {
		t.Fatalf("a parked connection keeps %d + %d bytes of buffers", cap(f.w.rbuf), f.w.br.Size())
	}
}

// A message over the read limit goes to gorilla, which refuses it.
func TestWSOverLimitRefused(t *testing.T) {
	e := newWSEnv(t, time.Hour, time.Hour, false)
	e.maxMessage = 100
	limit := MaxSend(&session.Options{MaxMessageSize: 100})
	c, f := e.dial(t)
	c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", limit)))
	if got := recv(t, f.got); len(got) != limit {
		t.Fatalf("got %d bytes", len(got))
	}
	c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", limit+1)))
	select {
	case err := <-f.errs:
		if !errors.Is(err, websocket.ErrReadLimit) {
			t.Fatalf("read error %v, want ErrReadLimit", err)
		}
	case m := <-f.got:
		t.Fatalf("an oversize message of %d bytes was read", len(m))
	case <-time.After(10 * time.Second):
		t.Fatal("no read error")
	}
}

// A peer that keeps talking, at intervals well under the heartbeat
// timeout, is never taken for dead however long it goes on (the socket's
// read deadline moves lazily but never falls short), whether the socket
// can park or not (TLS: no poller); once silent, it is.
func TestWSTalkingPeerStaysAlive(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", tlsOn), func(t *testing.T) {
			const timeout = 400 * time.Millisecond
			e := newWSEnvTLS(t, time.Hour, timeout, tlsOn)
			c, f := e.dial(t)
			if f.w.canPark == tlsOn {
				t.Fatalf("canPark %v with TLS %v", f.w.canPark, tlsOn)
			}
			for i := 0; i < 30; i++ { // 30 × 40 ms: three timeouts
				if err := c.WriteMessage(websocket.TextMessage, []byte("x")); err != nil {
					t.Fatal(err)
				}
				recv(t, f.got)
				time.Sleep(timeout / 10)
			}
			select {
			case err := <-f.errs:
				t.Fatalf("a talking peer was dropped: %v", err)
			default:
			}
			wantDeadPeer(t, f.errs)
		})
	}
}

// newWSEnvTLS is newWSEnv, over TLS when tlsOn: the socket is then not a
// plain TCP one and never parks.
func newWSEnvTLS(t *testing.T, interval, timeout time.Duration, tlsOn bool) *wsEnv {
	if !tlsOn {
		return newWSEnv(t, interval, timeout, false)
	}
	e := &wsEnv{conns: make(chan *fakeCarrier, 10)}
	e.srv = httptest.NewUnstartedServer(wsFakeHandler(e, interval, timeout, false))
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	e.dialer = &websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	return e
}

// The late timer set for one callback that sent and returned still gets
// the message of the next out, which sends and then runs on.
func TestWSLateWatchesNextCallback(t *testing.T) {
	e := newWSEnv(t, time.Minute, time.Minute, false)
	c, f := e.dial(t)
	received := make(chan struct{})
	onMsg := func(f *fakeCarrier, msg string) {
		f.queue("reply " + msg)
		if msg == "second" {
			select {
			case <-received:
			case <-time.After(10 * time.Second):
			}
		}
	}
	f.onMsg.Store(&onMsg)
	c.WriteMessage(websocket.TextMessage, []byte("first"))
	c.WriteMessage(websocket.TextMessage, []byte("second"))
	for _, want := range []string{"reply first", "reply second"} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if string(msg) != want {
			t.Fatalf("got %q, want %q", msg, want)
		}
	}
	close(received)
}

// A client that stops reading stalls the writes; the write deadline ends
// the connection.
func TestWSStalledWriteEnds(t *testing.T) {
	e := newWSEnv(t, time.Hour, 300*time.Millisecond, false)
	c, f := e.dial(t)
	c.NetConn().(*net.TCPConn).SetReadBuffer(4096)
	big := strings.Repeat("x", 1<<20)
	for range 64 {
		f.queue(big)
	}
	select {
	case <-f.ended:
	case <-time.After(20 * time.Second):
		t.Fatal("a stalled write never failed")
	}
}

// The data of a message the app keeps stays as the client sent it: the
// reader reads the next messages into the same buffer.
func TestWSMessageDataIsOwn(t *testing.T) {
	for _, dialect := range []string{"native", "sockjs", "sockjs-raw"} {
		t.Run(dialect, func(t *testing.T) {
			var mu sync.Mutex
			var kept [][]byte
			done := make(chan struct{})
			const n = 50
			app := func(s *session.Session) {
				s.OnMessage(func(m session.Message) {
					mu.Lock()
					kept = append(kept, m.Data)
					if len(kept) == n {
						close(done)
					}
					mu.Unlock()
				})
			}
			url := sessionWS(t, dialect, app)
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			text := func(i int) string { return fmt.Sprintf("message %03d", i) }
			switch dialect {
			case "native":
				c.WriteMessage(websocket.TextMessage, protocol.AppendHello(nil, protocol.Hello{V: protocol.Version}))
				c.ReadMessage() // the open frame
				for i := range n {
					c.WriteMessage(websocket.TextMessage, protocol.AppendText(nil, uint64(i+1), []byte(text(i))))
				}
			case "sockjs":
				c.ReadMessage() // o
				for i := 0; i < n; i += 2 {
					c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("[%q,%q]", text(i), text(i+1))))
				}
			default:
				for i := range n {
					c.WriteMessage(websocket.TextMessage, []byte(text(i)))
				}
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the messages did not all arrive")
			}
			mu.Lock()
			defer mu.Unlock()
			for i, k := range kept {
				if string(k) != text(i) {
					t.Fatalf("message %d kept as %q", i, k)
				}
			}
		})
	}
}

// sessionWS serves one WebSocket carrier of dialect on real sessions whose
// handler is app, and returns its URL; sessionWSWith, with opts.
func sessionWS(t *testing.T, dialect string, app func(*session.Session)) string {
	return sessionWSWith(t, dialect, &session.Options{}, app)
}

func sessionWSWith(t *testing.T, dialect string, opts *session.Options, app func(*session.Session)) string {
	reg := session.NewRegistry(opts)
	cfg := Config{Session: reg.Options()}
	any := func(*http.Request) bool { return true }
	var h http.HandlerFunc
	switch dialect {
	case "native":
		ws := NewWebSocket(cfg, any)
		h = func(w http.ResponseWriter, r *http.Request) {
			ws.Serve(w, r, func(*http.Request, protocol.Hello) (*session.Link, []byte, error) {
				l, err := reg.Create(session.Request{}, protocol.WebSocket)
				if err != nil {
					return nil, nil, err
				}
				app(l.Session())
				return l, protocol.AppendOpen(nil, protocol.Open{V: protocol.Version, SID: l.Session().ID(), Token: l.Token()}), nil
			})
		}
	default:
		ws := NewSockJSWebSocket(cfg, any, dialect == "sockjs-raw")
		h = func(w http.ResponseWriter, r *http.Request) {
			ws.Serve(w, r, func() (*session.Link, error) {
				l, err := reg.Create(session.Request{}, protocol.SockJSWebSocket)
				if err == nil {
					app(l.Session())
				}
				return l, err
			})
		}
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		reg.Shutdown(ctx)
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// A SockJS client sends nothing on its own: the pings of the heartbeat
// are what it answers. One that is sent data more often than the
// heartbeat interval is still pinged, and so is not taken for dead.
func TestSockJSWSReceivingClientStaysAlive(t *testing.T) {
	for _, dialect := range []string{"sockjs", "sockjs-raw"} {
		t.Run(dialect, func(t *testing.T) {
			opts := &session.Options{HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: 300 * time.Millisecond}
			url := sessionWSWith(t, dialect, opts, func(s *session.Session) {
				go func() {
					tick := time.NewTicker(10 * time.Millisecond)
					defer tick.Stop()
					for s.Send("tick") == nil {
						select {
						case <-tick.C:
						case <-s.Context().Done():
							return
						}
					}
				}()
			})
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			end := time.Now().Add(5 * opts.HeartbeatTimeout)
			for time.Now().Before(end) { // reading answers the pings
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, m, err := c.ReadMessage(); err != nil {
					t.Fatalf("a client that reads was dropped: %v", err)
				} else if bytes.HasPrefix(m, []byte("c[")) {
					t.Fatalf("a client that reads was closed: %s", m)
				}
			}
		})
	}
}

// A message whose callback sends nothing is still acknowledged at once:
// the reader flushes after every message, pending or not, and the ack is
// what it writes.
func TestWSAckWithoutReply(t *testing.T) {
	url := sessionWSWith(t, "native", &session.Options{HeartbeatInterval: time.Minute}, func(s *session.Session) {
		s.OnMessage(func(session.Message) {})
	})
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, protocol.AppendHello(nil, protocol.Hello{V: protocol.Version}))
	c.ReadMessage() // the open frame
	c.WriteMessage(websocket.TextMessage, protocol.AppendText(nil, 1, []byte("quiet")))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("no ack for a message the app did not answer: %v", err)
	}
	if got := strings.TrimSpace(string(msg)); got != "a1" {
		t.Fatalf("got %q, want the ack a1", got)
	}
}
