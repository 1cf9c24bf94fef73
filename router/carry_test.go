package router_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// carrySend posts batch as a send that asks for messages on its answer
// (carry=1, SPEC.md §5), and returns the answer's body.
func (c *lpClient) carrySend(t testing.TB, batch string) string {
	t.Helper()
	h := c.tokenHeader()
	h.Set("Content-Type", "text/plain")
	resp, body := c.s.mustDo(t, http.MethodPost, "/send?sid="+c.open.SID+"&carry=1", h, []byte(batch))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("send: %d %q", resp.StatusCode, body)
	}
	// Flushed before the handler returns, and still not chunked.
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Fatalf("send answered with length %d, transfer encoding %v, for %d bytes", resp.ContentLength, resp.TransferEncoding, len(body))
	}
	return string(body)
}

// A send with carry=1 has the app's reply on its answer, and the held
// poll, waiting or parked, does not take it: the next thing it hands out
// is the reply to a later send without carry=1.
func TestSendCarriesReply(t *testing.T) {
	for _, tc := range []struct {
		name      string
		parkAfter time.Duration
	}{{"held", -1}, {"parked", time.Nanosecond}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parkAfter > 0 && runtime.GOOS != "linux" {
				t.Skip("polls are parked on Linux only")
			}
			opts := fastOpts()
			opts.ParkAfter = tc.parkAfter
			opts.HeartbeatInterval, opts.HeartbeatTimeout = time.Hour, 2*time.Hour
			a := newApp()
			s := startServer(t, a.handler, opts)
			lp := s.openLP(t, nil)
			if frames, body := lp.mustPoll(t, 0); len(frames) != 1 || frames[0].Seq != 1 {
				t.Fatalf("first poll answered %q, want the welcome", body)
			}
			held := heldPoll(t, lp, 1)

			if got, want := lp.carrySend(t, "a1\nm1:\"hi\"\n"), "a1\nm2:\"new message: hi\"\n"; got != want {
				t.Fatalf("carrying send answered %q, want %q", got, want)
			}
			if status, body := lp.mustSend(t, []byte("a2\nm2:\"again\"\n")); status != http.StatusOK || string(body) != "a2\n" {
				t.Fatalf("plain send answered %d %q, want a2 alone", status, body)
			}
			select {
			case body := <-held:
				// (A parked poll, answered from the reply's own Send, may
				// carry the ack too.)
				var msgs []protocol.Frame
				for _, f := range mustDecode(t, body) {
					if f.Type != protocol.FrameAck {
						msgs = append(msgs, f)
					}
				}
				if len(msgs) != 1 || msgs[0].Seq != 3 || string(msgs[0].Data) != "new message: again" {
					t.Fatalf("held poll answered %q, want the second reply alone", body)
				}
			case <-time.After(wait):
				t.Fatal("the held poll was not answered")
			}
		})
	}
}

// A JSONP form send cannot read its answer: carry=1 there carries nothing,
// and the reply waits for the poll.
func TestFormSendNeverCarries(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	q := url.Values{"transport": {protocol.JSONP}, "v": {"1"}, "c": {jsonpCallback}}
	_, body := s.mustDo(t, http.MethodGet, "/handshake?"+q.Encode(), nil, nil)
	o := decodeOpen(t, unwrapJSONP(t, jsonpCallback, body))
	form := url.Values{"token": {o.Token}, "d": {"m1:\"hi\"\n"}}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	resp, body := s.mustDo(t, http.MethodPost, "/send?carry=1&sid="+o.SID, hdr, []byte(form.Encode()))
	if resp.StatusCode != http.StatusOK || string(body) != "a1\n" {
		t.Fatalf("form send answered %d %q, want a1 alone", resp.StatusCode, body)
	}
	q = url.Values{"sid": {o.SID}, "token": {o.Token}, "ack": {"0"}, "c": {jsonpCallback}}
	_, body = s.mustDo(t, http.MethodGet, "/jsonp?"+q.Encode(), nil, nil)
	f := mustDecode(t, unwrapJSONP(t, jsonpCallback, body))
	if len(f) < 2 || f[len(f)-1].Type != protocol.FrameText || string(f[len(f)-1].Data) != "new message: hi" {
		t.Fatalf("the poll after the form send answered %v, want the welcome and the reply", f)
	}
}

// A close frame ends the client's reading: a carrying answer that could
// not take every message (the byte bound) leaves the close to the poll,
// which hands it out after the rest. It ends with an `h` instead, which
// tells a polling client that more is waiting.
func TestCarriedCloseComesLast(t *testing.T) {
	big := strings.Repeat("x", 40<<10)
	h := func(c *session.Session) {
		c.OnMessage(func(session.Message) {
			c.Send(big)
			c.Send(big)
			c.Send(big)
			c.Close(3000, "done")
		})
	}
	s := startServer(t, h, fastOpts())
	lp := s.openLP(t, nil)
	var seqs []uint64
	closed := false
	take := func(body []byte) {
		for _, f := range mustDecode(t, body) {
			switch f.Type {
			case protocol.FrameText:
				if closed {
					t.Fatalf("message %d after the close frame", f.Seq)
				}
				if len(seqs) == 0 || f.Seq == seqs[len(seqs)-1]+1 {
					seqs = append(seqs, f.Seq)
				}
			case protocol.FrameClose:
				if len(seqs) != 3 {
					t.Fatalf("close frame after messages %v: the client stops there and loses the rest", seqs)
				}
				closed = true
			}
		}
	}
	answer := lp.carrySend(t, "m1:\"go\"\n")
	take([]byte(answer))
	if len(seqs) == 0 || len(seqs) == 3 {
		t.Fatalf("the send answer carried %v; want the first replies, within the byte bound", seqs)
	}
	if !strings.HasSuffix(answer, "\"\nh\n") {
		t.Fatalf("the cut answer ends %q, want a message and then h (more is waiting)", answer[max(0, len(answer)-20):])
	}
	for i := 0; !closed && i < 5; i++ {
		_, body := lp.mustPoll(t, seqs[len(seqs)-1])
		take(body)
	}
	if !closed {
		t.Fatalf("took %v and no close frame", seqs)
	}
}

// unwrapOnly is middleware's writer in the Go 1.20 style: Unwrap, and no
// Flush of its own.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// A carrying answer is flushed before the handler returns (and before the
// receiver may hand out what came after it) through such a writer too.
func TestCarriedAnswerFlushedThroughMiddleware(t *testing.T) {
	s := startServer(t, newApp().handler, fastOpts())
	lp := s.openLP(t, nil)
	req := httptest.NewRequest(http.MethodPost, "/t/send?sid="+lp.open.SID+"&carry=1", strings.NewReader("m1:\"hi\"\n"))
	req.Header = lp.tokenHeader()
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	s.rt.ServeHTTP(unwrapOnly{rec}, req)
	if !strings.Contains(rec.Body.String(), "m2:") {
		t.Fatalf("answer %q carries nothing", rec.Body.String())
	}
	if !rec.Flushed {
		t.Fatal("the carrying answer was not flushed through the middleware's writer")
	}
}

// A client that left while its send was handled gets nothing carried: the
// replies stay for its poll.
func TestNothingCarriedToAClientThatLeft(t *testing.T) {
	s := startServer(t, newApp().handler, fastOpts())
	lp := s.openLP(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/t/send?sid="+lp.open.SID+"&carry=1", strings.NewReader("m1:\"hi\"\n"))
	req.Header = lp.tokenHeader()
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	s.rt.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "m") {
		t.Fatalf("the answer to a client that left carried %q", rec.Body.String())
	}
	frames, body := lp.mustPoll(t, 0)
	if len(frames) < 2 || string(frames[len(frames)-1].Data) != "new message: hi" {
		t.Fatalf("the poll answered %q, want the welcome and the reply", body)
	}
}

// A carrying answer whose client stopped reading (its network gone
// mid-answer) is given up after the dead-peer timeout. Until then the
// session hands out nothing, so without the bound the poll the client
// makes from its new network would wait as long as TCP keeps trying,
// many minutes; here the heartbeat that would end it is an hour away.
func TestStalledCarriedAnswerGivesUp(t *testing.T) {
	big := strings.Repeat("x", 16<<20) // more than both sockets' buffers take
	h := func(c *session.Session) { c.OnMessage(func(session.Message) { c.Send(big) }) }
	opts := fastOpts()
	opts.HeartbeatInterval, opts.HeartbeatTimeout = time.Hour, 500*time.Millisecond
	opts.MaxOutboundBytes = 64 << 20
	s := startServer(t, h, opts)
	lp := s.openLP(t, nil)

	c, err := net.Dial("tcp", s.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() }) // before the server's Close, which waits for the handler
	c.(*net.TCPConn).SetReadBuffer(4 << 10)
	body := "m1:\"go\"\n"
	fmt.Fprintf(c, "POST /t/send?sid=%s&carry=1 HTTP/1.1\r\nHost: x\r\nX-Tether-Token: %s\r\n"+
		"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", lp.open.SID, lp.open.Token, len(body), body)
	// The status line says the answer is on its way; nothing more is read.
	c.SetReadDeadline(time.Now().Add(wait))
	if line, err := bufio.NewReaderSize(c, 16).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("carrying send: %q, %v", line, err)
	}

	frames, _ := lp.mustPoll(t, 0) // within wait
	if len(frames) == 0 || frames[0].Seq != 1 || len(frames[0].Data) != len(big) {
		t.Fatalf("the poll answered %d frames, want message 1 again", len(frames))
	}
}

// The deadline of a large carrying answer ends with its request (net/http
// clears a connection's write deadline after each one, which the bound
// relies on): the keep-alive connection's next request, made after that
// deadline passed, is answered.
func TestBoundedCarriedAnswerFreesTheNextRequest(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	h := func(c *session.Session) { c.OnMessage(func(session.Message) { c.Send(big) }) }
	opts := fastOpts()
	opts.HeartbeatInterval, opts.HeartbeatTimeout = time.Hour, 200*time.Millisecond
	s := startServer(t, h, opts)
	lp := s.openLP(t, nil)
	if got := lp.carrySend(t, "m1:\"go\"\n"); !strings.Contains(got, big) {
		t.Fatalf("the answer carried %d bytes, want the reply", len(got))
	}
	time.Sleep(3 * opts.HeartbeatTimeout)
	reused := false
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	})
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	h2 := lp.tokenHeader()
	h2.Set("Content-Type", "text/plain")
	resp, body, err := s.do(ctx, http.MethodPost, "/send?sid="+lp.open.SID, h2, []byte("a1\n"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the next send on the connection: %v %q", err, body)
	}
	if !reused {
		t.Fatal("the next send took a new connection; the test proves nothing")
	}
}
