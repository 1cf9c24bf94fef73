package router_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
)

// TestSendMalformedBatch: a malformed send batch is refused whole with 400
// and a reason; nothing of it is applied and the session goes on.
func TestSendMalformedBatch(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openLP(t, nil)
	as := a.session(t, c.open.SID)
	c.SendText(t, "one")
	for _, bad := range []string{
		"m2:\"two\"\nm3:not json\n", // a good frame, then a bad one
		"x1\n",                      // unknown type
		"m02:\"x\"\n",               // leading zero
		"m2:\"a\" trailing\n",       // trailing bytes
		"o{\"v\":1}\n",              // a server frame
		"m2:\"\xff\"\n",             // invalid UTF-8
	} {
		status, body := c.mustSend(t, []byte(bad))
		if status != http.StatusBadRequest || len(strings.TrimSpace(string(body))) == 0 {
			t.Fatalf("send %q answered %d %q, want 400 with a reason", bad, status, body)
		}
	}
	// Nothing was applied: the server still acknowledges 1 only.
	if status, body := c.mustSend(t, []byte("h\n")); status != http.StatusOK || string(body) != "a1\n" {
		t.Fatalf("send after the bad batches answered %d %q, want a1", status, body)
	}
	c.SendText(t, "two")
	expectText(t, c.Next(t), 1, "Welcome")
	expectText(t, c.Next(t), 2, "new message: one")
	expectText(t, c.Next(t), 3, "new message: two")
	if got := as.waitTexts(t, 2); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Fatalf("OnMessage saw %q", got)
	}
}

// TestWebSocketMalformedFrame: a malformed frame on a WebSocket closes the
// session with 4000.
func TestWebSocketMalformedFrame(t *testing.T) {
	for name, msg := range map[string]struct {
		typ  int
		data string
	}{
		"text":         {websocket.TextMessage, "m1:not json"},
		"server frame": {websocket.TextMessage, "o{}"},
		"binary":       {websocket.BinaryMessage, "x:abc"},
	} {
		t.Run(name, func(t *testing.T) {
			a := newApp()
			s := startServer(t, a.handler, fastOpts())
			c := s.openWS(t, protocol.Hello{})
			as := a.session(t, c.open.SID)
			expectText(t, c.Next(t), 1, "Welcome")
			c.write(t, msg.typ, []byte(msg.data))
			f := c.Next(t)
			if f.Type != protocol.FrameClose || f.Code != protocol.CloseProtocolError {
				t.Fatalf("after a malformed frame got %v, want c4000", f)
			}
			if code, _ := closeCode(t, c.conn); code != int(protocol.CloseProtocolError) {
				t.Fatalf("WebSocket close code %d, want 4000", code)
			}
			if got := as.waitClosed(t); len(got) != 1 || !strings.HasPrefix(got[0], "4000 ") {
				t.Fatalf("OnClose calls %q, want 4000", got)
			}
		})
	}
}

// TestWebSocketBadHello: a first message that is not a well-formed hello
// is closed with 4000, and no session is created.
func TestWebSocketBadHello(t *testing.T) {
	for name, hello := range map[string]string{
		"not a hello":   "m1:\"hi\"",
		"bad JSON":      "H{\"v\":1",
		"unknown field": "H{\"v\":1,\"x\":2}",
		"wrong version": "H{\"v\":2}",
	} {
		t.Run(name, func(t *testing.T) {
			a := newApp()
			s := startServer(t, a.handler, fastOpts())
			conn := s.mustDialWS(t, nil)
			if err := conn.WriteMessage(websocket.TextMessage, []byte(hello)); err != nil {
				t.Fatal(err)
			}
			code, closes := closeCode(t, conn)
			if code != int(protocol.CloseProtocolError) || len(closes) != 1 || closes[0].Code != protocol.CloseProtocolError {
				t.Fatalf("bad hello: WebSocket close %d, frames %v; want c4000 and 4000", code, closes)
			}
			if n := s.rt.Sessions(); n != 0 || a.count() != 0 {
				t.Fatalf("a bad hello created a session (%d held, %d seen by the app)", n, a.count())
			}
		})
	}
}

// TestUnknownSession: an unknown sid gets 200 c4200 on every path.
func TestUnknownSession(t *testing.T) {
	s := startServer(t, newApp().handler, fastOpts())
	const sid = "9b2f7c1e-0000-4000-8000-000000000000"
	tok := http.Header{"X-Tether-Token": {"AAAAAAAAAAAAAAAAAAAAAA"}}
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/longpoll?sid=" + sid + "&ack=0"},
		{http.MethodPost, "/send?sid=" + sid},
	} {
		resp, body := s.mustDo(t, r.method, r.path, tok, []byte("m1:\"x\"\n"))
		if resp.StatusCode != http.StatusOK || string(body) != "c4200:\"session lost\"\n" {
			t.Fatalf("%s %s answered %d %q, want 200 c4200", r.method, r.path, resp.StatusCode, body)
		}
	}
	resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: protocol.LongPoll, SID: sid, Token: "AAAAAAAAAAAAAAAAAAAAAA"}, nil)
	if resp.StatusCode != http.StatusOK || string(body) != "c4200:\"session lost\"\n" {
		t.Fatalf("resume of an unknown session answered %d %q", resp.StatusCode, body)
	}
	conn, f := s.helloWS(t, protocol.Hello{SID: sid, Token: "AAAAAAAAAAAAAAAAAAAAAA"})
	if f.Type != protocol.FrameClose || f.Code != protocol.CloseSessionLost || f.Reason != "session lost" {
		t.Fatalf("WebSocket resume of an unknown session answered %v", f)
	}
	if code, _ := closeCode(t, conn); code != int(protocol.CloseSessionLost) {
		t.Fatalf("WebSocket close code %d, want 4200", code)
	}
}

// TestWrongToken: the right sid with a wrong token gets exactly the answer
// of an unknown sid, and the real session is not touched: its ack does not
// move, it is not closed, and its own poll still works.
func TestWrongToken(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openLP(t, nil)
	as := a.session(t, c.open.SID)
	c.SendText(t, "burst 2") // 2 and 3 wait for the client
	as.waitTexts(t, 1)

	for _, tok := range []string{"", "AAAAAAAAAAAAAAAAAAAAAA", c.open.Token + "x", strings.ToUpper(c.open.Token)} {
		if tok == c.open.Token {
			continue
		}
		h := http.Header{"X-Tether-Token": {tok}}
		for _, r := range []struct{ method, path, body string }{
			{http.MethodGet, "/longpoll?sid=" + c.open.SID + "&ack=3", ""},
			{http.MethodPost, "/send?sid=" + c.open.SID, "a3\nm2:\"evil\"\nc1000:\"bye\"\n"},
		} {
			resp, body := s.mustDo(t, r.method, r.path, h, []byte(r.body))
			if resp.StatusCode != http.StatusOK || string(body) != "c4200:\"session lost\"\n" {
				t.Fatalf("%s %s with token %q answered %d %q, want 200 c4200", r.method, r.path, tok, resp.StatusCode, body)
			}
		}
		resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: protocol.LongPoll, SID: c.open.SID, Token: tok + "y"}, nil)
		if resp.StatusCode != http.StatusOK || string(body) != "c4200:\"session lost\"\n" {
			t.Fatalf("resume with a wrong token answered %d %q", resp.StatusCode, body)
		}
	}
	_, f := s.helloWS(t, protocol.Hello{SID: c.open.SID, Token: "AAAAAAAAAAAAAAAAAAAAAA"})
	if f.Type != protocol.FrameClose || f.Code != protocol.CloseSessionLost {
		t.Fatalf("WebSocket resume with a wrong token answered %v", f)
	}

	// The real session: nothing was acknowledged, delivered or closed.
	expectText(t, c.Next(t), 1, "Welcome")
	expectText(t, c.Next(t), 2, "b1")
	expectText(t, c.Next(t), 3, "b2")
	c.SendText(t, "mine")
	expectText(t, c.Next(t), 4, "new message: mine")
	if _, texts, closes := as.snapshot(); !reflect.DeepEqual(texts, []string{"burst 2", "mine"}) || len(closes) != 0 {
		t.Fatalf("the real session saw %q, closes %q", texts, closes)
	}
}

// TestWrongMethod: a wrong method gets 405 with Allow.
func TestWrongMethod(t *testing.T) {
	s := startServer(t, newApp().handler, fastOpts())
	for _, r := range []struct{ method, path, allow string }{
		{http.MethodGet, "/send?sid=x", "POST"},
		{http.MethodPut, "/send?sid=x", "POST"},
		{http.MethodPost, "/longpoll?sid=x", "GET"},
		{http.MethodDelete, "/longpoll?sid=x", "GET"},
		{http.MethodPost, "/websocket", "GET"},
		{http.MethodPut, "/handshake", "POST"},
	} {
		// The method is checked first, even before the origin (SPEC.md §4.1).
		resp, body := s.mustDo(t, r.method, r.path, http.Header{"Origin": {"https://evil.example.com"}}, nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), r.allow) {
			t.Errorf("%s %s answered %d (Allow %q) %q, want 405 with Allow: %s",
				r.method, r.path, resp.StatusCode, resp.Header.Get("Allow"), body, r.allow)
		}
	}
}

// TestSendOversize: a message over MaxMessageSize, or a body over maxSend,
// is answered 413 and closes the session with 4001; what came before was
// delivered.
func TestSendOversize(t *testing.T) {
	for name, big := range map[string]func(seq uint64) []byte{
		"message": func(seq uint64) []byte {
			return protocol.AppendText(nil, seq, []byte(strings.Repeat("x", 65)))
		},
		"body": func(seq uint64) []byte {
			// Small messages, but more bytes than maxSend (4 × 64 + 4096).
			var b []byte
			for i := range 300 {
				b = append(protocol.AppendText(b, seq+uint64(i), []byte("0123456789")), '\n')
			}
			return b
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := newApp()
			opts := fastOpts()
			opts.MaxMessageSize = 64
			s := startServer(t, a.handler, opts)
			c := s.openLP(t, nil)
			as := a.session(t, c.open.SID)
			c.SendText(t, "ok")
			if status, body := c.mustSend(t, big(2)); status != http.StatusRequestEntityTooLarge {
				t.Fatalf("oversize send answered %d %q, want 413", status, body)
			}
			if got := as.waitClosed(t); len(got) != 1 || !strings.HasPrefix(got[0], "4001 ") {
				t.Fatalf("OnClose calls %q, want 4001", got)
			}
			if _, texts, _ := as.snapshot(); !reflect.DeepEqual(texts, []string{"ok"}) {
				t.Fatalf("OnMessage saw %q, want [ok]", texts)
			}
			if _, body := c.mustPoll(t, 0); !isClose(body, protocol.CloseMessageTooBig) {
				t.Fatalf("poll after the oversize send answered %q, want c4001", body)
			}
			if status, body := c.mustSend(t, []byte("m2:\"more\"\n")); status != http.StatusOK || !strings.Contains(string(body), "c4001:") {
				t.Fatalf("send after the oversize send answered %d %q, want c4001", status, body)
			}
		})
	}
}

// TestWebSocketOversize: a message over MaxMessageSize, and a WebSocket
// message over maxSend, close with 4001 (not WebSocket's own 1009, which
// gorilla would send first for the latter).
func TestWebSocketOversize(t *testing.T) {
	for name, size := range map[string]int{"message": 65, "frame": 8000} {
		t.Run(name, func(t *testing.T) {
			a := newApp()
			opts := fastOpts()
			opts.MaxMessageSize = 64
			s := startServer(t, a.handler, opts)
			c := s.openWS(t, protocol.Hello{})
			as := a.session(t, c.open.SID)
			expectText(t, c.Next(t), 1, "Welcome")
			c.SendText(t, "ok")
			expectText(t, c.Next(t), 2, "new message: ok")
			c.SendText(t, strings.Repeat("x", size))
			code, closes := closeCode(t, c.conn)
			if code != int(protocol.CloseMessageTooBig) {
				t.Fatalf("oversize WebSocket message: close %d (frames %v), want 4001", code, closes)
			}
			if got := as.waitClosed(t); len(got) != 1 || !strings.HasPrefix(got[0], "4001 ") {
				t.Fatalf("OnClose calls %q, want 4001", got)
			}
			if _, texts, _ := as.snapshot(); !reflect.DeepEqual(texts, []string{"ok"}) {
				t.Fatalf("OnMessage saw %q, want [ok]", texts)
			}
		})
	}
}

// TestSecondReceiver: a second receiving carrier is refused with 4103 and
// the attached one keeps working.
func TestSecondReceiver(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.HeartbeatInterval = time.Minute // held polls stay held
	s := startServer(t, a.handler, opts)
	c := s.openLP(t, nil)
	expectText(t, c.Next(t), 1, "Welcome")

	held := heldPoll(t, c, 1)
	// A WebSocket is refused the same way, after its hello.
	conn, f := s.dialHelloOnce(t, protocol.Hello{SID: c.open.SID, Token: c.open.Token, Last: 1})
	if f.Type != protocol.FrameClose || f.Code != protocol.CloseReceiverBusy {
		t.Fatalf("WebSocket while a poll is held answered %v, want c4103", f)
	}
	if code, _ := closeCode(t, conn); code != int(protocol.CloseReceiverBusy) {
		t.Fatalf("WebSocket close code %d, want 4103", code)
	}

	c.SendText(t, "burst 1")
	var got []byte
	select {
	case got = <-held:
	case <-time.After(wait):
		t.Fatal("the held poll was not answered")
	}
	frames := mustDecode(t, got)
	last := frames[len(frames)-1]
	if last.Type != protocol.FrameText || last.Seq != 2 || string(last.Data) != "b1" {
		t.Fatalf("the held poll answered %q, want m2:\"b1\"", got)
	}
}

// heldPoll starts two polls with ack and waits until one of them is
// refused with 4103, which proves the other is attached and held; it
// returns the channel that gets the held poll's answer. The session's
// heartbeat interval must be long.
func heldPoll(t testing.TB, c *lpClient, ack uint64) <-chan []byte {
	t.Helper()
	poll := func() <-chan []byte {
		ch := make(chan []byte, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			_, body, _ := c.poll(ctx, ack)
			ch <- body
		}()
		return ch
	}
	first, second := poll(), poll()
	var refused []byte
	var held <-chan []byte
	select {
	case refused = <-first:
		held = second
	case refused = <-second:
		held = first
	case <-time.After(wait):
		t.Fatal("neither of two concurrent polls was refused")
	}
	if string(refused) != "c4103:\"another receiver is attached\"\n" {
		t.Fatalf("the second of two concurrent polls answered %q, want c4103", refused)
	}
	return held
}

// dialHelloOnce dials, sends a hello and reads the first frame, with no
// retry.
func (s *server) dialHelloOnce(t testing.TB, h protocol.Hello) (*websocket.Conn, rframe) {
	t.Helper()
	conn := s.mustDialWS(t, nil)
	writeHello(t, conn, h)
	frames, err := readWS(conn, wait)
	if err != nil {
		t.Fatalf("reading the answer to a hello: %v", err)
	}
	return conn, frames[0]
}

// TestOrigins checks the origin policy on WebSocket upgrades and HTTP
// carriers, and the CORS answers to allowed cross-origin requests.
func TestOrigins(t *testing.T) {
	opts := fastOpts()
	opts.AllowedOrigins = []string{"https://app.example.com/"}
	opts.CheckOrigin = func(r *http.Request) bool { return r.Header.Get("Origin") == "https://hook.example.com" }
	s := startServer(t, newApp().handler, opts)
	self := s.srv.URL

	t.Run("websocket", func(t *testing.T) {
		for origin, want := range map[string]int{
			"":                         http.StatusSwitchingProtocols,
			self:                       http.StatusSwitchingProtocols,
			"https://app.example.com":  http.StatusSwitchingProtocols,
			"https://APP.example.com":  http.StatusSwitchingProtocols,
			"https://hook.example.com": http.StatusSwitchingProtocols,
			"https://evil.example.com": http.StatusForbidden,
			"null":                     http.StatusForbidden,
		} {
			hdr := http.Header{}
			if origin != "" {
				hdr.Set("Origin", origin)
			}
			conn, resp, err := s.dialWS(hdr)
			if resp == nil {
				t.Fatalf("origin %q: %v", origin, err)
			}
			if resp.StatusCode != want {
				t.Errorf("origin %q: upgrade answered %d, want %d", origin, resp.StatusCode, want)
			}
			if conn != nil {
				conn.Close()
			}
		}
	})

	t.Run("http", func(t *testing.T) {
		hello := []byte(`{"v":1,"transport":"longpoll"}`)
		for _, r := range []struct{ method, path string }{
			{http.MethodPost, "/handshake"},
			{http.MethodGet, "/longpoll?sid=x&ack=0"},
			{http.MethodPost, "/send?sid=x"},
			{http.MethodOptions, "/handshake"},
		} {
			resp, body := s.mustDo(t, r.method, r.path, http.Header{"Origin": {"https://evil.example.com"}}, hello)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "origin not allowed") {
				t.Errorf("%s %s from a disallowed origin answered %d %q, want 403", r.method, r.path, resp.StatusCode, body)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s %s: a disallowed origin got CORS headers", r.method, r.path)
			}
		}
		if n := s.rt.Sessions(); n != 0 {
			t.Fatalf("refused origins created %d sessions", n)
		}

		origin := "https://app.example.com"
		resp, body := s.handshake(t, hello, http.Header{"Origin": {origin}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("handshake from an allowed origin: %d %q", resp.StatusCode, body)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != origin || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("allowed cross-origin handshake lacks CORS headers: %v", resp.Header)
		}
		o := decodeOpen(t, body)
		h := http.Header{"Origin": {origin}, "X-Tether-Token": {o.Token}}
		resp, body = s.mustDo(t, http.MethodGet, "/longpoll?sid="+o.SID+"&ack=0", h, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("allowed cross-origin poll: %d %q %v", resp.StatusCode, body, resp.Header)
		}

		pre := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"},
			"Access-Control-Request-Headers": {"x-tether-token, content-type"}}
		for _, path := range []string{"/handshake", "/send?sid=" + o.SID, "/longpoll?sid=" + o.SID} {
			resp, _ = s.mustDo(t, http.MethodOptions, path, pre, nil)
			allowHeaders := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
				!strings.Contains(allowHeaders, "x-tether-token") || !strings.Contains(allowHeaders, "content-type") {
				t.Errorf("preflight of %s answered %d %v", path, resp.StatusCode, resp.Header)
			}
		}

		// Same-origin and no-Origin requests need no CORS and are allowed.
		for _, origin := range []string{self, ""} {
			h := http.Header{}
			if origin != "" {
				h.Set("Origin", origin)
			}
			if resp, body := s.handshake(t, hello, h); resp.StatusCode != http.StatusOK {
				t.Errorf("handshake with origin %q answered %d %q", origin, resp.StatusCode, body)
			}
		}
	})
}

// TestAuthorize: a refusal from Authorize answers with its status (401 from
// an *HTTPError, 403 otherwise) and reason, and creates no session.
func TestAuthorize(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.Authorize = func(r *http.Request) error {
		switch r.Header.Get("X-User") {
		case "":
			return &router.HTTPError{Status: http.StatusUnauthorized, Reason: "login first"}
		case "mallory":
			return errors.New("banned user")
		}
		return nil
	}
	s := startServer(t, a.handler, opts)
	hello := protocol.Hello{V: 1, Transport: protocol.LongPoll}
	for user, want := range map[string]struct {
		status int
		reason string
	}{
		"":        {http.StatusUnauthorized, "login first"},
		"mallory": {http.StatusForbidden, "banned user"},
	} {
		h := http.Header{}
		if user != "" {
			h.Set("X-User", user)
		}
		resp, body := s.handshake(t, hello, h)
		if resp.StatusCode != want.status || !strings.Contains(string(body), want.reason) {
			t.Errorf("handshake as %q answered %d %q, want %d %q", user, resp.StatusCode, body, want.status, want.reason)
		}
		conn, resp, err := s.dialWS(h)
		if err == nil {
			conn.Close()
			t.Errorf("WebSocket as %q was upgraded", user)
		} else if resp == nil || resp.StatusCode != want.status {
			t.Errorf("WebSocket as %q: %v %v, want %d", user, err, resp, want.status)
		}
	}
	if n := s.rt.Sessions(); n != 0 || a.count() != 0 {
		t.Fatalf("refused handshakes created sessions (%d held, %d seen by the app)", n, a.count())
	}
	resp, _ := s.handshake(t, hello, http.Header{"X-User": {"alice"}})
	if resp.StatusCode != http.StatusOK || a.count() != 1 {
		t.Fatalf("authorized handshake answered %d", resp.StatusCode)
	}
}

// TestMaxSessions: a full registry refuses a handshake with 503, and a
// WebSocket with 503 before the upgrade.
func TestMaxSessions(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.MaxSessions = 2
	s := startServer(t, a.handler, opts)
	s.openLP(t, nil)
	s.openWS(t, protocol.Hello{})
	resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: protocol.LongPoll}, nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third handshake answered %d %q, want 503", resp.StatusCode, body)
	}
	conn, resp, err := s.dialWS(nil)
	if err == nil {
		conn.Close()
		t.Fatal("third WebSocket was upgraded")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third WebSocket: %v, want 503", err)
	}
	if n := a.count(); n != 2 {
		t.Fatalf("the app saw %d sessions, want 2", n)
	}
}

// TestBadHello: a malformed hello gets 400 with a reason.
func TestBadHello(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	for _, hello := range []string{
		`{"v":1,"transport":"longpoll"`,
		`{"v":1,"transport":"longpoll"}}`,
		`{"v":2,"transport":"longpoll"}`,
		`{"v":1,"transport":"pigeon"}`,
		`{"v":1}`,
		`{"v":1,"transport":"websocket"}`,
		`{"v":1,"transport":"longpoll","sid":"x"}`,
		`{"v":1,"transport":"longpoll","extra":true}`,
		`{"v":1,"transport":"longpoll","last":-1}`,
		``,
		`[1]`,
		`{"v":1,"transport":"longpoll","pad":"` + strings.Repeat("x", 5000) + `"}`,
	} {
		resp, body := s.handshake(t, []byte(hello), nil)
		if resp.StatusCode != http.StatusBadRequest || len(strings.TrimSpace(string(body))) == 0 {
			t.Errorf("hello %.40q answered %d %q, want 400 with a reason", hello, resp.StatusCode, body)
		}
	}
	if n := a.count(); n != 0 {
		t.Fatalf("bad hellos created %d sessions", n)
	}
}

// TestHandshakeUnservedTransport: a hello for a carrier this router does not
// serve is refused with 400 instead of opening a session nobody can
// receive on.
func TestHandshakeUnservedTransport(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.Transports = []string{protocol.WebSocket, protocol.LongPoll, protocol.Polling}
	s := startServer(t, a.handler, opts)
	for _, tr := range []string{protocol.Streaming, protocol.Polling, protocol.EventSource, protocol.JSONP} {
		resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: tr}, nil)
		if resp.StatusCode == http.StatusOK {
			// Then its receive path must work.
			o := decodeOpen(t, body)
			resp, body = s.mustDo(t, http.MethodGet, "/"+tr+"?sid="+o.SID+"&ack=0", http.Header{"X-Tether-Token": {o.Token}}, nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("handshake for %q succeeded but its receive path answers %d %q", tr, resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("handshake for %q answered %d %q, want 400", tr, resp.StatusCode, body)
		}
	}
}

// TestUnknownPath: paths that are not endpoints get 404.
func TestUnknownPath(t *testing.T) {
	opts := fastOpts()
	opts.Transports = []string{protocol.WebSocket, protocol.LongPoll}
	s := startServer(t, newApp().handler, opts)
	for _, p := range []string{"", "/", "/nope", "/handshake/x", "/polling?sid=x", "/longpolls", "/send2"} {
		resp, body := s.mustDo(t, http.MethodGet, p, nil, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %q answered %d %q, want 404", p, resp.StatusCode, body)
		}
	}
}

// TestBadQuery: a malformed ack or a missing sid gets 400.
func TestBadQuery(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openLP(t, nil)
	for _, q := range []string{"ack=x", "ack=-1", "ack=01", "ack=+1", "ack=1.5", "ack=99999999999999999", "ack=9007199254740992"} {
		resp, body := s.mustDo(t, http.MethodGet, "/longpoll?sid="+c.open.SID+"&"+q, c.tokenHeader(), nil)
		if resp.StatusCode != http.StatusBadRequest || len(body) == 0 {
			t.Errorf("poll with %s answered %d %q, want 400", q, resp.StatusCode, body)
		}
	}
	for _, p := range []string{"/longpoll?ack=0", "/longpoll"} {
		resp, body := s.mustDo(t, http.MethodGet, p, c.tokenHeader(), nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s answered %d %q, want 400", p, resp.StatusCode, body)
		}
	}
	resp, body := s.mustDo(t, http.MethodPost, "/send", c.tokenHeader(), []byte("h\n"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("send without sid answered %d %q, want 400", resp.StatusCode, body)
	}
	// The session was not disturbed.
	expectText(t, c.Next(t), 1, "Welcome")
}

// TestSlowConsumer: a client that does not acknowledge past
// MaxOutboundBytes gets its session closed with 4201, and the app's Send
// fails instead of waiting.
func TestSlowConsumer(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.MaxOutboundBytes = 1000
	s := startServer(t, a.handler, opts)
	for _, cr := range carriers {
		c := cr.open(t, s)
		as := a.session(t, c.Open().SID)
		c.SendText(t, "burst 2000") // about 10 kB, far more than the client can ack meanwhile
		if got := as.waitClosed(t); len(got) != 1 || !strings.HasPrefix(got[0], "4201 ") {
			t.Fatalf("%s: OnClose calls %q, want 4201", cr.name, got)
		}
		if err := as.c.Send("more"); err == nil {
			t.Fatalf("%s: Send on a slow consumer's session succeeded", cr.name)
		}
		// The client is told, whatever it had been handed before.
		for {
			f := c.Next(t)
			if f.Type == protocol.FrameClose {
				expectClose(t, f, protocol.CloseSlowConsumer, "slow consumer")
				break
			}
		}
		c.Close()
	}
}
