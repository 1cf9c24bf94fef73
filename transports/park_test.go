package transports

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// parkRig is one session behind a real HTTP server whose /poll is the
// longpoll carrier (/jsonp the JSONP one) and /ping a plain answer. The
// server's ConnState hook records each connection's states, keyed by the
// client's address, so a test sees a poll parked (hijacked) and handed
// back (new again) without timing anything.
type parkRig struct {
	t   *testing.T
	reg *session.Registry
	l   *session.Link
	srv *httptest.Server

	mu     sync.Mutex
	states map[string][]http.ConnState
	change chan struct{} // signalled on every state change
}

func newParkRig(t *testing.T, so *session.Options, parkAfter time.Duration, wrap func(net.Listener) net.Listener) *parkRig {
	t.Helper()
	if !pollerAvailable() {
		t.Skip("polls are not parked on this platform")
	}
	g := &parkRig{t: t, reg: session.NewRegistry(so), states: make(map[string][]http.ConnState),
		change: make(chan struct{}, 1)}
	var err error
	if g.l, err = g.reg.Create(session.Request{}, protocol.LongPoll); err != nil {
		t.Fatal(err)
	}
	parking := &Parking{After: parkAfter}
	cfg := Config{Session: g.reg.Options(), Parking: parking}
	lp, jp := NewLongPoll(cfg), NewJSONP(cfg)
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ack, _ := strconv.ParseUint(r.URL.Query().Get("ack"), 10, 64)
		switch r.URL.Path {
		case "/poll":
			lp.Serve(w, r, g.l, ack)
		case "/jsonp":
			jp.WithCallback("cb").Serve(w, r, g.l, ack)
		default:
			io.WriteString(w, "pong")
		}
	}))
	g.srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		g.mu.Lock()
		g.states[c.RemoteAddr().String()] = append(g.states[c.RemoteAddr().String()], st)
		g.mu.Unlock()
		select {
		case g.change <- struct{}{}:
		default:
		}
	}
	if wrap != nil {
		g.srv.Listener = wrap(g.srv.Listener)
	}
	g.srv.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.reg.Shutdown(ctx); err != nil {
			t.Errorf("registry shutdown: %v", err)
		}
		if err := parking.Wait(ctx); err != nil {
			t.Errorf("parked polls still unanswered: %v", err)
		}
		g.srv.Close()
	})
	return g
}

// dial opens a raw client connection.
func (g *parkRig) dial() (net.Conn, *bufio.Reader) {
	g.t.Helper()
	c, err := net.Dial("tcp", g.srv.Listener.Addr().String())
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func (g *parkRig) get(c net.Conn, path string) {
	g.t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		g.t.Fatal(err)
	}
}

// count returns how many times c's server side went through st.
func (g *parkRig) count(c net.Conn, st http.ConnState) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, s := range g.states[c.LocalAddr().String()] {
		if s == st {
			n++
		}
	}
	return n
}

// await waits until c went through st n times.
func (g *parkRig) await(c net.Conn, st http.ConnState, n int) {
	g.t.Helper()
	deadline := time.After(10 * time.Second)
	for g.count(c, st) < n {
		select {
		case <-g.change:
		case <-deadline:
			g.t.Fatalf("connection went through %v %d times, want %d", st, g.count(c, st), n)
		}
	}
}

func readAnswer(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// longWait is a heartbeat no test waits for.
var longWait = &session.Options{HeartbeatInterval: time.Hour, Logger: quietLogger()}

// TestParkedPollAnswersAndHandsBack: an idle poll is hijacked; a message
// sent meanwhile is its answer, with the headers net/http would have
// written, on the same connection, which the server then serves again.
func TestParkedPollAnswersAndHandsBack(t *testing.T) {
	g := newParkRig(t, longWait, time.Nanosecond, nil)
	c, br := g.dial()
	g.get(c, "/poll")
	g.await(c, http.StateHijacked, 1)
	if err := g.l.Session().Send("hi"); err != nil {
		t.Fatal(err)
	}
	resp, body := readAnswer(t, br)
	if resp.StatusCode != 200 || body != "m1:\"hi\"\n" {
		t.Fatalf("answer %d %q", resp.StatusCode, body)
	}
	for k, v := range map[string]string{
		"Content-Type":           "text/plain; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store, no-cache, must-revalidate, max-age=0",
		"Content-Length":         "8",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date: %v", err)
	}
	// The keep-alive connection carries on: a plain request, then another
	// poll, parked in turn.
	g.get(c, "/ping")
	if _, body := readAnswer(t, br); body != "pong" {
		t.Fatalf("after the hand-back: %q", body)
	}
	if n := g.count(c, http.StateNew); n != 2 {
		t.Fatalf("connection new %d times, want 2 (accepted, handed back)", n)
	}
	g.get(c, "/poll?ack=1")
	g.await(c, http.StateHijacked, 2)
	g.l.Session().Send("again")
	if _, body := readAnswer(t, br); body != "m2:\"again\"\n" {
		t.Fatalf("second parked answer %q", body)
	}
}

// TestParkedPollHeartbeat: a parked poll with nothing to say is answered
// with a heartbeat at the end of the interval.
func TestParkedPollHeartbeat(t *testing.T) {
	so := &session.Options{HeartbeatInterval: 50 * time.Millisecond, Logger: quietLogger()}
	g := newParkRig(t, so, time.Nanosecond, nil)
	c, br := g.dial()
	g.get(c, "/poll")
	if _, body := readAnswer(t, br); body != "h\n" {
		t.Fatalf("answer %q, want a heartbeat", body)
	}
	if g.count(c, http.StateHijacked) != 1 {
		t.Fatal("the poll was not parked")
	}
}

// TestParkedPollClose: the session's close reaches a parked poll.
func TestParkedPollClose(t *testing.T) {
	g := newParkRig(t, longWait, time.Nanosecond, nil)
	c, br := g.dial()
	g.get(c, "/poll")
	g.await(c, http.StateHijacked, 1)
	g.l.Session().Close(protocol.CloseNormal, "bye")
	if _, body := readAnswer(t, br); body != "c1000:\"bye\"\n" {
		t.Fatalf("answer %q, want the close frame", body)
	}
}

// TestParkedJSONP: a parked script request is answered inside its
// callback, as script.
func TestParkedJSONP(t *testing.T) {
	g := newParkRig(t, longWait, time.Nanosecond, nil)
	c, br := g.dial()
	g.get(c, "/jsonp")
	g.await(c, http.StateHijacked, 1)
	g.l.Session().Send("hi")
	resp, body := readAnswer(t, br)
	if want := string(JSONPBody("cb", []byte("m1:\"hi\"\n"))); body != want {
		t.Fatalf("answer %q, want %q", body, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != jsonpContentType {
		t.Fatalf("Content-Type %q", ct)
	}
}

// hookSignal sets a test hook (parkedForTest, awaitingForTest) until the
// test ends, and returns the channel it signals, which keeps one signal.
func hookSignal(t *testing.T, hook *atomic.Pointer[func()]) <-chan struct{} {
	c := make(chan struct{}, 1)
	signal := func() {
		select {
		case c <- struct{}{}:
		default:
		}
	}
	hook.Store(&signal)
	t.Cleanup(func() { hook.Store(nil) })
	return c
}

// TestParkedJSONPTakesAck: a client message that the app answers with
// nothing ends a parked script request with the ack alone, at once: a
// JSONP page learns acks only from its polls (its form sends' answers are
// unreadable), and the heartbeat is an hour away here.
func TestParkedJSONPTakesAck(t *testing.T) {
	parked := hookSignal(t, &parkedForTest)
	g := newParkRig(t, longWait, time.Nanosecond, nil)
	c, br := g.dial()
	g.get(c, "/jsonp")
	select { // parked, its wake-ups set: only the ack's own wake-up answers now
	case <-parked:
	case <-time.After(10 * time.Second):
		t.Fatal("the poll did not park")
	}
	if ok, err := g.l.Deliver(t.Context(), 0, 1, false, []byte("x")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) // fail, not hang, without the ack
	if _, body := readAnswer(t, br); body != string(JSONPBody("cb", []byte("a1\n"))) {
		t.Fatalf("answer %q, want the ack alone", body)
	}
}

// TestParkedPollClientLeaves: a client that closes its connection while
// parked lets go of the session, which a new poll then attaches to (a
// refused attach makes the parked poll look at its peer at once).
func TestParkedPollClientLeaves(t *testing.T) {
	g := newParkRig(t, longWait, time.Nanosecond, nil)
	c, _ := g.dial()
	g.get(c, "/poll")
	g.await(c, http.StateHijacked, 1)
	c.Close()
	awaitAttach(t, g)
}

// awaitAttach waits until a new receiver can attach to the rig's session,
// once the client of its parked poll left (each refusal makes the parked
// poll look at its socket).
func awaitAttach(t *testing.T, g *parkRig) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rcv, err := g.l.Attach(protocol.LongPoll, 0)
		if err == nil {
			rcv.Detach()
			return
		}
		if !errors.Is(err, session.ErrReceiverBusy) || time.Now().After(deadline) {
			t.Fatalf("attach after the client left: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestParkedPollPipelined: a request sent behind the poll on the same
// connection gets the poll answered at once (with a heartbeat), and is
// then served itself.
func TestParkedPollPipelined(t *testing.T) {
	g := newParkRig(t, longWait, time.Nanosecond, nil)
	c, br := g.dial()
	io.WriteString(c, "GET /poll HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := readAnswer(t, br); body != "h\n" {
		t.Fatalf("poll answered %q, want a heartbeat", body)
	}
	if _, body := readAnswer(t, br); body != "pong" {
		t.Fatalf("pipelined request answered %q", body)
	}
	// And the same when the next request comes while the poll is parked.
	g.get(c, "/poll")
	g.await(c, http.StateHijacked, 2)
	g.get(c, "/ping")
	if _, body := readAnswer(t, br); body != "h\n" {
		t.Fatalf("poll answered %q, want a heartbeat", body)
	}
	if _, body := readAnswer(t, br); body != "pong" {
		t.Fatalf("request behind a parked poll answered %q", body)
	}
}

// TestUnparkableServer: a server whose connections have no descriptor to
// watch (a wrapping listener) gets its first idle poll answered with a
// heartbeat, and its later polls held as before, never hijacked.
func TestUnparkableServer(t *testing.T) {
	g := newParkRig(t, longWait, time.Nanosecond, func(l net.Listener) net.Listener { return opaqueListener{l} })
	c, br := g.dial()
	g.get(c, "/poll")
	if _, body := readAnswer(t, br); body != "h\n" {
		t.Fatalf("first poll answered %q, want a heartbeat", body)
	}
	g.get(c, "/poll")
	g.await(c, http.StateActive, 2)
	g.l.Session().Send("hi") // held or still attaching, the poll gets it
	if _, body := readAnswer(t, br); body != "m1:\"hi\"\n" {
		t.Fatalf("second poll answered %q", body)
	}
	if n := g.count(c, http.StateHijacked); n != 1 {
		t.Fatalf("hijacked %d times, want only the first poll", n)
	}
}

// TestParkingOff: a negative ParkAfter holds every poll on its goroutine.
func TestParkingOff(t *testing.T) {
	so := &session.Options{HeartbeatInterval: 50 * time.Millisecond, Logger: quietLogger()}
	g := newParkRig(t, so, -1, nil)
	c, br := g.dial()
	g.get(c, "/poll")
	if _, body := readAnswer(t, br); body != "h\n" {
		t.Fatalf("answer %q", body)
	}
	if g.count(c, http.StateHijacked) != 0 {
		t.Fatal("the poll was parked with parking off")
	}
}

// opaqueListener hides its connections' descriptors, as listeners that
// wrap connections (limits, PROXY protocol) do.
type opaqueListener struct{ net.Listener }

func (l opaqueListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return opaqueConn{c}, nil
}

type opaqueConn struct{ net.Conn }

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestParkableRequests: only a plain HTTP/1.1 keep-alive request without a
// body, served by an http.Server, may be parked.
func TestParkableRequests(t *testing.T) {
	srv := &http.Server{}
	base := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/poll", nil)
		return r.WithContext(context.WithValue(r.Context(), http.ServerContextKey, srv))
	}
	if !pollerAvailable() {
		t.Skip("polls are not parked on this platform")
	}
	if !parkable(base()) {
		t.Fatal("a plain poll is not parkable")
	}
	for name, change := range map[string]func(r *http.Request){
		"HTTP/1.0":  func(r *http.Request) { r.ProtoMinor = 0 },
		"HTTP/2":    func(r *http.Request) { r.ProtoMajor, r.ProtoMinor = 2, 0 },
		"close":     func(r *http.Request) { r.Close = true },
		"TLS":       func(r *http.Request) { r.TLS = &tls.ConnectionState{} },
		"body":      func(r *http.Request) { r.ContentLength = 5 },
		"chunked":   func(r *http.Request) { r.ContentLength = -1 },
		"no server": func(r *http.Request) { *r = *r.WithContext(context.Background()) },
	} {
		r := base()
		change(r)
		if parkable(r) {
			t.Errorf("%s: parkable", name)
		}
	}
}

// TestParkWithoutHijack: a ResponseWriter that cannot hijack is left as it
// was (no headers set), for the poll to be held and answered as before.
func TestParkWithoutHijack(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/poll", nil)
	r = r.WithContext(context.WithValue(r.Context(), http.ServerContextKey, &http.Server{}))
	k := &Parking{}
	if k.park(w, r, nil, &Config{Session: longWait}, time.Hour, heldReply{contentType: textPlain}) {
		t.Fatal("parked without a hijack")
	}
	if len(w.Header()) != 0 {
		t.Fatalf("headers set on a poll not parked: %v", w.Header())
	}
	if err := k.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// hijackWriter hijacks to a connection of its own, with nothing buffered.
type hijackWriter struct {
	http.ResponseWriter
	nc net.Conn
}

func (w hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.nc, bufio.NewReadWriter(bufio.NewReader(w.nc), bufio.NewWriter(w.nc)), nil
}

// TestParkPrefixPending: a connection handed back with a pipelined
// request, some of which net/http has not read yet, is not watched (the
// poller would not see those bytes, and the wrapper has no descriptor) nor
// taken for a server whose connections cannot be: its poll is answered at
// once, and the request behind it is served.
func TestParkPrefixPending(t *testing.T) {
	reg := session.NewRegistry(longWait)
	l, err := reg.Create(session.Request{}, protocol.LongPoll)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := l.Attach(protocol.LongPoll, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "pong")
	})}
	defer srv.Close()
	client, server := net.Pipe()
	defer client.Close()
	pc := &prefixConn{Conn: server, r: bufio.NewReader(strings.NewReader("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"))}
	pc.r.Peek(1)
	r := httptest.NewRequest(http.MethodGet, "/poll", nil)
	r = r.WithContext(context.WithValue(r.Context(), http.ServerContextKey, srv))
	cfg := &Config{Session: reg.Options()}
	k := &Parking{}
	parked := make(chan bool, 1)
	go func() {
		parked <- k.park(hijackWriter{httptest.NewRecorder(), pc}, r, rcv, cfg, time.Hour, heldReply{contentType: textPlain,
			body: func(b *session.Batch) []byte { return heldBody(Native{}, b, nil) }})
	}()
	br := bufio.NewReader(client)
	if _, body := readAnswer(t, br); body != "h\n" {
		t.Fatalf("poll answered %q, want a heartbeat", body)
	}
	if !<-parked {
		t.Fatal("park did not take the poll")
	}
	if _, body := readAnswer(t, br); body != "pong" {
		t.Fatalf("pipelined request answered %q", body)
	}
	if unparkable(srv) {
		t.Fatal("the server was marked unparkable")
	}
}
