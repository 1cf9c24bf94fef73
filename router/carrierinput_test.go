package router_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/hub"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// TestJSONPBadCallback: a callback name with '<', with '(', or over 64
// bytes (and a few other bad ones) is refused with 400 and a reason, on
// the receive path and on the GET handshake, new or resume, before any
// session is touched: no session is created, no ack moves, no receiver
// attaches, the session's transport does not change.
func TestJSONPBadCallback(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openCarrier(t, protocol.JSONP)
	as := a.session(t, c.Open().SID)
	told := make(chan string, 16)
	as.c.OnTransport(func(name string) { told <- name }) // set before any attach

	bad := []string{"a<b", "</script><script>alert(1)//", "alert(1)", "f(", strings.Repeat("a", 65),
		"", "a b", "a\"b", "a;b", "a-b", "a\u00e9", "a\nb", "a/b"}
	for _, cb := range bad {
		q := url.Values{"sid": {c.st.sid}, "ack": {"1"}, "token": {c.st.token}, "c": {cb}}
		hs := url.Values{"transport": {protocol.JSONP}, "v": {"1"}, "c": {cb}}
		resume := url.Values{"transport": {protocol.JSONP}, "v": {"1"}, "c": {cb},
			"sid": {c.st.sid}, "token": {c.st.token}, "last": {"1"}}
		for _, path := range []string{"/jsonp?" + q.Encode(), "/handshake?" + hs.Encode(), "/handshake?" + resume.Encode()} {
			resp, body := s.mustDo(t, http.MethodGet, path, nil, nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "callback") {
				t.Fatalf("GET %s answered %d %q, want 400 with a reason", path, resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("GET %s answered as %q", path, ct)
			}
			if len(cb) > 1 && len(cb) < 65 && strings.Contains(string(body), cb) {
				t.Fatalf("GET %s echoed the callback: %q", path, body)
			}
		}
	}
	if n, seen := s.rt.Sessions(), a.count(); n != 1 || seen != 1 {
		t.Fatalf("%d sessions held and %d seen by the app after the refusals, want 1", n, seen)
	}
	// The longest valid name works, and message 1 was not acknowledged:
	// the first poll (with ack=0) still carries it, and is not refused as
	// a second receiver.
	c.cb = strings.Repeat("a", 64)
	expectText(t, c.Next(t), 1, "Welcome")
	if c.busy != 0 {
		t.Fatalf("a refused request left a receiver attached (%d refusals)", c.busy)
	}
	select {
	case name := <-told:
		t.Fatalf("OnTransport was told %q", name)
	default:
	}
	c.SendText(t, "ok")
	expectText(t, c.Next(t), 2, "new message: ok")
}

// TestJSONPEscaping: a JSONP answer is a script that no payload can break:
// nosniff, and '<', '>', '&', U+2028 and U+2029 escaped, so `</script>` in
// a message cannot end the script element; the page still gets the exact
// text back.
func TestJSONPEscaping(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openCarrier(t, protocol.JSONP)
	as := a.session(t, c.Open().SID)
	evil := "</script><script>alert(1)</script> <!-- & \u2028\u2029 \"q\" \\ ');"
	as.c.Send(evil)

	path, _ := c.receivePath()
	resp, body := s.mustDo(t, http.MethodGet, path, nil, nil)
	checkJSONPAnswer(t, resp, body) // type, nosniff, no raw < > & U+2028 U+2029
	if strings.Contains(strings.ToLower(string(body)), "</script") || strings.Contains(string(body), "<!--") {
		t.Fatalf("the answer can end its script element: %q", body)
	}
	frames := mustDecode(t, unwrapJSONP(t, c.cb, body))
	if len(frames) != 2 || string(frames[0].Data) != "Welcome" || string(frames[1].Data) != evil {
		t.Fatalf("the answer carries %+v", frames)
	}
	c.st.last = 2

	// The same text sent by the page through its form and echoed back.
	c.SendText(t, evil)
	expectText(t, c.Next(t), 3, "new message: "+evil)
	if got := as.waitTexts(t, 1); got[0] != evil {
		t.Fatalf("the app got %q", got[0])
	}
}

// TestSecondStreamingReceiver: while a streaming or eventsource answer is
// attached, another receive request, whatever its carrier, is answered
// with c4103 in that carrier's format. The stream then gives way with
// c4100 (its client has most likely lost it to a silent network, SPEC.md
// §5), and the next receive request attaches and gets what was sent
// meanwhile: nothing is lost.
func TestSecondStreamingReceiver(t *testing.T) {
	busy := "c4103:\"another receiver is attached\"\n"
	for _, stream := range []string{protocol.Streaming, protocol.EventSource} {
		for _, r := range []struct {
			carrier string
			query   string // after sid= and ack=
			header  bool   // the token in X-Tether-Token
			want    string
		}{
			{protocol.Streaming, "", true, busy},
			{protocol.LongPoll, "", true, busy},
			{protocol.Polling, "", true, busy},
			{protocol.EventSource, "&token=", false, "data: " + strings.TrimSuffix(busy, "\n") + "\n\n"},
			{protocol.JSONP, "&c=cb&token=", false, "/**/cb(\"c4103:\\\"another receiver is attached\\\"\\n\");\n"},
			{protocol.WebSocket, "", false, ""},
		} {
			t.Run(stream+"/"+r.carrier, func(t *testing.T) {
				a := newApp()
				s := startServer(t, a.handler, carrierOpts())
				c := s.openCarrier(t, stream)
				as := a.session(t, c.Open().SID)
				expectText(t, c.Next(t), 1, "Welcome") // the answer is open and attached

				if r.carrier == protocol.WebSocket {
					conn, f := s.dialHelloOnce(t, protocol.Hello{SID: c.st.sid, Token: c.st.token, Last: 1})
					if f.Type != protocol.FrameClose || f.Code != protocol.CloseReceiverBusy {
						t.Fatalf("WebSocket while a stream is attached answered %v, want c4103", f)
					}
					if code, _ := closeCode(t, conn); code != int(protocol.CloseReceiverBusy) {
						t.Fatalf("WebSocket close code %d, want 4103", code)
					}
				} else {
					path := fmt.Sprintf("/%s?sid=%s&ack=1%s", r.carrier, c.st.sid, r.query)
					if r.query != "" && strings.HasSuffix(r.query, "token=") {
						path += c.st.token
					}
					var hdr http.Header
					if r.header {
						hdr = http.Header{"X-Tether-Token": {c.st.token}}
					}
					resp, body := s.mustDo(t, http.MethodGet, path, hdr, nil)
					if resp.StatusCode != http.StatusOK || string(body) != r.want {
						t.Fatalf("GET %s while a stream is attached answered %d %q, want %q", path, resp.StatusCode, body, r.want)
					}
				}
				expectClose(t, c.Next(t), protocol.CloseCarrierReplaced, "carrier replaced")

				as.c.Send("pushed")
				resp, body := s.mustDo(t, http.MethodGet, fmt.Sprintf("/longpoll?sid=%s&ack=1", c.st.sid),
					http.Header{"X-Tether-Token": {c.st.token}}, nil)
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "m2:\"pushed\"") {
					t.Fatalf("the poll after the stream gave way answered %d %q, want message 2", resp.StatusCode, body)
				}
				if tr := as.c.Transport(); tr != protocol.LongPoll {
					t.Fatalf("Transport() = %q, want longpoll", tr)
				}
			})
		}
	}
}

// TestSendToClosedSession: after the app closed a session, a send (with
// the token in a header, or as a JSONP form) gets the close frame and
// delivers nothing; the app's own Send and Close get a *session.CloseError
// with the code and reason. Once the tombstone is collected, both get
// c4200.
func TestSendToClosedSession(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.DisconnectDelay = 300 * time.Millisecond
	s := startServer(t, a.handler, opts)
	c := s.openCarrier(t, protocol.LongPoll)
	as := a.session(t, c.Open().SID)
	if err := as.c.Close(3002, "reason"); err != nil {
		t.Fatal(err)
	}
	as.waitClosed(t)
	jc := &rawCarrier{s: s, name: protocol.JSONP, st: c.st} // the same session, sending by form
	for _, cc := range []*rawCarrier{c, jc} {
		if status, body := cc.post(t, []byte("m1:\"late\"\n")); status != http.StatusOK || string(body) != "c3002:\"reason\"\n" {
			t.Fatalf("%s send to a closed session answered %d %q, want c3002", cc.name, status, body)
		}
	}
	var ce *session.CloseError
	if err := as.c.Send("x"); !errors.As(err, &ce) || ce.Code != 3002 || ce.Reason != "reason" {
		t.Fatalf("Send on a closed Conn = %v, want CloseError{3002, reason}", err)
	}
	if err := as.c.SendBinary([]byte{1}); !errors.As(err, &ce) || ce.Code != 3002 {
		t.Fatalf("SendBinary on a closed Conn = %v", err)
	}
	if err := as.c.Close(1000, "again"); !errors.As(err, &ce) || ce.Code != 3002 {
		t.Fatalf("Close on a closed Conn = %v", err)
	}
	if _, texts, closes := as.snapshot(); len(texts) != 0 || len(closes) != 1 {
		t.Fatalf("after the close the app saw %q, closes %q", texts, closes)
	}
	// After the disconnect delay the tombstone is gone.
	waitFor(t, "the tombstone to be collected", func() bool { return s.rt.Sessions() == 0 })
	for _, cc := range []*rawCarrier{c, jc} {
		if status, body := cc.post(t, []byte("m1:\"late\"\n")); status != http.StatusOK || string(body) != "c4200:\"session lost\"\n" {
			t.Fatalf("%s send to a collected session answered %d %q, want c4200", cc.name, status, body)
		}
	}
}

// TestShutdownEveryCarrier: with one client on each carrier, Shutdown
// sends each c4202 (WebSocket, streaming and eventsource answers, held
// longpoll and jsonp requests, and a polling client that polls while
// Shutdown runs, and again after it returned), runs every OnClose with
// 4202, returns nil, and new handshakes get 503.
func TestShutdownEveryCarrier(t *testing.T) {
	a := newApp()
	pollingClosing := make(chan struct{})
	release := make(chan struct{})
	// The polling session's OnClose takes a while (Shutdown waits for it),
	// so that its client, which is attached only while it polls, polls
	// during Shutdown.
	a.closeHook = func(s *appSession, code protocol.CloseCode) {
		if s.transport == protocol.Polling {
			close(pollingClosing)
			<-release
		}
	}
	opts := carrierOpts()
	opts.HeartbeatInterval = time.Minute // held polls stay held
	opts.HeartbeatTimeout = time.Minute
	opts.DisconnectDelay = time.Minute
	s := startServer(t, a.handler, opts)

	clients := make(map[string]*rawCarrier)
	for _, name := range protocol.Carriers {
		c := s.openCarrier(t, name)
		expectText(t, c.Next(t), 1, "Welcome")
		clients[name] = c
	}
	held := map[string]<-chan []byte{
		protocol.LongPoll: clients[protocol.LongPoll].held(t),
		protocol.JSONP:    clients[protocol.JSONP].held(t),
	}

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.rt.Shutdown(ctx) }()
	select {
	case <-pollingClosing:
	case <-time.After(wait):
		close(release)
		t.Fatal("Shutdown did not close the polling session")
	}
	expectClose(t, clients[protocol.Polling].Next(t), protocol.CloseShutdown, "server shutting down")
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown did not return")
	}

	for _, name := range []string{protocol.WebSocket, protocol.Streaming, protocol.EventSource} {
		expectClose(t, clients[name].Next(t), protocol.CloseShutdown, "server shutting down")
	}
	if code, _ := closeCode(t, clients[protocol.WebSocket].conn); code != int(protocol.CloseShutdown) {
		t.Fatalf("WebSocket close code %d, want 4202", code)
	}
	for name, ch := range held {
		select {
		case body := <-ch:
			if !isClose(body, protocol.CloseShutdown) {
				t.Fatalf("the held %s request answered %q, want c4202", name, body)
			}
		case <-time.After(wait):
			t.Fatalf("the held %s request was not answered", name)
		}
	}
	for name, c := range clients {
		if got := a.session(t, c.st.sid).waitClosed(t); !reflect.DeepEqual(got, []string{"4202 server shutting down"}) {
			t.Fatalf("%s: OnClose calls %q", name, got)
		}
	}

	// A client that comes back after Shutdown returned (here: the polling
	// client, which was not attached) still hears c4202, not c4200.
	pl := clients[protocol.Polling]
	pl.closed, pl.idlePoll = false, false
	expectClose(t, pl.Next(t), protocol.CloseShutdown, "server shutting down")

	// No new session, on any carrier.
	for _, name := range protocol.Carriers {
		switch name {
		case protocol.WebSocket:
			conn, resp, err := s.dialWS(nil)
			if err == nil {
				conn.Close()
			}
			if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("WebSocket upgrade after Shutdown: %v", err)
			}
		case protocol.JSONP:
			// A script cannot read a status: the refusal is a close frame
			// in the callback.
			resp, body := s.mustDo(t, http.MethodGet, "/handshake?transport=jsonp&v=1&c=cb", nil, nil)
			if want := `/**/cb("c4202:\"server shutting down\"\n");` + "\n"; resp.StatusCode != http.StatusOK || string(body) != want {
				t.Fatalf("jsonp handshake after Shutdown answered %d %q, want 200 %q", resp.StatusCode, body, want)
			}
			fallthrough
		default:
			resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: name}, nil)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("%s handshake after Shutdown answered %d %q", name, resp.StatusCode, body)
			}
		}
	}
	if n, seen := s.rt.Sessions(), a.count(); n != 0 || seen != len(protocol.Carriers) {
		t.Fatalf("after Shutdown %d sessions are held and the app saw %d", n, seen)
	}
}

// TestHubBroadcastOverCarriers: a hub broadcasts to a room whose members
// receive on every carrier, one of them stalled (a streaming client that
// never reads or acknowledges past its first answer). Broadcast never
// waits; the stalled member is closed with 4201 once its unacknowledged
// bytes pass MaxOutboundBytes, and leaves the room by itself; every other
// member gets every message, in order.
func TestHubBroadcastOverCarriers(t *testing.T) {
	h := hub.New()
	a := newApp()
	handler := func(c *session.Session) {
		a.handler(c)
		h.Join(c, "room")
	}
	opts := carrierOpts()
	opts.MaxOutboundBytes = 4000
	opts.MaxStreamBytes = 1000  // streams re-open, and acknowledge, often enough
	opts.DisconnectDelay = wait // the stalled member is not lost before it is slow
	opts.PollInterval = 5 * time.Millisecond
	s := startServer(t, handler, opts)

	var members []*rawCarrier
	for _, name := range protocol.Carriers {
		c := s.openCarrier(t, name)
		expectText(t, c.Next(t), 1, "Welcome")
		members = append(members, c)
	}
	stalled := s.openCarrier(t, protocol.Streaming)
	stalledSession := a.session(t, stalled.Open().SID)
	path, hdr := stalled.receivePath()
	stalledStream := openStream(t, s, path, hdr) // opened, never read
	defer stalledStream.close()
	if n := len(h.Members("room")); n != len(members)+1 {
		t.Fatalf("%d members, want %d", n, len(members)+1)
	}

	const n = 150 // about 9 kB: more than twice the stalled one's bound
	for i := 1; i <= n; i++ {
		text := fmt.Sprintf("broadcast %03d %s", i, strings.Repeat(".", 40))
		returned := make(chan error, 1)
		go func() { returned <- h.Broadcast("room", text) }()
		select {
		case err := <-returned:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(wait):
			t.Fatalf("Broadcast %d did not return", i)
		}
		for _, c := range members {
			expectText(t, c.Next(t), uint64(i+1), text)
		}
	}
	if got := stalledSession.waitClosed(t); len(got) != 1 || !strings.HasPrefix(got[0], "4201 ") {
		t.Fatalf("the stalled member's OnClose calls %q, want 4201", got)
	}
	waitFor(t, "the stalled member to leave the room", func() bool { return len(h.Members("room")) == len(members) })
	for _, m := range h.Members("room") {
		if m.ID() == stalled.st.sid {
			t.Fatal("the stalled member is still in the room")
		}
	}
	for _, c := range members {
		if _, _, closes := a.session(t, c.st.sid).snapshot(); len(closes) != 0 {
			t.Fatalf("%s member closed: %q", c.name, closes)
		}
	}
	// A broadcast except one member.
	if err := h.BroadcastExcept("room", a.session(t, members[0].st.sid).c, "not for "+members[0].name); err != nil {
		t.Fatal(err)
	}
	for _, c := range members[1:] {
		expectText(t, c.Next(t), n+2, "not for "+members[0].name)
	}
	members[0].SendText(t, "mine")
	expectText(t, members[0].Next(t), n+2, "new message: mine")
	t.Logf("the stalled member was closed; %d others got all %d messages", len(members), n)
}
