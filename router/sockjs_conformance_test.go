package router_test

// The behaviours the official SockJS protocol suite (sockjs/sockjs-protocol)
// checks, written anew against the dialect, since the suite itself may be
// neither committed nor fetched in CI: the URL layout, headers, status
// codes and bodies of every transport, its frames and its timing rules.
// The tests are grouped as the suite's classes are.

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/router"
)

func TestSockJSGreeting(t *testing.T) {
	e := newSJEnv(t, nil)
	for _, p := range []string{"/echo", "/echo/"} {
		r := e.do("GET", p, "")
		wantStatus(t, p, r, 200)
		wantContentType(t, p, r, "text/plain;charset=UTF-8")
		wantBody(t, p, r, "Welcome to SockJS!\n")
		wantHeader(t, p, r, "Set-Cookie", "")
	}
	for _, s := range []string{"/a", "/a.html", "//", "///", "/a/a", "/a/a/", "/a/", "/info/x", "/a/b/c/d"} {
		if r := e.do("GET", "/echo"+s, ""); r.status != 404 {
			t.Errorf("GET /echo%s: status %d, want 404", s, r.status)
		}
	}
	r := e.do("POST", "/echo", "")
	wantStatus(t, "POST /echo", r, 405)
}

var iframePage = regexp.MustCompile(`^<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
  <script src="(?P<url>[^"]*)"></script>
  <script>
    document.domain = document.domain;
    SockJS.bootstrap_iframe\(\);
  </script>
</head>
<body>
  <h2>Don't panic!</h2>
  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>
</body>
</html>$`)

func TestSockJSIframe(t *testing.T) {
	e := newSJEnv(t, func(prefix string, o *router.SockJSOptions) { o.ClientURL = "/static/sockjs.js?v=1&x" })
	for _, s := range []string{"/iframe.html", "/iframe-a.html", "/iframe-.html", "/iframe-0.1.2.html",
		"/iframe-0.1.2abc-dirty.2144.html", "/iframe-a.html?t=1234", "/iframe-0.1.2.html?t=123414",
		"/iframe-0.1.2abc-dirty.2144.html?t=qweqweq123"} {
		r := e.do("GET", "/echo"+s, "")
		wantStatus(t, s, r, 200)
		wantContentType(t, s, r, "text/html;charset=UTF-8")
		wantCachedForYear(t, s, r)
		if r.header.Get("ETag") == "" || r.header.Get("Last-Modified") != "" {
			t.Errorf("%s: ETag %q, Last-Modified %q; want an ETag and no Last-Modified", s, r.header.Get("ETag"), r.header.Get("Last-Modified"))
		}
		wantHeader(t, s, r, "Set-Cookie", "")
		m := iframePage.FindStringSubmatch(strings.TrimSpace(r.body))
		if m == nil {
			t.Fatalf("%s: not the iframe page:\n%s", s, r.body)
		}
		if m[1] != "/static/sockjs.js?v=1&amp;x" {
			t.Errorf("%s: client URL %q, want the configured one", s, m[1])
		}
	}
	for _, s := range []string{"/iframe.htm", "/iframe", "/IFRAME.HTML", "/IFRAME", "/iframe.HTML", "/iframe.xml", "/iframe-/.html"} {
		if r := e.do("GET", "/echo"+s, ""); r.status != 404 {
			t.Errorf("GET /echo%s: status %d, want 404", s, r.status)
		}
	}
	r1, r2 := e.do("GET", "/echo/iframe.html", ""), e.do("GET", "/echo/iframe-1.6.1.html", "")
	etag := r1.header.Get("ETag")
	if etag == "" || r2.header.Get("ETag") != etag {
		t.Fatalf("ETags %q and %q, want one non-empty ETag", etag, r2.header.Get("ETag"))
	}
	r := e.do("GET", "/echo/iframe.html", "", "If-None-Match", etag)
	wantStatus(t, "If-None-Match", r, 304)
	if r.header.Get("Content-Type") != "" || r.body != "" {
		t.Errorf("304 with Content-Type %q and body %q, want neither", r.header.Get("Content-Type"), r.body)
	}
	// The default client URL is sockjs-node's.
	d := newSJEnv(t, nil)
	if m := iframePage.FindStringSubmatch(d.do("GET", "/echo/iframe.html", "").body); m == nil || m[1] != router.DefaultSockJSClientURL {
		t.Errorf("default client URL: %q", m)
	}
}

func TestSockJSInfo(t *testing.T) {
	e := newSJEnv(t, nil)
	r := e.do("GET", "/echo/info", "", "Origin", "test")
	wantStatus(t, "info", r, 200)
	wantContentType(t, "info", r, "application/json;charset=UTF-8")
	wantHeader(t, "info", r, "Set-Cookie", "")
	wantNotCached(t, "info", r)
	wantCORS(t, "info", r, "test")
	var info struct {
		WebSocket    *bool    `json:"websocket"`
		CookieNeeded *bool    `json:"cookie_needed"`
		Origins      []string `json:"origins"`
		Entropy      *uint64  `json:"entropy"`
	}
	if err := json.Unmarshal([]byte(r.body), &info); err != nil || info.WebSocket == nil || !*info.WebSocket ||
		info.CookieNeeded == nil || *info.CookieNeeded || fmt.Sprint(info.Origins) != "[*:*]" || info.Entropy == nil || *info.Entropy > 1<<32-1 {
		t.Fatalf("info %s: %v", r.body, err)
	}
	// The entropy differs from answer to answer.
	seen := map[string]bool{}
	for range 4 {
		var i struct{ Entropy json.Number }
		json.Unmarshal([]byte(e.do("GET", "/echo/info", "").body), &i)
		seen[i.Entropy.String()] = true
	}
	if len(seen) < 3 {
		t.Errorf("entropy repeats: %v", seen)
	}
	// Preflights, from a site and from a file:// page.
	for _, origin := range []string{"test", "null"} {
		r := e.do("OPTIONS", "/echo/info", "", "Origin", origin, "Access-Control-Request-Method", "GET")
		wantPreflight(t, "OPTIONS info "+origin, r, origin, "OPTIONS, GET")
	}
	r = e.do("GET", "/disabled_websocket_echo/info", "")
	if !strings.Contains(r.body, `"websocket":false`) {
		t.Errorf("disabled websocket info: %s", r.body)
	}
	r = e.do("GET", "/cookie_needed_echo/info", "")
	wantHeader(t, "cookie_needed info", r, "Set-Cookie", "")
	if !strings.Contains(r.body, `"cookie_needed":true`) {
		t.Errorf("cookie_needed info: %s", r.body)
	}
	wantStatus(t, "POST info", e.do("POST", "/echo/info", ""), 405)
}

func wantPreflight(t testing.TB, what string, r *sjResp, origin, methods string) {
	t.Helper()
	if r.status != 204 && r.status != 200 {
		t.Fatalf("%s: status %d", what, r.status)
	}
	wantCachedForYear(t, what, r)
	wantHeader(t, what, r, "Access-Control-Max-Age", "31536000")
	for _, m := range strings.Split(methods, ",") {
		if !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), strings.TrimSpace(m)) {
			t.Errorf("%s: Access-Control-Allow-Methods %q lacks %s", what, r.header.Get("Access-Control-Allow-Methods"), m)
		}
	}
	if r.body != "" {
		t.Errorf("%s: body %q", what, r.body)
	}
	wantCORS(t, what, r, origin)
}

func TestSockJSSessionURLs(t *testing.T) {
	e := newSJEnv(t, nil)
	n := time.Now().UnixNano()
	for _, p := range []string{fmt.Sprintf("/a/a%d", n), fmt.Sprintf("/_/_%d", n), fmt.Sprintf("/1/%d", n),
		fmt.Sprintf("/abcdefgh_i-j%%20/abcdefg_i-j%%20%d", n)} {
		r := e.do("POST", "/echo"+p+"/xhr", "")
		wantStatus(t, p, r, 200)
		wantBody(t, p, r, "o\n")
	}
	for _, s := range []string{"//", "/a./a", "/a/a.", "/./.", "/", "///"} {
		for _, m := range []string{"GET", "POST"} {
			if r := e.do(m, "/echo"+s+"/xhr", ""); r.status != 404 {
				t.Errorf("%s /echo%s/xhr: status %d, want 404", m, s, r.status)
			}
		}
	}
	if r := e.do("POST", "/echo/a/a/nonsense", ""); r.status != 404 {
		t.Errorf("unknown transport: status %d, want 404", r.status)
	}
	// The server segment is for load balancers: only the session counts.
	key := "/" + fmt.Sprint(n) + "x"
	wantBody(t, "open", e.do("POST", "/echo/000"+key+"/xhr", ""), "o\n")
	r := e.do("POST", "/echo/000"+key+"/xhr_send", `["a"]`)
	wantStatus(t, "send", r, 204)
	wantBody(t, "send", r, "")
	wantBody(t, "poll on another server id", e.do("POST", "/echo/999"+key+"/xhr", ""), "a[\"a\"]\n")
}

func TestSockJSProtocol(t *testing.T) {
	e := newSJEnv(t, nil)
	u := e.sessionURL("/echo")
	r := e.do("POST", u+"/xhr", "")
	wantStatus(t, "open", r, 200)
	wantBody(t, "open", r, "o\n")
	r = e.do("POST", u+"/xhr_send", `["a"]`)
	wantStatus(t, "send", r, 204)
	wantBody(t, "send", r, "")
	wantBody(t, "poll", e.do("POST", u+"/xhr", ""), "a[\"a\"]\n")
	wantStatus(t, "send to a bad session", e.do("POST", "/echo/000/bad_session/xhr_send", `["a"]`), 404)

	// A second receiver is refused; the first is not disturbed.
	held := e.dial()
	held.send("POST", u+"/xhr", "HTTP/1.1", "")
	time.Sleep(50 * time.Millisecond) // let it attach
	r = e.do("POST", u+"/xhr", "")
	wantStatus(t, "second receiver", r, 200)
	wantBody(t, "second receiver", r, "c[2010,\"Another connection still open\"]\n")
	wantStatus(t, "send while held", e.do("POST", u+"/xhr_send", `["b"]`), 204)
	if b := held.body(held.head()); b != "a[\"b\"]\n" {
		t.Errorf("held poll got %q, want the message", b)
	}

	// An app close answers every later poll with the close frame.
	c := e.sessionURL("/close")
	wantBody(t, "close: open", e.do("POST", c+"/xhr", ""), "o\n")
	for i := range 3 {
		r := e.do("POST", c+"/xhr", "")
		wantStatus(t, fmt.Sprint("close: poll ", i), r, 200)
		wantBody(t, fmt.Sprint("close: poll ", i), r, "c[3000,\"Go away!\"]\n")
	}
}

func TestSockJSWebSocketHTTPErrors(t *testing.T) {
	e := newSJEnv(t, nil)
	wantStatus(t, "GET", e.do("GET", "/echo/0/0/websocket", ""), 400)
	r := e.do("GET", "/echo/0/0/websocket", "", "Upgrade", "WebSocket", "Connection", "close")
	wantStatus(t, "Connection: close", r, 400)
	if !strings.Contains(r.body, "Not a valid websocket request") {
		t.Errorf("body %q", r.body)
	}
	for _, hdr := range [][]string{{"Upgrade", "WebSocket", "Connection", "Upgrade"}, nil} {
		r := e.do("POST", "/echo/0/0/websocket", "", hdr...)
		wantStatus(t, "POST", r, 405)
		if r.header.Get("Content-Type") != "" || r.body != "" || r.header.Get("Allow") == "" {
			t.Errorf("405: Content-Type %q, body %q, Allow %q; want only Allow", r.header.Get("Content-Type"), r.body, r.header.Get("Allow"))
		}
	}
	wantStatus(t, "disabled", e.do("GET", "/disabled_websocket_echo/0/0/websocket", "",
		"Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw=="), 404)
	wantStatus(t, "disabled raw", e.do("GET", "/disabled_websocket_echo/websocket", ""), 404)
}

func TestSockJSWebSocket(t *testing.T) {
	e := newSJEnv(t, nil)
	t.Run("transport", func(t *testing.T) {
		e := e.in(t)
		ws := e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
		if m := wsRecv(t, ws); m != "o" {
			t.Fatalf("got %q, want o", m)
		}
		ws.WriteMessage(websocket.TextMessage, []byte(`["a"]`))
		if m := wsRecv(t, ws); m != `a["a"]` {
			t.Fatalf("got %q", m)
		}
		ws.WriteMessage(websocket.TextMessage, []byte(`"single"`))
		if m := wsRecv(t, ws); m != `a["single"]` {
			t.Fatalf("got %q", m)
		}
	})
	t.Run("close", func(t *testing.T) {
		e := e.in(t)
		ws := e.dialWS(e.sessionURL("/close")+"/websocket", nil)
		if m := wsRecv(t, ws); m != "o" {
			t.Fatalf("got %q, want o", m)
		}
		if m := wsRecv(t, ws); m != `c[3000,"Go away!"]` {
			t.Fatalf("got %q, want the close frame", m)
		}
		err := wsClosed(t, ws)
		if !websocket.IsCloseError(err, 3000) {
			t.Errorf("connection ended with %v, want a 3000 close", err)
		}
	})
	t.Run("headers", func(t *testing.T) {
		e := e.in(t)
		sc := e.dial()
		r := sc.request("GET", e.sessionURL("/echo")+"/websocket", "HTTP/1.1", "", "Upgrade", "websocket",
			"Connection", "Upgrade", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Origin", "http://asd",
			"Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw==")
		wantStatus(t, "upgrade", r, 101)
		wantHeader(t, "upgrade", r, "Sec-WebSocket-Accept", "HSmrc0sMlYUkAGmm5OPpG2HaGWk=")
		if !strings.EqualFold(r.header.Get("Connection"), "upgrade") || !strings.EqualFold(r.header.Get("Upgrade"), "websocket") ||
			r.header.Get("Content-Length") != "" {
			t.Errorf("upgrade headers: %v", r.header)
		}
	})
	t.Run("empty frames", func(t *testing.T) {
		e := e.in(t)
		ws := e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
		wsRecv(t, ws)
		for _, m := range []string{"", "[]", `["a"]`} {
			ws.WriteMessage(websocket.TextMessage, []byte(m))
		}
		if m := wsRecv(t, ws); m != `a["a"]` {
			t.Fatalf("got %q", m)
		}
	})
	t.Run("reuse session id", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo") + "/websocket"
		ws1, ws2 := e.dialWS(u, nil), e.dialWS(u, nil)
		if wsRecv(t, ws1) != "o" || wsRecv(t, ws2) != "o" {
			t.Fatal("no open frames")
		}
		ws1.WriteMessage(websocket.TextMessage, []byte(`["a"]`))
		ws2.WriteMessage(websocket.TextMessage, []byte(`["b"]`))
		if m1, m2 := wsRecv(t, ws1), wsRecv(t, ws2); m1 != `a["a"]` || m2 != `a["b"]` {
			t.Fatalf("got %q and %q", m1, m2)
		}
		ws1.Close()
		ws2.Close()
		ws3 := e.dialWS(u, nil)
		ws3.WriteMessage(websocket.TextMessage, []byte(`["c"]`))
		if m := wsRecv(t, ws3) + wsRecv(t, ws3); m != `oa["c"]` {
			t.Fatalf("got %q", m)
		}
	})
	t.Run("broken json", func(t *testing.T) {
		e := e.in(t)
		ws := e.dialWS(e.sessionURL("/echo")+"/websocket", nil)
		wsRecv(t, ws)
		ws.WriteMessage(websocket.TextMessage, []byte(`["a`))
		// No close frame: the connection just ends.
		if err := wsClosed(t, ws); !websocket.IsCloseError(err, 4000) {
			t.Errorf("ended with %v, want a 4000 close", err)
		}
	})
}

func TestSockJSXHRPolling(t *testing.T) {
	e := newSJEnv(t, nil)
	for _, s := range []string{"/xhr", "/xhr_send"} {
		for _, origin := range []string{"test", "null"} {
			r := e.do("OPTIONS", "/echo/abc/abc"+s, "", "Origin", origin, "Access-Control-Request-Method", "OPTIONS, POST")
			wantPreflight(t, "OPTIONS "+s+" "+origin, r, origin, "OPTIONS, POST")
		}
	}
	u := e.sessionURL("/echo")
	r := e.do("POST", u+"/xhr", "", "Origin", "test")
	wantStatus(t, "open", r, 200)
	wantBody(t, "open", r, "o\n")
	wantContentType(t, "open", r, "application/javascript;charset=UTF-8")
	wantCORS(t, "open", r, "test")
	wantNotCached(t, "open", r)
	r = e.do("POST", u+"/xhr_send", `["x"]`, "Origin", "test")
	wantStatus(t, "send", r, 204)
	wantBody(t, "send", r, "")
	wantContentType(t, "send", r, "text/plain;charset=UTF-8")
	wantCORS(t, "send", r, "test")
	wantNotCached(t, "send", r)
	wantBody(t, "poll", e.do("POST", u+"/xhr", ""), "a[\"x\"]\n")

	wantStatus(t, "invalid session", e.do("POST", e.sessionURL("/echo")+"/xhr_send", `["x"]`), 404)
	wantStatus(t, "GET xhr", e.do("GET", u+"/xhr", ""), 405)

	t.Run("invalid json", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
		r := e.do("POST", u+"/xhr_send", `["x`)
		wantStatus(t, "broken", r, 500)
		if !strings.Contains(r.body, "Broken JSON encoding.") {
			t.Errorf("broken JSON: %q", r.body)
		}
		for _, body := range []string{"", "null", `{"a":1}`, `[1]`} {
			r := e.do("POST", u+"/xhr_send", body)
			wantStatus(t, "no payload "+body, r, 500)
			if !strings.Contains(r.body, "Payload expected.") {
				t.Errorf("%q: %q", body, r.body)
			}
		}
		wantStatus(t, "good", e.do("POST", u+"/xhr_send", `["a"]`), 204)
		wantBody(t, "poll", e.do("POST", u+"/xhr", ""), "a[\"a\"]\n")
	})
	t.Run("content types", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
		cts := []string{"text/plain", "T", "application/json", "application/xml", "",
			"application/json; charset=utf-8", "text/xml; charset=utf-8", "text/xml"}
		for _, ct := range cts {
			r := e.do("POST", u+"/xhr_send", `["a"]`, "Content-Type", ct)
			wantStatus(t, ct, r, 204)
		}
		// The echoes come from the app's OnMessage, which runs apart from
		// xhr_send's answer: a poll may find only some of them yet.
		if got, c := sjReceive(t, e, u, "xhr", len(cts)); len(got) != len(cts) || c != "" {
			t.Errorf("got %q, close %q; want %d messages", got, c, len(cts))
		}
	})
	t.Run("request headers", func(t *testing.T) {
		e := e.in(t)
		r := e.do("OPTIONS", e.sessionURL("/echo")+"/xhr", "", "Origin", "test", "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "a, b, c")
		wantCORS(t, "with headers", r, "test")
		wantHeader(t, "with headers", r, "Access-Control-Allow-Headers", "a, b, c")
		for _, hdr := range [][]string{{"Access-Control-Request-Headers", ""}, nil} {
			r := e.do("OPTIONS", e.sessionURL("/echo")+"/xhr", "", append([]string{"Origin", "test", "Access-Control-Request-Method", "POST"}, hdr...)...)
			wantCORS(t, "without headers", r, "test")
			wantHeader(t, "without headers", r, "Access-Control-Allow-Headers", "")
		}
	})
	t.Run("empty frame", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
		wantStatus(t, "empty", e.do("POST", u+"/xhr_send", "[]"), 204)
		wantStatus(t, "a", e.do("POST", u+"/xhr_send", `["a"]`), 204)
		wantBody(t, "poll", e.do("POST", u+"/xhr", ""), "a[\"a\"]\n")
	})
}

func TestSockJSXHRStreaming(t *testing.T) {
	e := newSJEnv(t, nil)
	for _, origin := range []string{"test", "null"} {
		r := e.do("OPTIONS", "/echo/abc/abc/xhr_streaming", "", "Origin", origin, "Access-Control-Request-Method", "OPTIONS, POST")
		wantPreflight(t, "OPTIONS "+origin, r, origin, "OPTIONS, POST")
	}
	u := e.sessionURL("/echo")
	sc, r := e.stream("POST", u+"/xhr_streaming", "Origin", "test")
	wantContentType(t, "stream", r, "application/javascript;charset=UTF-8")
	wantCORS(t, "stream", r, "test")
	wantNotCached(t, "stream", r)
	if c := sc.chunk(); c != strings.Repeat("h", 2048)+"\n" {
		t.Fatalf("prelude %q", c)
	}
	if c := sc.chunk(); c != "o\n" {
		t.Fatalf("got %q, want o", c)
	}
	wantStatus(t, "send", e.do("POST", u+"/xhr_send", `["x"]`), 204)
	if c := sc.chunk(); c != "a[\"x\"]\n" {
		t.Fatalf("got %q", c)
	}

	t.Run("response limit", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		sc, _ := e.stream("POST", u+"/xhr_streaming")
		sc.chunk()
		if c := sc.chunk(); c != "o\n" {
			t.Fatalf("got %q, want o", c)
		}
		msg := `"` + strings.Repeat("x", 128) + `"`
		for i := range 31 {
			wantStatus(t, "send", e.do("POST", u+"/xhr_send", "["+msg+"]"), 204)
			if c := sc.chunk(); c != "a["+msg+"]\n" {
				t.Fatalf("message %d: got %q", i, c)
			}
		}
		// 4096 bytes of frames: the answer ends.
		if c := sc.chunk(); c != "" {
			t.Fatalf("got %q, want the end of the answer", c)
		}
		// The session lives on: the next stream continues it.
		wantStatus(t, "send after", e.do("POST", u+"/xhr_send", `["y"]`), 204)
		sc2, _ := e.stream("POST", u+"/xhr_streaming")
		sc2.chunk()
		if c := sc2.chunk(); c != "a[\"y\"]\n" {
			t.Fatalf("next stream: got %q", c)
		}
	})
}

func TestSockJSEventSource(t *testing.T) {
	e := newSJEnv(t, nil)
	u := e.sessionURL("/echo")
	sc, r := e.stream("GET", u+"/eventsource")
	wantContentType(t, "eventsource", r, "text/event-stream")
	wantNotCached(t, "eventsource", r)
	if c := sc.chunk(); c != "\r\n" {
		t.Fatalf("prelude %q", c)
	}
	if c := sc.chunk(); c != "data: o\r\n\r\n" {
		t.Fatalf("got %q", c)
	}
	wantStatus(t, "send", e.do("POST", u+"/xhr_send", `["x"]`), 204)
	if c := sc.chunk(); c != "data: a[\"x\"]\r\n\r\n" {
		t.Fatalf("got %q", c)
	}
	wantStatus(t, "send", e.do("POST", u+"/xhr_send", `["  \u0000\n\r "]`), 204)
	if c := sc.chunk(); c != "data: a[\"  \\u0000\\n\\r \"]\r\n\r\n" {
		t.Fatalf("got %q", c)
	}
	wantStatus(t, "send", e.do("POST", u+"/xhr_send", `["100%","%25"]`), 204)
	if c := sc.chunk(); c != "data: a[\"100%25\",\"%2525\"]\r\n\r\n" {
		t.Fatalf("got %q, want %% escaped", c)
	}

	t.Run("response limit", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		sc, _ := e.stream("GET", u+"/eventsource")
		sc.chunk()
		if c := sc.chunk(); c != "data: o\r\n\r\n" {
			t.Fatalf("got %q", c)
		}
		msg := `"` + strings.Repeat("x", 4096) + `"`
		wantStatus(t, "send", e.do("POST", u+"/xhr_send", "["+msg+"]"), 204)
		if c := sc.chunk(); c != "data: a["+msg+"]\r\n\r\n" {
			t.Fatalf("got %d bytes", len(c))
		}
		if c := sc.chunk(); c != "" {
			t.Fatalf("got %q, want the end", c)
		}
	})
}

const htmlfileHead = `<!doctype html>
<html><head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head><body><h2>Don't panic!</h2>
  <script>
    document.domain = document.domain;
    var c = parent.%s;
    c.start();
    function p(d) {c.message(d);};
    window.onload = function() {c.stop();};
  </script>`

func TestSockJSHTMLFile(t *testing.T) {
	e := newSJEnv(t, nil)
	u := e.sessionURL("/echo")
	sc, r := e.stream("GET", u+"/htmlfile?c=%63allback")
	wantContentType(t, "htmlfile", r, "text/html;charset=UTF-8")
	wantNotCached(t, "htmlfile", r)
	d := sc.chunk()
	if strings.TrimSpace(d) != fmt.Sprintf(htmlfileHead, "callback") || len(d) <= 1024 {
		t.Fatalf("prelude (%d bytes):\n%s", len(d), d)
	}
	if c := sc.chunk(); c != "<script>\np(\"o\");\n</script>\r\n" {
		t.Fatalf("got %q", c)
	}
	wantStatus(t, "send", e.do("POST", u+"/xhr_send", `["x"]`), 204)
	if c := sc.chunk(); c != "<script>\np(\"a[\\\"x\\\"]\");\n</script>\r\n" {
		t.Fatalf("got %q", c)
	}
	wantStatus(t, "send", e.do("POST", u+"/xhr_send", `["</script><script>alert(1)</script>"]`), 204)
	if c := sc.chunk(); strings.Count(c, "</script>") != 1 {
		t.Fatalf("a message ended the script element: %q", c)
	}

	r = e.do("GET", "/echo/a/a/htmlfile", "")
	wantStatus(t, "no callback", r, 500)
	if !strings.Contains(r.body, `"callback" parameter required`) {
		t.Errorf("no callback: %q", r.body)
	}
	for _, cb := range []string{"%20", "*", "abc(", "abc%28", "a%3Cb"} {
		r := e.do("GET", "/echo/a/a/htmlfile?c="+cb, "")
		wantStatus(t, "callback "+cb, r, 500)
		if !strings.Contains(r.body, `invalid "callback" parameter`) {
			t.Errorf("callback %s: %q", cb, r.body)
		}
	}

	t.Run("response limit", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		sc, _ := e.stream("GET", u+"/htmlfile?c=callback")
		sc.chunk()
		sc.chunk()
		msg := strings.Repeat("x", 4096)
		wantStatus(t, "send", e.do("POST", u+"/xhr_send", `["`+msg+`"]`), 204)
		if c := sc.chunk(); c != "<script>\np(\"a[\\\""+msg+"\\\"]\");\n</script>\r\n" {
			t.Fatalf("got %d bytes", len(c))
		}
		if c := sc.chunk(); c != "" {
			t.Fatalf("got %q, want the end", c)
		}
	})
}

func TestSockJSJSONP(t *testing.T) {
	e := newSJEnv(t, nil)
	u := e.sessionURL("/echo")
	r := e.do("GET", u+"/jsonp?c=%63allback", "")
	wantStatus(t, "open", r, 200)
	wantContentType(t, "open", r, "application/javascript;charset=UTF-8")
	wantNotCached(t, "open", r)
	wantBody(t, "open", r, "/**/callback(\"o\");\r\n")
	r = e.do("POST", u+"/jsonp_send", "d=%5B%22x%22%5D", formHeader()...)
	wantStatus(t, "send", r, 200)
	wantBody(t, "send", r, "ok")
	wantContentType(t, "send", r, "text/plain;charset=UTF-8")
	wantNotCached(t, "send", r)
	r = e.do("GET", u+"/jsonp?c=%63allback", "")
	wantBody(t, "poll", r, "/**/callback(\"a[\\\"x\\\"]\");\r\n")

	r = e.do("GET", "/echo/a/a/jsonp", "")
	wantStatus(t, "no callback", r, 500)
	if !strings.Contains(r.body, `"callback" parameter required`) {
		t.Errorf("no callback: %q", r.body)
	}
	for _, cb := range []string{"%20", "*", "abc(", "abc%28", strings.Repeat("a", 33)} {
		r := e.do("GET", "/echo/a/a/jsonp?c="+cb, "")
		wantStatus(t, "callback "+cb, r, 500)
		if !strings.Contains(r.body, `invalid "callback" parameter`) {
			t.Errorf("callback %s: %q", cb, r.body)
		}
	}
	wantStatus(t, "callback=", e.do("GET", e.sessionURL("/echo")+"/jsonp?callback=cb", ""), 200)

	t.Run("invalid json", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		wantBody(t, "open", e.do("GET", u+"/jsonp?c=x", ""), "/**/x(\"o\");\r\n")
		r := e.do("POST", u+"/jsonp_send", "d=%5B%22x", formHeader()...)
		wantStatus(t, "broken", r, 500)
		if !strings.Contains(r.body, "Broken JSON encoding.") {
			t.Errorf("broken: %q", r.body)
		}
		for _, body := range []string{"", "d=", "p=p"} {
			r := e.do("POST", u+"/jsonp_send", body, formHeader()...)
			wantStatus(t, "payload "+body, r, 500)
			if !strings.Contains(r.body, "Payload expected.") {
				t.Errorf("%q: %q", body, r.body)
			}
		}
		wantBody(t, "good", e.do("POST", u+"/jsonp_send", "d=%5B%22b%22%5D", formHeader()...), "ok")
		wantBody(t, "poll", e.do("GET", u+"/jsonp?c=x", ""), "/**/x(\"a[\\\"b\\\"]\");\r\n")
	})
	t.Run("content types", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		wantBody(t, "open", e.do("GET", u+"/jsonp?c=x", ""), "/**/x(\"o\");\r\n")
		wantBody(t, "form", e.do("POST", u+"/jsonp_send", "d=%5B%22abc%22%5D", formHeader()...), "ok")
		wantBody(t, "text", e.do("POST", u+"/jsonp_send", `["%61bc"]`, "Content-Type", "text/plain"), "ok")
		if got, c := sjReceive(t, e, u, "jsonp", 2); fmt.Sprint(got) != "[abc %61bc]" || c != "" {
			t.Errorf("got %q, close %q", got, c)
		}
	})
	t.Run("close", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/close")
		wantBody(t, "open", e.do("GET", u+"/jsonp?c=x", ""), "/**/x(\"o\");\r\n")
		for range 2 {
			wantBody(t, "closed", e.do("GET", u+"/jsonp?c=x", ""), "/**/x(\"c[3000,\\\"Go away!\\\"]\");\r\n")
		}
	})
	t.Run("empty frame", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		wantBody(t, "open", e.do("GET", u+"/jsonp?c=x", ""), "/**/x(\"o\");\r\n")
		wantBody(t, "empty", e.do("POST", u+"/jsonp_send", "d=%5B%5D", formHeader()...), "ok")
		wantBody(t, "x", e.do("POST", u+"/jsonp_send", "d=%5B%22x%22%5D", formHeader()...), "ok")
		wantBody(t, "poll", e.do("GET", u+"/jsonp?c=x", ""), "/**/x(\"a[\\\"x\\\"]\");\r\n")
	})
}

func TestSockJSJSessionID(t *testing.T) {
	e := newSJEnv(t, nil)
	u := e.sessionURL("/cookie_needed_echo")
	r := e.do("POST", u+"/xhr", "")
	wantBody(t, "xhr", r, "o\n")
	wantCookie(t, "xhr", r, "dummy")
	r = e.do("POST", e.sessionURL("/cookie_needed_echo")+"/xhr", "", "Cookie", "JSESSIONID=abcdef")
	wantCookie(t, "xhr with cookie", r, "abcdef")

	sc, r := e.stream("POST", e.sessionURL("/cookie_needed_echo")+"/xhr_streaming")
	wantCookie(t, "xhr_streaming", r, "dummy")
	sc.c.Close()
	sc, r = e.stream("GET", e.sessionURL("/cookie_needed_echo")+"/eventsource")
	wantCookie(t, "eventsource", r, "dummy")
	sc.c.Close()
	sc, r = e.stream("GET", e.sessionURL("/cookie_needed_echo")+"/htmlfile?c=%63allback")
	wantCookie(t, "htmlfile", r, "dummy")
	sc.c.Close()

	u = e.sessionURL("/cookie_needed_echo")
	r = e.do("GET", u+"/jsonp?c=%63allback", "")
	wantCookie(t, "jsonp", r, "dummy")
	wantBody(t, "jsonp", r, "/**/callback(\"o\");\r\n")
	r = e.do("POST", u+"/jsonp_send", "d=%5B%22x%22%5D", formHeader()...)
	wantBody(t, "jsonp_send", r, "ok")
	wantCookie(t, "jsonp_send", r, "dummy")
	r = e.do("OPTIONS", u+"/xhr", "", "Origin", "test")
	wantCookie(t, "OPTIONS xhr", r, "dummy")

	// The other services set none.
	for _, p := range []string{e.sessionURL("/echo") + "/xhr"} {
		wantHeader(t, p, e.do("POST", p, ""), "Set-Cookie", "")
	}
}

func TestSockJSRawWebSocket(t *testing.T) {
	e := newSJEnv(t, nil)
	ws := e.dialWS("/echo/websocket", nil)
	ws.WriteMessage(websocket.TextMessage, []byte("Hello world!\uffff"))
	if m := wsRecv(t, ws); m != "Hello world!\uffff" {
		t.Fatalf("got %q", m)
	}
	ws.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 0xff})
	ws.SetReadDeadline(time.Now().Add(sjWait))
	if typ, m, err := ws.ReadMessage(); err != nil || typ != websocket.BinaryMessage || string(m) != "\x00\x01\xff" {
		t.Fatalf("binary echo: %d %q %v", typ, m, err)
	}
	c := e.dialWS("/close/websocket", nil)
	err := wsClosed(t, c)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 3000 || ce.Text != "Go away!" {
		t.Errorf("raw close: %v, want 3000 Go away!", err)
	}
}

// The server escapes what the protocol lists, and decodes every escape a
// client may send.
func TestSockJSJSONEncoding(t *testing.T) {
	e := newSJEnv(t, nil)
	var raw, esc strings.Builder
	for r := rune(0x100); r <= 0xffff; r++ {
		if r >= 0x200c && r <= 0x200f || r >= 0x2028 && r <= 0x202f || r >= 0x2060 && r <= 0x206f || r >= 0xfff0 {
			raw.WriteRune(r)
			fmt.Fprintf(&esc, `\u%04x`, r)
		}
	}
	u := e.sessionURL("/echo")
	wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
	b, _ := json.Marshal([]string{raw.String()})
	wantStatus(t, "send", e.do("POST", u+"/xhr_send", string(b)), 204)
	got := strings.TrimSpace(e.do("POST", u+"/xhr", "").body)
	if got != `a["`+esc.String()+`"]` {
		t.Errorf("server encoding:\n got %s\nwant a[\"%s\"]", got, esc.String())
	}

	// Every character a client may escape, escaped, comes back as itself.
	var all strings.Builder
	var want []rune
	for r := rune(0); r <= 0xffff; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue
		}
		fmt.Fprintf(&all, `\u%04x`, r)
		want = append(want, r)
	}
	u = e.sessionURL("/echo")
	wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
	// In pieces of 4096 characters, each well under MaxMessageSize.
	esc6 := all.String()
	var pieces []string
	for i := 0; i < len(esc6); i += 6 * 4096 {
		pieces = append(pieces, `"`+esc6[i:min(i+6*4096, len(esc6))]+`"`)
	}
	wantStatus(t, "send all", e.do("POST", u+"/xhr_send", "["+strings.Join(pieces, ",")+"]"), 204)
	var back []string
	for len(back) < len(pieces) { // a poll carries up to MaxBatchBytes
		var some []string
		body := strings.TrimSpace(e.do("POST", u+"/xhr", "").body)
		if err := json.Unmarshal([]byte(strings.TrimPrefix(body, "a")), &some); err != nil || len(some) == 0 {
			t.Fatalf("poll %q: %v", body[:min(len(body), 20)], err)
		}
		back = append(back, some...)
	}
	if strings.Join(back, "") != string(want) {
		t.Errorf("decoding every escape: %d messages differ", len(back))
	}
}

func TestSockJSHandlingClose(t *testing.T) {
	e := newSJEnv(t, nil)
	t.Run("close frame", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/close")
		r1, _ := e.stream("POST", u+"/xhr_streaming")
		r1.chunk()
		if c := r1.chunk() + r1.chunk(); c != "o\nc[3000,\"Go away!\"]\n" {
			t.Fatalf("got %q", c)
		}
		r2, _ := e.stream("POST", u+"/xhr_streaming")
		r2.chunk()
		if c := r2.chunk(); c != "c[3000,\"Go away!\"]\n" {
			t.Fatalf("second stream: %q", c)
		}
		if r1.chunk() != "" || r2.chunk() != "" {
			t.Fatal("streams did not end after the close frame")
		}
	})
	t.Run("close request", func(t *testing.T) {
		e := e.in(t)
		u := e.sessionURL("/echo")
		r1, _ := e.stream("POST", u+"/xhr_streaming")
		r1.chunk()
		if c := r1.chunk(); c != "o\n" {
			t.Fatalf("got %q", c)
		}
		r2, _ := e.stream("POST", u+"/xhr_streaming")
		r2.chunk()
		if c := r2.chunk(); c != "c[2010,\"Another connection still open\"]\n" {
			t.Fatalf("got %q", c)
		}
		if c := r2.chunk(); c != "" {
			t.Fatalf("refused stream goes on: %q", c)
		}
		// The first one still works.
		wantStatus(t, "send", e.do("POST", u+"/xhr_send", `["z"]`), 204)
		if c := r1.chunk(); c != "a[\"z\"]\n" {
			t.Fatalf("first stream: %q", c)
		}
	})
	for _, name := range []string{"xhr_streaming", "xhr"} {
		t.Run("abort "+name, func(t *testing.T) {
			e := e.in(t)
			for range 10 { // the abort races the next request
				u := e.sessionURL("/echo")
				if name == "xhr" {
					wantBody(t, "open", e.do("POST", u+"/xhr", ""), "o\n")
				}
				r1 := e.dial()
				r1.send("POST", u+"/"+name, "HTTP/1.1", "")
				if name == "xhr_streaming" {
					r1.head()
					r1.chunk()
					if c := r1.chunk(); c != "o\n" {
						t.Fatalf("got %q", c)
					}
				} else {
					time.Sleep(20 * time.Millisecond) // let it attach
				}
				r := e.do("POST", u+"/"+name, "")
				if !strings.Contains(r.body, "c[2010,\"Another connection still open\"]\n") {
					t.Fatalf("second receiver got %q", r.body)
				}
				r1.c.Close()
				r3 := e.dial()
				h := r3.request("POST", u+"/"+name, "HTTP/1.1", "")
				var body string
				if name == "xhr_streaming" {
					r3.chunk() // prelude
					body = r3.chunk()
				} else {
					body = r3.body(h)
				}
				if body != "o\n" && body != "c[1002,\"Connection interrupted\"]\n" {
					t.Fatalf("after the abort: %q", body)
				}
				r3.c.Close()
			}
		})
	}
}

func TestSockJSHTTP10(t *testing.T) {
	e := newSJEnv(t, nil)
	sc := e.dial()
	r := sc.request("GET", "/echo", "HTTP/1.0", "", "Connection", "Keep-Alive")
	wantStatus(t, "greeting", r, 200)
	if r.header.Get("Transfer-Encoding") != "" || r.header.Get("Content-Length") != "19" {
		t.Fatalf("HTTP/1.0 greeting headers: %v", r.header)
	}
	if b := sc.read(19); b != "Welcome to SockJS!\n" {
		t.Fatalf("body %q", b)
	}
	if c := strings.ToLower(r.header.Get("Connection")); c == "keep-alive" {
		r = sc.request("GET", "/echo", "HTTP/1.0", "", "Connection", "Keep-Alive")
		wantStatus(t, "second greeting", r, 200)
	} else if !sc.closed() {
		t.Fatal("connection neither kept alive nor closed")
	}

	sc = e.dial()
	r = sc.request("POST", e.sessionURL("/close")+"/xhr_streaming", "HTTP/1.0", "", "Connection", "Keep-Alive")
	wantStatus(t, "stream", r, 200)
	if r.header.Get("Transfer-Encoding") != "" || r.header.Get("Content-Length") != "" {
		t.Fatalf("HTTP/1.0 stream headers: %v", r.header)
	}
	if p := sc.read(2049); p[0] != 'h' {
		t.Fatalf("prelude %q", p[:10])
	}
	if b := sc.read(2) + sc.read(19); b != "o\nc[3000,\"Go away!\"]\n" {
		t.Fatalf("got %q", b)
	}
	if !sc.closed() {
		t.Fatal("HTTP/1.0 stream did not end with the connection")
	}
}

func TestSockJSHTTP11(t *testing.T) {
	e := newSJEnv(t, nil)
	sc := e.dial()
	r := sc.request("GET", "/echo", "HTTP/1.1", "", "Connection", "Keep-Alive")
	if c := strings.ToLower(r.header.Get("Connection")); c != "" && c != "keep-alive" {
		t.Errorf("Connection %q", c)
	}
	if b := sc.body(r); b != "Welcome to SockJS!\n" {
		t.Fatalf("body %q", b)
	}
	wantStatus(t, "again", sc.request("GET", "/echo", "HTTP/1.1", "", "Connection", "Keep-Alive"), 200)

	sc, r = e.stream("POST", e.sessionURL("/close")+"/xhr_streaming", "Connection", "Keep-Alive")
	if r.header.Get("Content-Length") != "" {
		t.Errorf("Content-Length on a stream")
	}
	if c := sc.chunk(); c[0] != 'h' {
		t.Fatalf("prelude %q", c)
	}
	if c := sc.chunk() + sc.chunk() + sc.chunk(); c != "o\nc[3000,\"Go away!\"]\n" {
		t.Fatalf("got %q", c)
	}
}
