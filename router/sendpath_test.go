package router_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

// A send request runs OnMessage before it answers (when no callback is
// running): the echo is logged by the time the client reads the send's
// answer, and the poll after it carries the echo without an ack the send
// answer already gave.
func TestSendDeliversBeforeAnswering(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s := startServer(t, func(c *session.Session) {
		c.OnMessage(func(m session.Message) {
			if m.Text() == "hold" {
				close(entered)
				<-release
			}
			c.Send(m.Text())
		})
	}, fastOpts())
	c := s.openLP(t, nil)
	answered := make(chan []byte, 1)
	go func() {
		_, body, _ := c.send(context.Background(), append(protocol.AppendText(nil, 1, []byte("hold")), '\n'))
		answered <- body
	}()
	c.out = 1
	<-entered
	select {
	case body := <-answered:
		t.Fatalf("the send was answered (%q) while its message's callback ran", body)
	case <-time.After(50 * time.Millisecond): // a negative: no answer meanwhile
	}
	close(release)
	if body := <-answered; string(body) != "a1\n" {
		t.Fatalf("send answered %q, want a1", body)
	}
	for i := uint64(1); i <= 3; i++ {
		if i > 1 {
			c.SendText(t, "hi")
		}
		frames, body := c.mustPoll(t, i-1)
		if len(frames) != 1 || frames[0].Type != protocol.FrameText || frames[0].Seq != i {
			t.Fatalf("poll %d answered %q, want message %d alone (the send answer had the ack)", i, body, i)
		}
	}
	// The native polling carrier, answered at once, finds the echo there.
	c.SendText(t, "now")
	_, body := s.mustDo(t, http.MethodGet, "/polling?sid="+c.open.SID+"&ack=3", c.tokenHeader(), nil)
	if f := mustDecode(t, body); len(f) != 1 || string(f[0].Data) != "now" {
		t.Fatalf("polling answered %q, want the echo", body)
	}
}

// SockJS xhr_send delivers inline too: its 204 comes after OnMessage ran.
func TestSockJSSendDeliversBeforeAnswering(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	o := sjOpts()
	sj := router.NewSockJS("/s", func(c *session.Session) {
		c.OnMessage(func(m session.Message) {
			if m.Text() == "hold" {
				close(entered)
				<-release
			}
			c.Send(m.Text())
		})
	}, &o)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		sj.Shutdown(ctx)
	})
	base := sjServe(t, sj) + "/s/000/inline"
	post := func(path, body string) (int, string) {
		resp, err := http.Post(base+path, "text/plain", strings.NewReader(body))
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if _, body := post("/xhr", ""); body != "o\n" {
		t.Fatalf("open: %q", body)
	}
	answered := make(chan int, 1)
	go func() {
		status, _ := post("/xhr_send", `["hold"]`)
		answered <- status
	}()
	<-entered
	select {
	case status := <-answered:
		t.Fatalf("xhr_send was answered (%d) while its message's callback ran", status)
	case <-time.After(50 * time.Millisecond): // a negative: no answer meanwhile
	}
	close(release)
	if status := <-answered; status != http.StatusNoContent {
		t.Fatalf("xhr_send: %d", status)
	}
	for i := 0; i < 3; i++ {
		if i > 0 {
			if status, _ := post("/xhr_send", `["x"]`); status != http.StatusNoContent {
				t.Fatalf("xhr_send: %d", status)
			}
		}
		want := "a[\"x\"]\n"
		if i == 0 {
			want = "a[\"hold\"]\n"
		}
		if _, body := post("/xhr", ""); body != want {
			t.Fatalf("xhr answered %q, want %q", body, want)
		}
	}
}

// headerMangler wraps a ResponseWriter and, as some middleware does,
// rewrites header values in place, adds to them and replaces them just
// before the answer goes out.
type headerMangler struct{ http.ResponseWriter }

func (m headerMangler) Write(b []byte) (int, error) {
	h := m.Header()
	for _, v := range h {
		for i := range v {
			v[i] = "mangled " + v[i]
		}
	}
	h.Add("Cache-Control", "private")
	h.Add("X-Content-Type-Options", "extra")
	h.Set("Content-Type", "text/x-mangled")
	return m.ResponseWriter.Write(b)
}

// Answers set their headers with one allocation (transports.SetHeaders),
// never with values shared between answers: a wrapping handler that
// changes one answer's headers, even in place, changes no other.
func TestAnswerHeadersNotShared(t *testing.T) {
	rt := router.New(func(c *session.Session) {
		c.OnMessage(func(m session.Message) { c.Send(m.Text()) })
	}, fastOpts())
	var mangle atomic.Bool
	s := startMounted(t, rt, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mangle.Load() {
			w = headerMangler{w}
		}
		rt.ServeHTTP(w, r)
	}), "/t")
	c := s.openLP(t, nil)
	mangle.Store(true)
	c.SendText(t, "one")
	resp, _, err := c.poll(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Values("Cache-Control"); len(got) != 2 || !strings.HasPrefix(got[0], "mangled") {
		t.Fatalf("mangled answer's Cache-Control = %q, want the middleware's doing", got)
	}
	if got := resp.Header.Values("X-Content-Type-Options"); len(got) != 2 || got[0] != "mangled nosniff" {
		t.Fatalf("mangled answer's X-Content-Type-Options = %q, want the middleware's doing", got)
	}
	mangle.Store(false)
	for _, path := range []string{"/send?sid=" + c.open.SID, "/longpoll?sid=" + c.open.SID + "&ack=1"} {
		method, body := http.MethodGet, []byte(nil)
		if strings.HasPrefix(path, "/send") {
			c.out++
			method, body = http.MethodPost, protocol.AppendText(nil, c.out, []byte("two"))
		}
		resp, _ := s.mustDo(t, method, path, c.tokenHeader(), body)
		h := resp.Header
		if got := h.Values("Cache-Control"); len(got) != 1 || !strings.HasPrefix(got[0], "no-store") {
			t.Errorf("%s: Cache-Control = %q after a mangled answer", path, got)
		}
		if got := h.Values("Content-Type"); len(got) != 1 || got[0] != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type = %q after a mangled answer", path, got)
		}
		if got := h.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q after a mangled answer", path, got)
		}
	}
}

// Every answer that carries frames is never stored and never sniffed:
// the handshake's, polling's (the app's messages, as text/plain), a
// send's and a close frame's, as a held poll's and JSONP's (SPEC.md §5).
func TestAnswersNeverSniffed(t *testing.T) {
	rt := router.New(func(c *session.Session) { c.Send("hi") }, fastOpts())
	s := startMounted(t, rt, rt, "/t")
	resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: protocol.Polling}, nil)
	o := decodeOpen(t, body)
	tok := http.Header{"X-Tether-Token": {o.Token}}
	answers := map[string]*http.Response{"handshake": resp}
	answers["polling"], body = s.mustDo(t, http.MethodGet, "/polling?sid="+o.SID+"&ack=0", tok, nil)
	if !bytes.Contains(body, []byte("hi")) {
		t.Fatalf("polling answer %q, want the app's message", body)
	}
	answers["send"], _ = s.mustDo(t, http.MethodPost, "/send?sid="+o.SID, tok, protocol.AppendText(nil, 1, []byte("x")))
	answers["close"], body = s.mustDo(t, http.MethodGet, "/polling?sid=nosuch&ack=0", tok, nil)
	if !isClose(body, protocol.CloseSessionLost) {
		t.Fatalf("unknown session answered %q, want c4200", body)
	}
	for name, resp := range answers {
		h := resp.Header
		if resp.StatusCode != http.StatusOK || h.Get("Content-Type") != "text/plain; charset=utf-8" ||
			!strings.HasPrefix(h.Get("Cache-Control"), "no-store") {
			t.Errorf("%s: %d, headers %v", name, resp.StatusCode, h)
		}
		if got := h.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", name, got)
		}
	}
}

// A JSONP page's form send cannot read its answer, so its polls are its
// only source of acks: a poll answers as soon as an ack is due, with the
// ack alone when the app sent nothing (an app that never answers must not
// leave the client's outbox to fill up), and once told, the ack does not
// ride on the next messages again.
func TestJSONPPollsCarryAcks(t *testing.T) {
	conns := make(chan *session.Session, 1)
	opts := fastOpts()
	// No heartbeat to end a poll: each answer below comes from what the
	// session has, or the poll hangs and the request times out.
	opts.HeartbeatInterval, opts.HeartbeatTimeout = time.Hour, 2*time.Hour
	s := startServer(t, func(c *session.Session) {
		conns <- c
		c.OnMessage(func(m session.Message) {
			if m.Text() == "loud" {
				c.Send("re: " + m.Text())
			}
		})
	}, opts)
	q := url.Values{"transport": {protocol.JSONP}, "v": {"1"}, "c": {jsonpCallback}}
	_, body := s.mustDo(t, http.MethodGet, "/handshake?"+q.Encode(), nil, nil)
	o := decodeOpen(t, unwrapJSONP(t, jsonpCallback, body))
	conn := <-conns
	send := func(seq uint64, text string) {
		t.Helper()
		form := url.Values{"token": {o.Token}, "d": {string(protocol.AppendText(nil, seq, []byte(text)))}}
		hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		if resp, body := s.mustDo(t, http.MethodPost, "/send?sid="+o.SID, hdr, []byte(form.Encode())); resp.StatusCode != http.StatusOK {
			t.Fatalf("form send: %d %q", resp.StatusCode, body)
		}
	}
	var last uint64
	poll := func() []protocol.Frame {
		t.Helper()
		q := url.Values{"sid": {o.SID}, "token": {o.Token}, "ack": {strconv.FormatUint(last, 10)}, "c": {jsonpCallback}}
		_, body := s.mustDo(t, http.MethodGet, "/jsonp?"+q.Encode(), nil, nil)
		f := mustDecode(t, unwrapJSONP(t, jsonpCallback, body))
		for _, fr := range f {
			if fr.Type == protocol.FrameText {
				last = fr.Seq
			}
		}
		return f
	}
	send(1, "quiet")
	if f := poll(); len(f) != 1 || f[0].Type != protocol.FrameAck || f[0].Seq != 1 {
		t.Fatalf("poll after a quiet send answered %v, want a1 alone", f)
	}
	conn.Send("news")
	if f := poll(); len(f) != 1 || string(f[0].Data) != "news" {
		t.Fatalf("poll answered %v, want the news without the ack told already", f)
	}
	send(2, "loud")
	if f := poll(); len(f) != 2 || f[0].Type != protocol.FrameAck || f[0].Seq != 2 || string(f[1].Data) != "re: loud" {
		t.Fatalf("poll answered %v, want a2 riding on the reply", f)
	}
}

// A JSONP poll that was parked (hijacked from net/http, waiting on the
// session's wake-up callback rather than on a goroutine) is answered with
// the ack as soon as a form send makes it due, not at its heartbeat, an
// hour away here. This is the whole path through the router. The hijack
// signal comes before the parked poll has set its wake-ups, so the form
// send may land before them and be answered by park's catch-up look; the
// wake-up itself is pinned by transports' TestParkedJSONPTakesAck, which
// waits on the parked poll's own hook.
func TestParkedJSONPPollTakesAck(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("polls are parked on Linux only")
	}
	opts := fastOpts()
	opts.ParkAfter = time.Nanosecond
	opts.HeartbeatInterval, opts.HeartbeatTimeout = time.Hour, 2*time.Hour
	s, hijacked := startWatched(t, opts)
	q := url.Values{"transport": {protocol.JSONP}, "v": {"1"}, "c": {jsonpCallback}}
	_, body := s.mustDo(t, http.MethodGet, "/handshake?"+q.Encode(), nil, nil)
	o := decodeOpen(t, unwrapJSONP(t, jsonpCallback, body))

	polled := make(chan []byte, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		q := url.Values{"sid": {o.SID}, "token": {o.Token}, "ack": {"0"}, "c": {jsonpCallback}}
		_, body, _ := s.do(ctx, http.MethodGet, "/jsonp?"+q.Encode(), nil, nil)
		polled <- body
	}()
	select {
	case <-hijacked:
	case <-time.After(wait):
		t.Fatal("the poll was not parked")
	}
	form := url.Values{"token": {o.Token}, "d": {string(protocol.AppendText(nil, 1, []byte("quiet")))}}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if resp, body := s.mustDo(t, http.MethodPost, "/send?sid="+o.SID, hdr, []byte(form.Encode())); resp.StatusCode != http.StatusOK {
		t.Fatalf("form send: %d %q", resp.StatusCode, body)
	}
	body = <-polled // within wait, or empty
	if f := mustDecode(t, unwrapJSONP(t, jsonpCallback, body)); len(f) != 1 || f[0].Type != protocol.FrameAck || f[0].Seq != 1 {
		t.Fatalf("parked poll answered %v, want a1 alone", f)
	}
}
