package router_test

// The SockJS dialect as part of tether: its sessions are the native
// layer's (identity, lifetime, bounds, shutdown, broadcast), with the
// framework's origin policy and Authorize hook, and every transport
// carries any text intact.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/client"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

// sjFrameReader turns what one transport writes into SockJS frames.
var (
	htmlfileFrame = regexp.MustCompile(`<script>\np\(("(?:[^"\\]|\\.)*")\);\n</script>\r\n`)
	jsonpFrame    = regexp.MustCompile(`^/\*\*/[a-zA-Z0-9_.-]+\(("(?:[^"\\]|\\.)*")\);\r\n$`)
	eventUnescape = strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n", "%00", "\x00")
)

// sjFrames splits a piece of a transport's answer into frames.
func sjFrames(t testing.TB, transport, piece string) []string {
	t.Helper()
	var out []string
	switch transport {
	case "xhr", "xhr_streaming":
		for _, l := range strings.Split(piece, "\n") {
			if l != "" && strings.Trim(l, "h") != "" || l == "h" {
				out = append(out, l)
			}
		}
	case "eventsource":
		for _, ev := range strings.Split(piece, "\r\n\r\n") {
			if d, ok := strings.CutPrefix(ev, "data: "); ok {
				out = append(out, eventUnescape.Replace(d))
			}
		}
	case "htmlfile", "jsonp":
		re := htmlfileFrame
		if transport == "jsonp" {
			re = jsonpFrame
		}
		for _, m := range re.FindAllStringSubmatch(piece, -1) {
			var f string
			if err := json.Unmarshal([]byte(m[1]), &f); err != nil {
				t.Fatalf("%s frame %q: %v", transport, m[1], err)
			}
			out = append(out, f)
		}
	}
	return out
}

// sjTake adds a frame's messages to msgs and reports its close frame.
func sjTake(t testing.TB, frame string, msgs *[]string) (closed string) {
	t.Helper()
	switch {
	case frame == "o" || frame == "h":
	case strings.HasPrefix(frame, "a"):
		var m []string
		if err := json.Unmarshal([]byte(frame[1:]), &m); err != nil {
			t.Fatalf("frame %q: %v", frame, err)
		}
		*msgs = append(*msgs, m...)
	case strings.HasPrefix(frame, "c"):
		return frame
	default:
		t.Fatalf("unknown frame %q", frame)
	}
	return ""
}

// sjReceive reads the session at u over transport until it has n
// messages or a close frame, opening as many requests as that takes.
func sjReceive(t testing.TB, e *sjEnv, u, transport string, n int) ([]string, string) {
	t.Helper()
	var msgs []string
	deadline := time.Now().Add(sjWait)
	for len(msgs) < n && time.Now().Before(deadline) {
		switch transport {
		case "xhr", "jsonp":
			var r *sjResp
			if transport == "xhr" {
				r = e.do("POST", u+"/xhr", "")
			} else {
				r = e.do("GET", u+"/jsonp?c=cb", "")
			}
			for _, f := range sjFrames(t, transport, r.body) {
				if c := sjTake(t, f, &msgs); c != "" {
					return msgs, c
				}
			}
		default:
			method, path := "GET", u+"/"+transport
			switch transport {
			case "xhr_streaming":
				method = "POST"
			case "htmlfile":
				path += "?c=cb"
			}
			sc, _ := e.stream(method, path)
			sc.chunk() // prelude
			for len(msgs) < n {
				c := sc.chunk()
				if c == "" {
					break // the response limit: open the next one
				}
				for _, f := range sjFrames(t, transport, c) {
					if cl := sjTake(t, f, &msgs); cl != "" {
						sc.c.Close()
						return msgs, cl
					}
				}
			}
			sc.c.Close()
		}
	}
	return msgs, ""
}

func sjSend(t testing.TB, e *sjEnv, u string, msgs ...string) {
	t.Helper()
	b, _ := json.Marshal(msgs)
	if r := e.do("POST", u+"/xhr_send", string(b)); r.status != http.StatusNoContent {
		t.Fatalf("xhr_send: %d %q", r.status, r.body)
	}
}

// open opens a session at u over transport, reading its o frame.
func sjOpen(t testing.TB, e *sjEnv, u, transport string) {
	t.Helper()
	switch transport {
	case "xhr":
		wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
	case "jsonp":
		wantBody(t, "open", e.do("GET", u+"/jsonp?c=cb", ""), "/**/cb(\"o\");\r\n")
	}
}

var sjHTTPTransports = []string{"xhr", "jsonp", "xhr_streaming", "eventsource", "htmlfile"}

// Text the dialect must carry intact, whatever the transport: what each
// transport escapes, and what ends a script, a line or an event.
var sjTricky = []string{
	"100% done, %25 and %0A stay as they are", "line\nbreak\r\nand\rcarriage", "\u2028\u2029 separators",
	`"quotes" and \backslashes\`, "</script><script>alert(1)</script>", "\x00nul\x1f", "😀 é 中 \ufeff \uffff",
	"", "  leading and trailing  ", "<&>", strings.Repeat("long ", 1000),
}

func TestSockJSEveryTransportCarriesAnyText(t *testing.T) {
	e := newSJEnv(t, nil)
	for _, tr := range sjHTTPTransports {
		t.Run(tr, func(t *testing.T) {
			e := e.in(t)
			u := e.sessionURL("/echo")
			sjOpen(t, e, u, tr)
			if tr != "xhr" && tr != "jsonp" {
				// A streaming transport creates the session itself.
				wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
			}
			sjSend(t, e, u, sjTricky...)
			got, c := sjReceive(t, e, u, tr, len(sjTricky))
			if c != "" || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", sjTricky) {
				t.Fatalf("got %q (close %q)\nwant %q", got, c, sjTricky)
			}
		})
	}
	t.Run("websocket", func(t *testing.T) {
		ws := e.in(t).dialWS(e.sessionURL("/echo")+"/websocket", nil)
		wsRecv(t, ws)
		b, _ := json.Marshal(sjTricky)
		ws.WriteMessage(websocket.TextMessage, b)
		var got []string
		for len(got) < len(sjTricky) {
			sjTake(t, wsRecv(t, ws), &got)
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", sjTricky) {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("raw websocket", func(t *testing.T) {
		ws := e.in(t).dialWS("/echo/websocket", nil)
		for _, m := range sjTricky {
			ws.WriteMessage(websocket.TextMessage, []byte(m))
			if got := wsRecv(t, ws); got != m {
				t.Fatalf("got %q, want %q", got, m)
			}
		}
	})
}

// Messages cross the end of streaming answers (the response limit) and
// polls without loss or repetition: a transport acknowledges what it
// wrote, and the next request goes on from there.
func TestSockJSOrderAcrossRequests(t *testing.T) {
	const n = 300
	e := newSJEnv(t, func(prefix string, o *router.SockJSOptions) {
		o.ResponseLimit = 512
		o.MaxBatchBytes = 100
	})
	for _, tr := range sjHTTPTransports {
		t.Run(tr, func(t *testing.T) {
			e := e.in(t)
			u := e.sessionURL("/echo")
			sjOpen(t, e, u, tr)
			if tr != "xhr" && tr != "jsonp" {
				wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
			}
			var want []string
			for i := range n {
				want = append(want, fmt.Sprint("message ", i))
			}
			for i := 0; i < n; i += 50 {
				sjSend(t, e, u, want[i:i+50]...)
			}
			got, c := sjReceive(t, e, u, tr, n)
			if c != "" || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("got %d messages (close %q), want %d in order:\n%q", len(got), c, n, got)
			}
		})
	}
}

// sjStream reads one session's frames from a streaming transport for as
// long as the test wants, opening the next request whenever an answer
// ends at the response limit, as a client does.
type sjStream struct {
	t         testing.TB
	e         *sjEnv
	u, tr     string
	sc        *sjConn
	pending   []string
	responses int
}

func (s *sjStream) next() string {
	s.t.Helper()
	for len(s.pending) == 0 {
		if s.sc == nil {
			method, path := "GET", s.u+"/"+s.tr
			switch s.tr {
			case "xhr_streaming":
				method = "POST"
			case "htmlfile":
				path += "?c=cb"
			}
			s.sc, _ = s.e.stream(method, path)
			s.sc.chunk() // prelude
			s.responses++
		}
		c := s.sc.chunk()
		if c == "" {
			s.sc.c.Close()
			s.sc = nil
			continue
		}
		s.pending = sjFrames(s.t, s.tr, c)
	}
	f := s.pending[0]
	s.pending = s.pending[1:]
	return f
}

// Carriers acknowledge for the client: a long conversation never grows
// the outbound log toward MaxOutboundBytes.
func TestSockJSSelfAcknowledges(t *testing.T) {
	e := newSJEnv(t, func(prefix string, o *router.SockJSOptions) { o.MaxOutboundBytes = 1024 })
	msg := strings.Repeat("x", 100)
	for _, tr := range []string{"xhr", "jsonp", "xhr_streaming", "eventsource", "htmlfile"} {
		t.Run(tr, func(t *testing.T) {
			e := e.in(t)
			u := e.sessionURL("/echo")
			var st *sjStream
			if tr == "xhr" || tr == "jsonp" {
				sjOpen(t, e, u, tr)
			} else {
				st = &sjStream{t: t, e: e, u: u, tr: tr}
				if f := st.next(); f != "o" {
					t.Fatalf("got %q, want o", f)
				}
			}
			for i := range 100 { // 10,000 bytes in all, 4096 per answer
				sjSend(t, e, u, msg)
				var got []string
				var c string
				if st == nil {
					got, c = sjReceive(t, e, u, tr, 1)
				} else {
					c = sjTake(t, st.next(), &got)
				}
				if c != "" || len(got) != 1 {
					t.Fatalf("round %d: %q, close %q", i, got, c)
				}
			}
			if st != nil && st.responses < 3 {
				t.Errorf("%d answers, want the response limit to end some", st.responses)
			}
		})
	}
}

func TestSockJSConnIdentity(t *testing.T) {
	e := newSJEnv(t, nil)
	key := "my-key-" + uuid.NewString()[:8]
	r := e.do("POST", "/echo/000/"+key+"/xhr", "", "X-Probe", "yes")
	wantBody(t, "open", r, "o\n")
	c := <-e.app.opened
	if _, err := uuid.Parse(c.ID()); err != nil || strings.Contains(c.ID(), key) {
		t.Errorf("ID %q: want a server-assigned uuid, not the key", c.ID())
	}
	if c.Transport() != protocol.SockJSXHRPolling || c.Header().Get("X-Probe") != "yes" ||
		c.Request().Path != "/echo/000/"+key+"/xhr" || c.RemoteAddr() != "127.0.0.1" {
		t.Errorf("transport %q, request %+v", c.Transport(), c.Request())
	}
	changed := make(chan string, 4)
	c.OnTransport(func(name string) { changed <- name })
	sc, _ := e.stream("GET", "/echo/000/"+key+"/eventsource")
	sc.chunk()
	select {
	case name := <-changed:
		if name != protocol.SockJSEventSource {
			t.Errorf("OnTransport(%q), want %q", name, protocol.SockJSEventSource)
		}
	case <-time.After(sjWait):
		t.Error("OnTransport not called")
	}
	sc.c.Close()

	ws := e.dialWS("/echo/000/"+key+"/websocket", nil)
	wsRecv(t, ws)
	if w := <-e.app.opened; w == c || w.Transport() != protocol.SockJSWebSocket {
		t.Errorf("a WebSocket with the same key: transport %q, same session %v", w.Transport(), w == c)
	}
	e.dialWS("/echo/websocket", nil).WriteMessage(websocket.TextMessage, []byte("x"))
	if raw := <-e.app.opened; raw.Transport() != protocol.SockJSRawWebSocket {
		t.Errorf("raw WebSocket transport %q", raw.Transport())
	}
}

// One handler serves both dialects.
func TestSockJSAndNativeShareAHandler(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	h := func(c *session.Session) {
		mu.Lock()
		seen[c.Request().Path[:5]]++
		mu.Unlock()
		c.OnMessage(func(m session.Message) { c.Send("echo: " + m.Text()) })
	}
	native := router.New(h, &router.Options{Logger: sjQuiet})
	sj := router.NewSockJS("/sjs", h, &router.SockJSOptions{Logger: sjQuiet})
	mux := http.NewServeMux()
	mux.Handle("/tet/", native)
	mux.Handle("/sjs/", sj)
	srv := sjServe(t, mux)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), sjWait)
		defer cancel()
		native.Shutdown(ctx)
		sj.Shutdown(ctx)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), sjWait)
	defer cancel()
	cc, err := client.Dial(ctx, srv+"/tet", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close(protocol.CloseNormal, "")
	cc.Send(ctx, "native")
	if m, err := cc.Recv(ctx); err != nil || string(m.Data) != "echo: native" {
		t.Fatalf("native: %v %v", m, err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv, "http")+"/sjs/1/2/websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	wsRecv(t, ws)
	ws.WriteMessage(websocket.TextMessage, []byte(`["sockjs"]`))
	if m := wsRecv(t, ws); m != `a["echo: sockjs"]` {
		t.Fatalf("sockjs: %q", m)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["/tet/"] != 1 || seen["/sjs/"] != 1 {
		t.Errorf("handler saw %v", seen)
	}
}

// A session nobody polls is lost after the disconnect delay, and its key
// then opens a new one; a closed session answers with its close frame for
// one disconnect delay, then its key is free again.
func TestSockJSDisconnectDelay(t *testing.T) {
	const delay = 300 * time.Millisecond
	e := newSJEnv(t, func(prefix string, o *router.SockJSOptions) { o.DisconnectDelay = delay })
	u := e.sessionURL("/echo")
	start := time.Now()
	wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
	c := <-e.app.opened
	for e.app.closeOf(c) == "" {
		if time.Since(start) > sjWait {
			t.Fatal("session not closed after the disconnect delay")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(start); took < delay {
		t.Errorf("closed after %v, before the %v delay", took, delay)
	}
	if got := e.app.closeOf(c); !strings.HasPrefix(got, "4200 ") {
		t.Errorf("OnClose(%s), want 4200", got)
	}
	wantStatus(t, "send to the lost session", e.do("POST", u+"/xhr_send", `["x"]`), 404)
	wantBody(t, "same key, new session", e.do("POST", u+"/xhr", ""), "o\n")
	if c2 := <-e.app.opened; c2 == c || c2.ID() == c.ID() {
		t.Error("the key reopened the lost session")
	}

	// Polls keep a session alive past the delay.
	u = e.sessionURL("/echo")
	wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
	c = <-e.app.opened
	for range 3 {
		time.Sleep(delay / 2)
		sjSend(t, e, u, "ping")
		if got, _ := sjReceive(t, e, u, "xhr", 1); len(got) != 1 {
			t.Fatalf("got %q", got)
		}
	}
	if got := e.app.closeOf(c); got != "" {
		t.Fatalf("polled session closed: %s", got)
	}

	// An app close: the close frame for one delay, then a new session.
	u = e.sessionURL("/close")
	wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
	wantBody(t, "closed", e.do("POST", u+"/xhr", ""), "c[3000,\"Go away!\"]\n")
	time.Sleep(delay + 200*time.Millisecond)
	wantBody(t, "after the delay", e.do("POST", u+"/xhr", ""), "o\n")
}

func TestSockJSHeartbeats(t *testing.T) {
	const hb = 150 * time.Millisecond
	e := newSJEnv(t, func(prefix string, o *router.SockJSOptions) { o.HeartbeatInterval = hb })
	u := e.sessionURL("/echo")
	wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
	start := time.Now()
	wantBody(t, "idle poll", e.do("POST", u+"/xhr", ""), "h\n")
	if took := time.Since(start); took < hb {
		t.Errorf("heartbeat after %v, want %v", took, hb)
	}
	for tr, want := range map[string]string{"xhr_streaming": "h\n", "eventsource": "data: h\r\n\r\n",
		"htmlfile": "<script>\np(\"h\");\n</script>\r\n"} {
		method, path := "GET", e.sessionURL("/echo")+"/"+tr
		if tr == "xhr_streaming" {
			method = "POST"
		}
		if tr == "htmlfile" {
			path += "?c=cb"
		}
		sc, _ := e.stream(method, path)
		sc.chunk()
		sc.chunk() // o
		for range 2 {
			if c := sc.chunk(); c != want {
				t.Errorf("%s: got %q, want a heartbeat", tr, c)
			}
		}
		sc.c.Close()
	}
	ws := e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
	pinged := make(chan struct{}, 4)
	ws.SetPingHandler(func(string) error {
		pinged <- struct{}{}
		return ws.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
	})
	wsRecv(t, ws)
	if m := wsRecv(t, ws); m != "h" {
		t.Errorf("websocket: got %q, want h", m)
	}
	// The ping follows the h; reading the next h handles it.
	if m := wsRecv(t, ws); m != "h" {
		t.Errorf("websocket: got %q, want h", m)
	}
	select {
	case <-pinged:
	default:
		t.Error("no ping with the heartbeat")
	}
}

// SockJS clients send nothing on their own: a WebSocket whose peer
// answers no ping is closed after HeartbeatTimeout, one that answers
// lives on.
func TestSockJSWebSocketDeadPeer(t *testing.T) {
	e := newSJEnv(t, func(prefix string, o *router.SockJSOptions) {
		o.HeartbeatInterval = 50 * time.Millisecond
		o.HeartbeatTimeout = 300 * time.Millisecond
	})
	live := e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
	wsRecv(t, live)
	<-e.app.opened
	dead := e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
	wsRecv(t, dead) // then read nothing, which answers no ping
	cd := <-e.app.opened
	msgs := make(chan string, 100)
	go func() { // reading answers pings
		defer close(msgs)
		live.SetReadDeadline(time.Now().Add(sjWait))
		for {
			_, m, err := live.ReadMessage()
			if err != nil {
				return
			}
			if string(m) != "h" {
				msgs <- string(m)
			}
		}
	}()
	time.Sleep(800 * time.Millisecond)
	if got := e.app.closeOf(cd); got != "4102 heartbeat timeout" {
		t.Errorf("silent peer: OnClose(%q), want 4102", got)
	}
	live.WriteMessage(websocket.TextMessage, []byte(`["still here"]`))
	if m := <-msgs; m != `a["still here"]` {
		t.Errorf("live peer got %q", m)
	}
	live.Close()
	for range msgs {
	}
}

func TestSockJSWebSocketEndsSession(t *testing.T) {
	e := newSJEnv(t, nil)
	ws := e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
	wsRecv(t, ws)
	c := <-e.app.opened
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(3001, "bye"), time.Now().Add(time.Second))
	waitSJ(t, "OnClose", func() bool { return e.app.closeOf(c) == "3001 bye" })

	ws = e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
	wsRecv(t, ws)
	c = <-e.app.opened
	ws.UnderlyingConn().Close() // no close frame
	waitSJ(t, "OnClose", func() bool { return e.app.closeOf(c) == "1002 Connection interrupted" })
}

// A receiving request the client abandons ends the session, as with
// sockjs-node: SockJS has no replay for what it may have carried.
func TestSockJSAbortClosesSession(t *testing.T) {
	e := newSJEnv(t, nil)
	u := e.sessionURL("/echo")
	sc, _ := e.stream("POST", u+"/xhr_streaming")
	sc.chunk()
	sc.chunk()
	c := <-e.app.opened
	sc.c.Close()
	waitSJ(t, "OnClose", func() bool { return e.app.closeOf(c) == "1002 Connection interrupted" })
	wantBody(t, "poll after", e.do("POST", u+"/xhr", ""), "c[1002,\"Connection interrupted\"]\n")
	// A stream that ends at its limit is no abort.
	u = e.sessionURL("/echo")
	sc, _ = e.stream("POST", u+"/xhr_streaming")
	sc.chunk()
	sc.chunk()
	c = <-e.app.opened
	sjSend(t, e, u, strings.Repeat("x", 5000))
	sc.chunk()
	if sc.chunk() != "" {
		t.Fatal("stream did not end at its limit")
	}
	time.Sleep(50 * time.Millisecond)
	if got := e.app.closeOf(c); got != "" {
		t.Errorf("session closed at the response limit: %s", got)
	}
}

// What the app sent before it closed reaches the client before the close
// frame; a poll carries one frame, so the close comes with the next one.
func TestSockJSSendThenClose(t *testing.T) {
	e := newSJEnv(t, nil)
	for _, tr := range sjHTTPTransports {
		t.Run(tr, func(t *testing.T) {
			e := e.in(t)
			u := e.sessionURL("/echo")
			sjOpen(t, e, u, tr)
			if tr != "xhr" && tr != "jsonp" {
				wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
			}
			c := <-e.app.opened
			c.Send("last words")
			c.Close(3001, "done")
			if tr == "xhr" {
				wantBody(t, "first poll", e.do("POST", u+"/xhr", ""), "a[\"last words\"]\n")
				wantBody(t, "second poll", e.do("POST", u+"/xhr", ""), "c[3001,\"done\"]\n")
				return
			}
			got, cl := sjReceive(t, e, u, tr, 2)
			if len(got) != 1 || got[0] != "last words" || cl != `c[3001,"done"]` {
				t.Fatalf("got %q, close %q", got, cl)
			}
			if got, cl := sjReceive(t, e, u, tr, 1); len(got) != 0 || cl != `c[3001,"done"]` {
				t.Fatalf("later: %q, close %q", got, cl)
			}
		})
	}
}

func TestSockJSOversize(t *testing.T) {
	e := newSJEnv(t, func(prefix string, o *router.SockJSOptions) { o.MaxMessageSize = 100 })
	u := e.sessionURL("/echo")
	wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
	sjSend(t, e, u, strings.Repeat("x", 100))
	r := e.do("POST", u+"/xhr_send", `["`+strings.Repeat("x", 101)+`"]`)
	wantStatus(t, "oversize", r, 413)
	if got, c := sjReceive(t, e, u, "xhr", 2); len(got) != 0 || c != `c[4001,"message too big"]` {
		// The session dropped what it held when it failed.
		t.Errorf("after an oversize message: %q, close %q", got, c)
	}
	ws := e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
	wsRecv(t, ws)
	ws.WriteMessage(websocket.TextMessage, []byte(`["`+strings.Repeat("y", 101)+`"]`))
	if err := wsClosed(t, ws); !websocket.IsCloseError(err, 4001) {
		t.Errorf("oversize on WebSocket: %v", err)
	}
}

func TestSockJSOrigins(t *testing.T) {
	var e *sjEnv
	e = newSJEnv(t, func(prefix string, o *router.SockJSOptions) {
		o.AllowedOrigins = nil // the framework's default: same origin only
		if prefix == "/close" {
			o.AllowedOrigins = []string{"https://allowed.example", "null"}
		}
	})
	self := e.base
	for _, tc := range []struct {
		prefix, origin string
		ok             bool
	}{
		{"/echo", "", true}, {"/echo", self, true}, {"/echo", "https://evil.example", false}, {"/echo", "null", false},
		{"/close", "https://allowed.example", true}, {"/close", "null", true}, {"/close", "https://evil.example", false},
	} {
		what := tc.prefix + " from " + tc.origin
		var hdr []string
		if tc.origin != "" {
			hdr = []string{"Origin", tc.origin}
		}
		r := e.do("POST", e.sessionURL(tc.prefix)+"/xhr", "", hdr...)
		if ok := r.status == 200; ok != tc.ok {
			t.Errorf("%s: xhr status %d", what, r.status)
		} else if ok && tc.origin != "" {
			wantCORS(t, what, r, tc.origin)
		}
		if r := e.do("GET", tc.prefix+"/info", "", hdr...); (r.status == 200) != tc.ok {
			t.Errorf("%s: info status %d", what, r.status)
		}
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL(e.sessionURL(tc.prefix)+"/websocket"), h)
		if (err == nil) != tc.ok {
			t.Errorf("%s: websocket %v", what, err)
		}
		if err == nil {
			ws.Close()
		} else if resp != nil && resp.StatusCode != 403 {
			t.Errorf("%s: websocket status %d, want 403", what, resp.StatusCode)
		}
	}
	// The iframe page may only be framed by the allowed origins: requests
	// from it are same-origin.
	wantHeader(t, "default iframe", e.do("GET", "/echo/iframe.html", ""), "Content-Security-Policy", "frame-ancestors 'self'")
	wantHeader(t, "allowlist iframe", e.do("GET", "/close/iframe.html", ""), "Content-Security-Policy",
		"frame-ancestors 'self' https://allowed.example")
	open := newSJEnv(t, nil)
	wantHeader(t, "open iframe", open.do("GET", "/echo/iframe.html", ""), "Content-Security-Policy", "")
}

func TestSockJSAuthorize(t *testing.T) {
	e := newSJEnv(t, func(prefix string, o *router.SockJSOptions) {
		o.Authorize = func(r *http.Request) error {
			if r.URL.Query().Get("token") != "good" {
				return &router.HTTPError{Status: 401, Reason: "who are you?"}
			}
			return nil
		}
	})
	u := e.sessionURL("/echo")
	r := e.do("POST", u+"/xhr", "")
	wantStatus(t, "refused", r, 401)
	if !strings.Contains(r.body, "who are you?") {
		t.Errorf("body %q", r.body)
	}
	wantStatus(t, "send to nothing", e.do("POST", u+"/xhr_send", `["x"]`), 404)
	wantBody(t, "allowed", e.do("POST", u+"/xhr?token=good", ""), "o\n")
	// Authorize runs when a session is created, not on every poll.
	sjSend(t, e, u, "x")
	wantBody(t, "poll", e.do("POST", u+"/xhr", ""), "a[\"x\"]\n")
	_, resp, err := websocket.DefaultDialer.Dial(e.wsURL(e.sessionURL("/echo")+"/websocket"), nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("websocket: %v", err)
	}
	_, resp, err = websocket.DefaultDialer.Dial(e.wsURL("/echo/websocket"), nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("raw websocket: %v", err)
	}
}

func TestSockJSShutdown(t *testing.T) {
	e := newSJEnv(t, nil)
	rt := e.routers["/echo"]
	stream, _ := e.stream("POST", e.sessionURL("/echo")+"/xhr_streaming")
	stream.chunk()
	stream.chunk()
	ws := e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
	wsRecv(t, ws)
	poll := e.sessionURL("/echo")
	wantBody(t, "open", e.do("POST", poll+"/xhr", ""), "o\n")
	held := e.dial()
	held.send("POST", poll+"/xhr", "HTTP/1.1", "")
	time.Sleep(50 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), sjWait)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	const bye = "c[4202,\"server shutting down\"]"
	if c := stream.chunk(); c != bye+"\n" {
		t.Errorf("stream: %q", c)
	}
	if m := wsRecv(t, ws); m != bye {
		t.Errorf("websocket: %q", m)
	}
	if b := held.body(held.head()); b != bye+"\n" {
		t.Errorf("held poll: %q", b)
	}
	wantBody(t, "new session", e.do("POST", e.sessionURL("/echo")+"/xhr", ""), bye+"\n")
	if n := rt.Sessions(); n != 0 {
		t.Errorf("%d sessions after Shutdown", n)
	}
}

// A broadcast is encoded once per dialect and reaches sessions on every
// transport.
func TestSockJSBroadcast(t *testing.T) {
	e := newSJEnv(t, nil)
	var urls []string
	var conns []*session.Session
	for _, tr := range sjHTTPTransports {
		u := e.sessionURL("/echo")
		sjOpen(t, e, u, tr)
		if tr != "xhr" && tr != "jsonp" {
			wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
		}
		urls = append(urls, u)
		conns = append(conns, <-e.app.opened)
	}
	p := session.NewPrepared([]byte("to all: \u2028 100%"), false)
	for _, c := range conns {
		if err := c.SendPrepared(p); err != nil {
			t.Fatal(err)
		}
	}
	for i, tr := range sjHTTPTransports {
		if got, _ := sjReceive(t, e, urls[i], tr, 1); len(got) != 1 || got[0] != "to all: \u2028 100%" {
			t.Errorf("%s: %q", tr, got)
		}
	}
}

func TestNewSockJSPanicsOnBadPrefix(t *testing.T) {
	for _, p := range []string{"/echo/", "echo", "/{x}"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewSockJS(%q) did not panic", p)
				}
			}()
			router.NewSockJS(p, nil, nil)
		}()
	}
	for _, p := range []string{"", "/echo", "/a/b.c"} {
		router.NewSockJS(p, nil, nil)
	}
}

// Mounted with http.StripPrefix, the router takes "" as its prefix.
func TestSockJSStripPrefix(t *testing.T) {
	sj := router.NewSockJS("", nil, &router.SockJSOptions{Logger: sjQuiet})
	defer sj.Shutdown(context.Background())
	srv := sjServe(t, http.StripPrefix("/rt", sj))
	for _, p := range []string{"/rt", "/rt/"} {
		resp, err := http.Get(srv + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	resp, err := http.Post(srv+"/rt/1/2/xhr", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("xhr: %d", resp.StatusCode)
	}
}

func waitSJ(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(sjWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
