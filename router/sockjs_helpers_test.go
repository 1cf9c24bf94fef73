package router_test

// Helpers of the SockJS dialect's tests: a server with the four services
// the official SockJS protocol suite expects, and a raw HTTP/1.x client
// that sees what the suite sees (status line, headers, chunk boundaries,
// the connection closing), without net/http's client in between.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

// sjWait bounds every wait of these tests.
const sjWait = 5 * time.Second

var sjQuiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// sjEnv is a test server with the suite's four services under /echo,
// /close, /disabled_websocket_echo and /cookie_needed_echo, each a SockJS
// router with its own options, and an app that records what it sees.
type sjEnv struct {
	t       testing.TB
	srv     *httptest.Server
	base    string // http://host:port
	routers map[string]*router.SockJS
	app     *sjApp
}

// sjApp records the sessions the services opened and the closes they saw.
type sjApp struct {
	mu     sync.Mutex
	conns  []*session.Session
	closes map[*session.Session]string
	opened chan *session.Session
}

func (a *sjApp) add(c *session.Session) {
	a.mu.Lock()
	a.conns = append(a.conns, c)
	a.mu.Unlock()
	c.OnClose(func(code protocol.CloseCode, reason string) {
		a.mu.Lock()
		a.closes[c] = fmt.Sprintf("%d %s", code, reason)
		a.mu.Unlock()
	})
	select {
	case a.opened <- c:
	default:
	}
}

// closeOf returns how c was closed, or "" while it is open.
func (a *sjApp) closeOf(c *session.Session) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closes[c]
}

func (a *sjApp) echo(c *session.Session) {
	a.add(c)
	c.OnMessage(func(m session.Message) {
		if m.Binary {
			c.SendBinary(m.Data)
			return
		}
		c.Send(m.Text())
	})
}

// sjOpts is the options every service of a test starts from: the suite's
// server accepts every origin.
func sjOpts() router.SockJSOptions {
	return router.SockJSOptions{AllowedOrigins: []string{"*"}, Logger: sjQuiet}
}

// newSJEnv starts the four services; tweak, when set, adjusts each
// service's options.
func newSJEnv(t testing.TB, tweak func(prefix string, o *router.SockJSOptions)) *sjEnv {
	t.Helper()
	e := &sjEnv{t: t, routers: map[string]*router.SockJS{},
		app: &sjApp{closes: map[*session.Session]string{}, opened: make(chan *session.Session, 64)}}
	services := []struct {
		prefix string
		h      router.Handler
		opts   func(*router.SockJSOptions)
	}{
		{"/echo", e.app.echo, func(o *router.SockJSOptions) { o.ResponseLimit = 4096 }},
		{"/close", func(c *session.Session) { e.app.add(c); c.Close(3000, "Go away!") }, nil},
		{"/disabled_websocket_echo", e.app.echo, func(o *router.SockJSOptions) { o.DisableWebSocket = true }},
		{"/cookie_needed_echo", e.app.echo, func(o *router.SockJSOptions) { o.JSessionID = router.DefaultJSessionID }},
	}
	for _, sv := range services {
		o := sjOpts()
		if sv.opts != nil {
			sv.opts(&o)
		}
		if tweak != nil {
			tweak(sv.prefix, &o)
		}
		e.routers[sv.prefix] = router.NewSockJS(sv.prefix, sv.h, &o)
	}
	// Dispatch by prefix by hand: http.ServeMux would clean (redirect)
	// the malformed paths whose 404s the tests check.
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for prefix, rt := range e.routers {
			if r.URL.Path == prefix || strings.HasPrefix(r.URL.Path, prefix+"/") {
				rt.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
	}))
	e.base = e.srv.URL
	t.Cleanup(e.close)
	return e
}

// sjServe serves h on a test server closed with the test, and returns
// its URL.
func sjServe(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// in returns e for a subtest: failures must go to the test that runs.
func (e *sjEnv) in(t testing.TB) *sjEnv {
	c := *e
	c.t = t
	return &c
}

func (e *sjEnv) close() {
	ctx, cancel := context.WithTimeout(context.Background(), sjWait)
	defer cancel()
	for _, rt := range e.routers {
		if err := rt.Shutdown(ctx); err != nil {
			e.t.Errorf("Shutdown: %v", err)
		}
	}
	e.srv.Close()
}

// sessionURL returns a new session's URL under prefix: /000/<uuid>.
func (e *sjEnv) sessionURL(prefix string) string {
	return prefix + "/000/" + uuid.NewString()
}

// sjResp is an answer as the raw client read it.
type sjResp struct {
	proto  string
	status int
	header http.Header
	body   string // for do(): the whole body
}

// sjConn is one raw HTTP/1.x connection.
type sjConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func (e *sjEnv) dial() *sjConn {
	e.t.Helper()
	c, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	sc := &sjConn{t: e.t, c: c, br: bufio.NewReader(c)}
	e.t.Cleanup(func() { c.Close() })
	return sc
}

// request writes a request and reads the status line and headers. hdr is
// name, value pairs.
func (sc *sjConn) request(method, path, proto, body string, hdr ...string) *sjResp {
	sc.t.Helper()
	sc.send(method, path, proto, body, hdr...)
	return sc.head()
}

// send writes a request.
func (sc *sjConn) send(method, path, proto, body string, hdr ...string) {
	sc.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\r\nHost: %s\r\n", method, path, proto, sc.c.RemoteAddr())
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	if method == http.MethodPost || body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	sc.c.SetDeadline(time.Now().Add(sjWait))
	if _, err := io.WriteString(sc.c, b.String()); err != nil {
		sc.t.Fatal(err)
	}
}

// head reads an answer's status line and headers.
func (sc *sjConn) head() *sjResp {
	sc.t.Helper()
	line := sc.line()
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 {
		sc.t.Fatalf("bad status line %q", line)
	}
	status, _ := strconv.Atoi(parts[1])
	r := &sjResp{proto: parts[0], status: status, header: http.Header{}}
	for {
		l := sc.line()
		if l == "" {
			return r
		}
		k, v, _ := strings.Cut(l, ":")
		r.header.Add(k, strings.TrimSpace(v))
	}
}

func (sc *sjConn) line() string {
	sc.t.Helper()
	sc.arm()
	l, err := sc.br.ReadString('\n')
	if err != nil {
		sc.t.Fatalf("reading a line: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// arm gives the next read sjWait of its own. A stream's reads follow
// several requests on other connections; one deadline set when the stream
// was opened would have to cover them all, which a loaded machine can
// outlast.
func (sc *sjConn) arm() { sc.c.SetReadDeadline(time.Now().Add(sjWait)) }

// chunk reads one chunk of a chunked body; "" is the last one.
func (sc *sjConn) chunk() string {
	sc.t.Helper()
	n, err := strconv.ParseInt(sc.line(), 16, 32)
	if err != nil {
		sc.t.Fatalf("bad chunk size: %v", err)
	}
	buf := make([]byte, n+2)
	sc.arm()
	if _, err := io.ReadFull(sc.br, buf); err != nil {
		sc.t.Fatalf("reading a %d-byte chunk: %v", n, err)
	}
	return string(buf[:n])
}

// read reads exactly n bytes.
func (sc *sjConn) read(n int) string {
	sc.t.Helper()
	buf := make([]byte, n)
	sc.arm()
	if _, err := io.ReadFull(sc.br, buf); err != nil {
		sc.t.Fatalf("reading %d bytes: %v (got %q)", n, err, buf)
	}
	return string(buf)
}

// closed reports whether the server closed the connection: the next read
// is EOF, within a short wait.
func (sc *sjConn) closed() bool {
	sc.c.SetReadDeadline(time.Now().Add(time.Second))
	_, err := sc.br.ReadByte()
	return err == io.EOF
}

// body reads a response's whole body: by Content-Length, chunks, or to
// the end of the connection.
func (sc *sjConn) body(r *sjResp) string {
	sc.t.Helper()
	switch {
	case r.status == http.StatusNoContent || r.status == http.StatusNotModified || r.status == http.StatusSwitchingProtocols:
		return ""
	case strings.EqualFold(r.header.Get("Transfer-Encoding"), "chunked"):
		var b strings.Builder
		for {
			c := sc.chunk()
			if c == "" {
				return b.String() // chunk read the blank line that ends the body
			}
			b.WriteString(c)
		}
	case r.header.Get("Content-Length") != "":
		n, _ := strconv.Atoi(r.header.Get("Content-Length"))
		return sc.read(n)
	}
	b, err := io.ReadAll(sc.br)
	if err != nil {
		sc.t.Fatal(err)
	}
	return string(b)
}

// do runs one request on a connection of its own and reads the answer.
func (e *sjEnv) do(method, path, body string, hdr ...string) *sjResp {
	e.t.Helper()
	sc := e.dial()
	defer sc.c.Close()
	r := sc.request(method, path, "HTTP/1.1", body, append(hdr, "Connection", "close")...)
	r.body = sc.body(r)
	return r
}

// stream starts a streaming request and checks its status.
func (e *sjEnv) stream(method, path string, hdr ...string) (*sjConn, *sjResp) {
	e.t.Helper()
	sc := e.dial()
	r := sc.request(method, path, "HTTP/1.1", "", hdr...)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s %s: status %d", method, path, r.status)
	}
	if !strings.EqualFold(r.header.Get("Transfer-Encoding"), "chunked") {
		e.t.Fatalf("%s %s: not chunked: %v", method, path, r.header)
	}
	return sc, r
}

// wsURL returns the ws:// URL of path.
func (e *sjEnv) wsURL(path string) string { return "ws" + strings.TrimPrefix(e.base, "http") + path }

// dialWS opens a WebSocket to path.
func (e *sjEnv) dialWS(path string, hdr http.Header) *websocket.Conn {
	e.t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL(path), hdr)
	if err != nil {
		e.t.Fatalf("dial %s: %v (%v)", path, err, resp)
	}
	e.t.Cleanup(func() { ws.Close() })
	return ws
}

// wsRecv reads one text message.
func wsRecv(t testing.TB, ws *websocket.Conn) string {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(sjWait))
	typ, msg, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("reading a WebSocket message: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("got a message of type %d, want text", typ)
	}
	return string(msg)
}

// wsClosed waits for the connection's end and returns the close error.
func wsClosed(t testing.TB, ws *websocket.Conn) error {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(sjWait))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		t.Errorf("got %q, want the connection to end", msg)
	}
}

// check helpers

func wantStatus(t testing.TB, what string, r *sjResp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d (body %q)", what, r.status, status, r.body)
	}
}

func wantBody(t testing.TB, what string, r *sjResp, body string) {
	t.Helper()
	if r.body != body {
		t.Fatalf("%s: body %q, want %q", what, r.body, body)
	}
}

func wantHeader(t testing.TB, what string, r *sjResp, name, value string) {
	t.Helper()
	if got := r.header.Get(name); got != value {
		t.Errorf("%s: %s is %q, want %q", what, name, got, value)
	}
}

// wantContentType compares Content-Type ignoring spaces, as the suite does.
func wantContentType(t testing.TB, what string, r *sjResp, ct string) {
	t.Helper()
	if got := strings.ReplaceAll(r.header.Get("Content-Type"), " ", ""); got != ct {
		t.Errorf("%s: Content-Type %q, want %q", what, got, ct)
	}
}

// wantNotCached checks the no-cache headers of every private GET or POST.
func wantNotCached(t testing.TB, what string, r *sjResp) {
	t.Helper()
	wantHeader(t, what, r, "Cache-Control", "no-store, no-cache, no-transform, must-revalidate, max-age=0")
	wantHeader(t, what, r, "Expires", "")
	wantHeader(t, what, r, "Last-Modified", "")
}

// wantCachedForYear checks the one-year cache headers.
func wantCachedForYear(t testing.TB, what string, r *sjResp) {
	t.Helper()
	cc := r.header.Get("Cache-Control")
	if !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("%s: Cache-Control %q, want public, max-age=31536000", what, cc)
	}
	exp, err := http.ParseTime(r.header.Get("Expires"))
	if err != nil || exp.Before(time.Now().Add(364*24*time.Hour)) {
		t.Errorf("%s: Expires %q, want a year ahead", what, r.header.Get("Expires"))
	}
}

// wantCORS checks the CORS answer for origin ("" means none was sent).
func wantCORS(t testing.TB, what string, r *sjResp, origin string) {
	t.Helper()
	if origin == "" {
		wantHeader(t, what, r, "Access-Control-Allow-Origin", "*")
		wantHeader(t, what, r, "Access-Control-Allow-Credentials", "")
		return
	}
	wantHeader(t, what, r, "Access-Control-Allow-Origin", origin)
	wantHeader(t, what, r, "Access-Control-Allow-Credentials", "true")
}

// wantCookie checks the JSESSIONID cookie.
func wantCookie(t testing.TB, what string, r *sjResp, value string) {
	t.Helper()
	c := r.header.Get("Set-Cookie")
	name, rest, _ := strings.Cut(c, ";")
	if strings.TrimSpace(name) != "JSESSIONID="+value || strings.ToLower(strings.TrimSpace(strings.Split(rest, ";")[0])) != "path=/" {
		t.Errorf("%s: Set-Cookie %q, want JSESSIONID=%s; path=/", what, c, value)
	}
}

func formHeader() []string { return []string{"Content-Type", "application/x-www-form-urlencoded"} }

// form encodes a jsonp_send form body.
func form(d string) string { return "d=" + url.QueryEscape(d) }
