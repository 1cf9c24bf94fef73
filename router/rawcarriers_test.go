package router_test

// A raw client for every carrier of SPEC.md §5, built on the helpers of
// rawclient_test.go. One rawSession is the client's side of a session (what
// it received, sent, and saw acknowledged) and outlives the rawCarriers that
// move it, so a test can switch carriers the way a real client does: a
// resume handshake with the last message received, then a re-send of what
// the server did not acknowledge.
//
// Each carrier is read the way a browser would: a streaming answer line by
// line as it arrives (its 2 KiB prelude of `h` lines skipped), an event
// stream event by event (with its `id:` lines, reconnecting with
// Last-Event-ID), a JSONP answer unwrapped from its callback, and sends of
// a JSONP page as form POSTs.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
)

// preludeLines is the number of `h` lines of a streaming answer's prelude.
const preludeLines = 2048 / 2

// jsonpCallback is the callback name the JSONP carrier uses by default; it
// has every kind of character a name may have.
const jsonpCallback = "tether._cb.r1"

// rawSession is the client's side of one session, kept across carriers.
type rawSession struct {
	sid, token string
	last       uint64   // last server message received
	acked      uint64   // last client message the server acknowledged
	sent       []rawMsg // client messages; sent[i] is message i+1
	buf        []rframe // received messages and close frames not yet taken
}

type rawMsg struct {
	data   []byte
	binary bool
}

// rawCarrier receives a session over one carrier and sends through that
// carrier's send path: in-band on WebSocket, a form POST for JSONP, the
// POST send path with the token in a header for the others.
type rawCarrier struct {
	s    *server
	name string
	open protocol.Open
	st   *rawSession
	cb   string // jsonp: the callback name

	conn        *websocket.Conn // websocket
	stream      *lineStream     // streaming, eventsource: the answer being read
	esURL       string          // eventsource: the first request's URL, reused by reconnects
	lastEventID uint64          // eventsource: the last event id seen, kept as a browser keeps it
	idlePoll    bool            // polling: the last poll brought nothing, so wait the interval
	esLive      bool            // eventsource: the answer being read started with the prelude
	closed      bool            // a close frame was received

	ends      int // streaming answers ended with c4101; eventsource answers ended without a close frame
	busy      int // receive requests refused with c4103
	busyAfter int // of those, refusals of the re-open right after a byte-limit end
	requests  int // receive requests answered (streams and polls) that were not refused
}

// openCarrier opens a new session received on carrier name.
func (s *server) openCarrier(t testing.TB, name string) *rawCarrier {
	t.Helper()
	c := &rawCarrier{s: s, name: name, st: &rawSession{}, cb: jsonpCallback}
	t.Cleanup(c.Close)
	c.handshake(t, protocol.Hello{V: 1, Transport: name})
	if c.open.Resumed || c.open.Ack != 0 {
		t.Fatalf("%s: a new session's open frame says %+v", name, c.open)
	}
	c.st.sid, c.st.token = c.open.SID, c.open.Token
	return c
}

// resumeCarrier moves st's session to carrier name: a resume handshake
// with the last message received, then a re-send of every client message
// above the ack of the open frame (SPEC.md §3).
func (s *server) resumeCarrier(t testing.TB, name string, st *rawSession) *rawCarrier {
	t.Helper()
	c := &rawCarrier{s: s, name: name, st: st, cb: jsonpCallback}
	t.Cleanup(c.Close)
	c.handshake(t, protocol.Hello{V: 1, Transport: name, SID: st.sid, Token: st.token, Last: st.last})
	o := c.open
	if !o.Resumed || o.SID != st.sid || o.Token != st.token {
		t.Fatalf("%s: resume answered %+v, want session %s resumed with the same token", name, o, st.sid)
	}
	if o.Ack < st.acked || o.Ack > uint64(len(st.sent)) {
		t.Fatalf("%s: resume's ack %d; the server acknowledged %d before and %d were sent", name, o.Ack, st.acked, len(st.sent))
	}
	st.acked = o.Ack
	c.resend(t)
	return c
}

// handshake opens or resumes as the carrier's clients do: a hello frame on
// WebSocket, a script GET for JSONP, a POSTed hello otherwise.
func (c *rawCarrier) handshake(t testing.TB, h protocol.Hello) {
	t.Helper()
	switch c.name {
	case protocol.WebSocket:
		h.Transport = ""
		conn, f := c.s.helloWS(t, h)
		c.conn = conn
		if f.Type != protocol.FrameOpen {
			t.Fatalf("websocket hello answered %v", f)
		}
		o, err := protocol.DecodeOpen(f.Data)
		if err != nil {
			t.Fatal(err)
		}
		c.open = o
	case protocol.JSONP:
		q := url.Values{"transport": {protocol.JSONP}, "v": {"1"}, "c": {c.cb}}
		if h.SID != "" {
			q.Set("sid", h.SID)
			q.Set("token", h.Token)
			q.Set("last", strconv.FormatUint(h.Last, 10))
		}
		resp, body := c.s.mustDo(t, http.MethodGet, "/handshake?"+q.Encode(), nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("jsonp handshake: %d %q", resp.StatusCode, body)
		}
		checkJSONPAnswer(t, resp, body)
		c.open = decodeOpen(t, unwrapJSONP(t, c.cb, body))
	default:
		resp, body := c.s.handshake(t, h, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s handshake: %d %q", c.name, resp.StatusCode, body)
		}
		c.open = decodeOpen(t, body)
	}
}

// Open returns the open frame of the carrier's handshake.
func (c *rawCarrier) Open() protocol.Open { return c.open }

// Close drops the carrier as a lost connection would: no close frame.
func (c *rawCarrier) Close() {
	if c.stream != nil {
		c.stream.close()
		c.stream = nil
	}
	if c.conn != nil {
		c.conn.Close()
	}
}

// ---------------------------------------------------------------------------
// Sending.

// post sends one batch through the HTTP send path, as a form for JSONP
// (fields token and d) and with the token in a header otherwise.
func (c *rawCarrier) post(t testing.TB, batch []byte) (int, []byte) {
	t.Helper()
	path := "/send?sid=" + c.st.sid
	if c.name == protocol.JSONP {
		form := url.Values{"token": {c.st.token}, "d": {string(batch)}}
		hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		resp, body := c.s.mustDo(t, http.MethodPost, path, hdr, []byte(form.Encode()))
		return resp.StatusCode, body
	}
	hdr := http.Header{"X-Tether-Token": {c.st.token}, "Content-Type": {"text/plain"}}
	resp, body := c.s.mustDo(t, http.MethodPost, path, hdr, batch)
	return resp.StatusCode, body
}

// sendFrames sends client frames: in-band on a WebSocket; otherwise through
// the send path with the client's ack in front (SPEC.md §3), and the answer
// must acknowledge every message sent so far.
func (c *rawCarrier) sendFrames(t testing.TB, frames []byte, binary bool) {
	t.Helper()
	if c.conn != nil {
		typ := websocket.TextMessage
		if binary {
			typ = websocket.BinaryMessage
		}
		c.conn.SetWriteDeadline(time.Now().Add(wait))
		if err := c.conn.WriteMessage(typ, frames); err != nil {
			t.Fatalf("websocket write: %v", err)
		}
		return
	}
	var batch []byte
	if c.st.last > 0 {
		batch = append(protocol.AppendAck(batch, c.st.last), '\n')
	}
	batch = append(batch, frames...)
	status, body := c.post(t, batch)
	if status != http.StatusOK {
		t.Fatalf("%s: send %q answered %d %q", c.name, batch, status, body)
	}
	fs := mustDecode(t, body)
	if len(fs) != 1 || fs[0].Type != protocol.FrameAck || fs[0].Seq != uint64(len(c.st.sent)) {
		t.Fatalf("%s: send %q answered %q, want a%d", c.name, batch, body, len(c.st.sent))
	}
	c.st.acked = fs[0].Seq
}

func appendMsg(dst []byte, seq uint64, m rawMsg) []byte {
	if m.binary {
		return append(protocol.AppendBinary(dst, seq, m.data), '\n')
	}
	return append(protocol.AppendText(dst, seq, m.data), '\n')
}

func (c *rawCarrier) send(t testing.TB, m rawMsg) {
	t.Helper()
	c.st.sent = append(c.st.sent, m)
	seq := uint64(len(c.st.sent))
	if c.conn != nil && m.binary {
		c.sendFrames(t, protocol.AppendWSBinary(nil, seq, m.data), true) // SPEC.md §2.1
		return
	}
	c.sendFrames(t, appendMsg(nil, seq, m), false)
}

// SendText sends the next client message.
func (c *rawCarrier) SendText(t testing.TB, text string) {
	t.Helper()
	c.send(t, rawMsg{data: []byte(text)})
}

// SendBinary sends the next client message as binary.
func (c *rawCarrier) SendBinary(t testing.TB, data []byte) {
	t.Helper()
	c.send(t, rawMsg{data: data, binary: true})
}

// resend sends again every message above the server's ack.
func (c *rawCarrier) resend(t testing.TB) {
	t.Helper()
	if c.conn != nil {
		for i := c.st.acked; i < uint64(len(c.st.sent)); i++ {
			m := c.st.sent[i]
			if m.binary {
				c.sendFrames(t, protocol.AppendWSBinary(nil, i+1, m.data), true)
			} else {
				c.sendFrames(t, appendMsg(nil, i+1, m), false)
			}
		}
		return
	}
	var b []byte
	for i := c.st.acked; i < uint64(len(c.st.sent)); i++ {
		b = appendMsg(b, i+1, c.st.sent[i])
	}
	if len(b) > 0 {
		c.sendFrames(t, b, false)
	}
}

// SendClose closes the session from the client. Over HTTP the send's answer
// must acknowledge and then say the session is closed.
func (c *rawCarrier) SendClose(t testing.TB, code protocol.CloseCode, reason string) {
	t.Helper()
	frame := append(protocol.AppendClose(nil, code, reason), '\n')
	if c.conn != nil {
		c.sendFrames(t, frame, false)
		return
	}
	status, body := c.post(t, frame)
	if status != http.StatusOK || !isClose(body, protocol.CloseNormal) {
		t.Fatalf("%s: client close answered %d %q, want a c1000", c.name, status, body)
	}
}

// ---------------------------------------------------------------------------
// Receiving.

// Next returns the next message or close frame, receiving as needed.
func (c *rawCarrier) Next(t testing.TB) rframe {
	t.Helper()
	deadline := time.Now().Add(wait)
	for len(c.st.buf) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: nothing received within %v", c.name, wait)
		}
		c.receive(t, deadline)
	}
	f := c.st.buf[0]
	c.st.buf = c.st.buf[1:]
	return f
}

// idle receives for d, expecting nothing but heartbeats and acks, and
// returns the number of heartbeats (for polling: of empty answers).
func (c *rawCarrier) idle(t testing.TB, d time.Duration) int {
	t.Helper()
	beats := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		beats += c.receive(t, time.Now().Add(wait))
		if len(c.st.buf) > 0 {
			t.Fatalf("%s: got %v on an idle session", c.name, c.st.buf[0])
		}
	}
	return beats
}

// receive makes one receive step, bounded by deadline: one poll, one
// streamed line or event, or one WebSocket message. Messages and close
// frames go to the session's buffer; it returns the heartbeats it saw (for
// polling, 1 for an answer that brought nothing).
func (c *rawCarrier) receive(t testing.TB, deadline time.Time) int {
	t.Helper()
	if c.closed {
		t.Fatalf("%s: receiving after the close frame", c.name)
	}
	switch c.name {
	case protocol.WebSocket:
		return c.receiveWS(t, deadline)
	case protocol.Streaming:
		return c.receiveStreaming(t, deadline)
	case protocol.EventSource:
		return c.receiveEventSource(t, deadline)
	}
	return c.receivePoll(t, deadline)
}

// take records one received frame; it returns 1 for a heartbeat.
func (c *rawCarrier) take(t testing.TB, f rframe) int {
	t.Helper()
	switch f.Type {
	case protocol.FrameText, protocol.FrameBinary:
		if c.closed {
			t.Fatalf("%s: %v after the close frame", c.name, f)
		}
		if f.Seq != c.st.last+1 {
			t.Fatalf("%s: message %d after %d: lost or repeated", c.name, f.Seq, c.st.last)
		}
		c.st.last = f.Seq
		c.st.buf = append(c.st.buf, f)
	case protocol.FrameAck:
		if f.Seq > uint64(len(c.st.sent)) {
			t.Fatalf("%s: the server acknowledged %d of %d messages", c.name, f.Seq, len(c.st.sent))
		}
		c.st.acked = max(c.st.acked, f.Seq)
	case protocol.FrameHeartbeat:
		return 1
	case protocol.FrameClose:
		c.closed = true
		c.st.buf = append(c.st.buf, f)
	default:
		t.Fatalf("%s: unexpected frame %v", c.name, f)
	}
	return 0
}

// isBusy reports whether frames are exactly the c4103 refusal.
func isBusy(frames []protocol.Frame) bool {
	return len(frames) == 1 && frames[0].Type == protocol.FrameClose && frames[0].Code == protocol.CloseReceiverBusy
}

// refused counts a c4103 and waits a little: the previous receiver (a
// dropped connection) is attached until the server notices its end.
func (c *rawCarrier) refused() {
	c.busy++
	time.Sleep(10 * time.Millisecond)
}

// receivePath is the receive request's path and headers (token in a header
// where the carrier allows it, SPEC.md §5).
func (c *rawCarrier) receivePath() (string, http.Header) {
	q := url.Values{"sid": {c.st.sid}, "ack": {strconv.FormatUint(c.st.last, 10)}}
	switch c.name {
	case protocol.JSONP:
		q.Set("token", c.st.token)
		q.Set("c", c.cb)
		return "/jsonp?" + q.Encode(), nil
	case protocol.EventSource:
		q.Set("token", c.st.token)
		return "/eventsource?" + q.Encode(), nil
	}
	return "/" + c.name + "?" + q.Encode(), http.Header{"X-Tether-Token": {c.st.token}}
}

// receivePoll runs one longpoll, polling or jsonp request.
func (c *rawCarrier) receivePoll(t testing.TB, deadline time.Time) int {
	t.Helper()
	if c.name == protocol.Polling && c.idlePoll {
		time.Sleep(time.Duration(c.open.Poll) * time.Millisecond) // the interval the server suggested
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	path, hdr := c.receivePath()
	resp, body, err := c.s.do(ctx, http.MethodGet, path, hdr, nil)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: receive answered %d %q", c.name, resp.StatusCode, body)
	}
	checkNoStore(t, resp)
	if c.name == protocol.JSONP {
		checkJSONPAnswer(t, resp, body)
		body = unwrapJSONP(t, c.cb, body)
	} else if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("%s: Content-Type %q", c.name, ct)
	}
	frames := mustDecode(t, body)
	if isBusy(frames) {
		c.refused()
		return 0
	}
	c.requests++
	beats, news := 0, false
	for _, f := range frames {
		beats += c.take(t, rframe{Frame: f})
		news = news || f.Type == protocol.FrameText || f.Type == protocol.FrameBinary || f.Type == protocol.FrameClose
	}
	if c.name == protocol.Polling {
		c.idlePoll = !news
		if !news {
			return 1
		}
	}
	return beats
}

// receiveWS reads one WebSocket message, then answers heartbeats and
// acknowledges messages, as a client must at least once per heartbeat
// interval (SPEC.md §6).
func (c *rawCarrier) receiveWS(t testing.TB, deadline time.Time) int {
	t.Helper()
	frames, err := readWS(c.conn, time.Until(deadline))
	if err != nil {
		t.Fatalf("websocket read: %v", err)
	}
	beats := 0
	for _, f := range frames {
		beats += c.take(t, f)
	}
	if !c.closed {
		c.conn.SetWriteDeadline(time.Now().Add(wait))
		c.conn.WriteMessage(websocket.TextMessage, protocol.AppendAck(nil, c.st.last))
	}
	return beats
}

// receiveStreaming reads one line of the streaming answer, opening one
// when none is open. A c4101 ends the answer: the client re-opens at once
// with its new ack, and the old answer must end there.
func (c *rawCarrier) receiveStreaming(t testing.TB, deadline time.Time) int {
	t.Helper()
	if c.stream == nil {
		c.openStreaming(t, deadline)
		return 0
	}
	line, err := c.stream.next(deadline)
	if err != nil {
		t.Fatalf("streaming: the answer ended without a close frame: %v", err)
	}
	f, err := protocol.DecodeFrame([]byte(line))
	if err != nil {
		t.Fatalf("streaming: undecodable line %q: %v", line, err)
	}
	if f.Type == protocol.FrameClose && f.Code == protocol.CloseStreamLimit {
		if f.Reason != "stream limit" {
			t.Fatalf("streaming: limit frame %q", line)
		}
		c.ends++
		old := c.stream
		c.stream = nil
		busy := c.busy
		for c.stream == nil && !c.closed {
			if time.Now().After(deadline) {
				t.Fatalf("streaming: the re-open after c4101 was refused until the deadline")
			}
			c.openStreaming(t, deadline)
		}
		c.busyAfter += c.busy - busy
		if line, err := old.next(deadline); err != io.EOF {
			t.Fatalf("streaming: after c4101 the answer went on: %q, %v", line, err)
		}
		old.close()
		return 0
	}
	if f.Type == protocol.FrameClose {
		defer func() {
			// Nothing may follow a close frame.
			if line, err := c.stream.next(deadline); err != io.EOF {
				t.Fatalf("streaming: after %v the answer went on: %q, %v", f, line, err)
			}
			c.stream.close()
			c.stream = nil
		}()
	}
	return c.take(t, rframe{Frame: f})
}

// openStreaming opens a streaming answer and reads its prelude; a refusal
// (a lone close frame, no prelude) is counted or taken.
func (c *rawCarrier) openStreaming(t testing.TB, deadline time.Time) {
	t.Helper()
	path, hdr := c.receivePath()
	ls := openStream(t, c.s, path, hdr)
	if ct := ls.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		ls.close()
		t.Fatalf("streaming: Content-Type %q", ct)
	}
	checkNoStore(t, ls.resp)
	first, err := ls.next(deadline)
	if err != nil {
		ls.close()
		t.Fatalf("streaming: reading the answer: %v", err)
	}
	if first != "h" {
		// A refusal: one close frame, and the end.
		f, err := protocol.DecodeFrame([]byte(first))
		rest, end := ls.next(deadline)
		ls.close()
		if err != nil || f.Type != protocol.FrameClose || end != io.EOF {
			t.Fatalf("streaming: answer starts with %q (%v), then %q %v; want the prelude or a lone close frame", first, err, rest, end)
		}
		if f.Code == protocol.CloseReceiverBusy {
			c.refused()
			return
		}
		c.take(t, rframe{Frame: f})
		return
	}
	for i := 1; i < preludeLines; i++ {
		if line, err := ls.next(deadline); err != nil || line != "h" {
			ls.close()
			t.Fatalf("streaming: prelude line %d is %q (%v)", i+1, line, err)
		}
	}
	c.requests++
	c.stream = ls
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	comments []string
	retry    string
	id       string
	hasID    bool
	data     []string
}

// readEvent reads one event; io.EOF when the answer ended between events.
func readEvent(ls *lineStream, deadline time.Time) (sseEvent, error) {
	var ev sseEvent
	empty := true
	for {
		line, err := ls.next(deadline)
		if err != nil {
			if err == io.EOF && !empty {
				err = errors.New("the answer ended inside an event")
			}
			return ev, err
		}
		if line == "" {
			if empty {
				continue
			}
			return ev, nil
		}
		empty = false
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			ev.comments = append(ev.comments, line)
		case "retry":
			ev.retry = value
		case "id":
			ev.id, ev.hasID = value, true
		case "data":
			ev.data = append(ev.data, value)
		default:
			return ev, fmt.Errorf("unknown field in %q", line)
		}
	}
}

// receiveEventSource reads one event, opening the event stream when none
// is open. When an answer ends without a close frame the client reconnects
// as a browser's EventSource does: the same URL, with Last-Event-ID.
func (c *rawCarrier) receiveEventSource(t testing.TB, deadline time.Time) int {
	t.Helper()
	if c.stream == nil {
		c.openEventSource(t)
	}
	ev, err := readEvent(c.stream, deadline)
	if err == io.EOF {
		c.stream.close()
		c.stream = nil
		c.ends++
		return 0
	}
	if err != nil {
		t.Fatalf("eventsource: %v", err)
	}
	if len(ev.comments) > 0 || ev.retry != "" {
		t.Fatalf("eventsource: a second prelude %+v", ev)
	}
	if len(ev.data) != 1 {
		t.Fatalf("eventsource: event %+v, want one data line", ev)
	}
	f, err := protocol.DecodeFrame([]byte(ev.data[0]))
	if err != nil {
		t.Fatalf("eventsource: undecodable data %q: %v", ev.data[0], err)
	}
	isMsg := f.Type == protocol.FrameText || f.Type == protocol.FrameBinary
	switch {
	case isMsg && (!ev.hasID || ev.id != strconv.FormatUint(f.Seq, 10)):
		t.Fatalf("eventsource: message %d has id %q", f.Seq, ev.id)
	case !isMsg && ev.hasID:
		t.Fatalf("eventsource: %q has an id %q", ev.data[0], ev.id)
	case isMsg:
		c.lastEventID = f.Seq
	}
	if isBusy([]protocol.Frame{f}) && !c.esLive {
		// Refused before anything was streamed: try again.
		if _, err := readEvent(c.stream, deadline); err != io.EOF {
			t.Fatalf("eventsource: the refusal went on: %v", err)
		}
		c.stream.close()
		c.stream = nil
		c.refused()
		return 0
	}
	if f.Type == protocol.FrameClose {
		if _, err := readEvent(c.stream, deadline); err != io.EOF {
			t.Fatalf("eventsource: after %q the answer went on: %v", ev.data[0], err)
		}
		c.stream.close()
		c.stream = nil
	}
	return c.take(t, rframe{Frame: f})
}

// openEventSource opens the event stream: the first time with the ack in
// the query, afterwards the same URL with Last-Event-ID, as a browser does.
func (c *rawCarrier) openEventSource(t testing.TB) {
	t.Helper()
	hdr := http.Header{}
	if c.esURL == "" {
		c.esURL, _ = c.receivePath()
	} else if c.lastEventID > 0 {
		hdr.Set("Last-Event-ID", strconv.FormatUint(c.lastEventID, 10))
	}
	ls := openStream(t, c.s, c.esURL, hdr)
	if ct := ls.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		ls.close()
		t.Fatalf("eventsource: Content-Type %q", ct)
	}
	checkNoStore(t, ls.resp)
	c.stream = ls
	c.esLive = false
	// The prelude is one event of a 2 KiB comment and a retry hint, then a
	// heartbeat event; a refusal has none and starts with its close frame.
	if first, err := ls.peek(time.Now().Add(wait)); err != nil || !strings.HasPrefix(first, ":") {
		return
	}
	ev, err := readEvent(ls, time.Now().Add(wait))
	if err != nil || len(ev.comments) != 1 || ev.comments[0] != ":"+strings.Repeat(" ", 2048) ||
		ev.retry != "100" || ev.hasID || len(ev.data) != 0 {
		t.Fatalf("eventsource: prelude %+v (%v)", ev, err)
	}
	// Then a heartbeat event, which script sees (SPEC.md §5).
	if ev, err := readEvent(ls, time.Now().Add(wait)); err != nil || ev.hasID || !slices.Equal(ev.data, []string{"h"}) {
		t.Fatalf("eventsource: the prelude is followed by %+v (%v), want a data: h event", ev, err)
	}
	c.esLive = true
	c.requests++
}

// ---------------------------------------------------------------------------
// Streamed answers, line by line.

// lineStream is an HTTP answer read line by line as it arrives.
type lineStream struct {
	resp    *http.Response
	cancel  context.CancelFunc
	lines   chan string
	done    chan struct{}
	err     error // why the lines ended; set before lines is closed
	peeked  *string
	ctxDone <-chan struct{}
}

// openStream starts a GET and reads its answer in the background; the
// stream is closed at cleanup at the latest.
func openStream(t testing.TB, s *server, path string, hdr http.Header) *lineStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("GET %s: %d %q", path, resp.StatusCode, b)
	}
	ls := &lineStream{resp: resp, cancel: cancel, lines: make(chan string, 4096),
		done: make(chan struct{}), ctxDone: ctx.Done()}
	go ls.read()
	t.Cleanup(ls.close)
	return ls
}

func (ls *lineStream) read() {
	defer close(ls.done)
	defer close(ls.lines)
	br := bufio.NewReader(ls.resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if err == io.EOF && line != "" {
				err = fmt.Errorf("the answer ended inside a line: %q", line)
			}
			ls.err = err
			return
		}
		select {
		case ls.lines <- strings.TrimSuffix(line, "\n"):
		case <-ls.ctxDone:
			ls.err = context.Canceled
			return
		}
	}
}

var errNoLine = errors.New("no line before the deadline")

// next returns the next line, io.EOF at the answer's end.
func (ls *lineStream) next(deadline time.Time) (string, error) {
	if ls.peeked != nil {
		line := *ls.peeked
		ls.peeked = nil
		return line, nil
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case line, ok := <-ls.lines:
		if !ok {
			return "", ls.err
		}
		return line, nil
	case <-timer.C:
		return "", errNoLine
	}
}

// peek returns the next line without taking it.
func (ls *lineStream) peek(deadline time.Time) (string, error) {
	line, err := ls.next(deadline)
	if err == nil {
		ls.peeked = &line
	}
	return line, err
}

// close abandons the answer, as a dropped connection would, and waits for
// the reader. It is idempotent.
func (ls *lineStream) close() {
	ls.cancel()
	ls.resp.Body.Close()
	<-ls.done
}

// ---------------------------------------------------------------------------
// Answers.

func checkNoStore(t testing.TB, resp *http.Response) {
	t.Helper()
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("%s: Cache-Control %q, want no-store", resp.Request.URL.Path, cc)
	}
}

// checkJSONPAnswer checks what keeps a JSONP answer a safe script: its type,
// nosniff, and no byte that could end the script element or the string.
func checkJSONPAnswer(t testing.TB, resp *http.Response, body []byte) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/javascript") {
		t.Fatalf("jsonp: Content-Type %q", ct)
	}
	if v := resp.Header.Get("X-Content-Type-Options"); v != "nosniff" {
		t.Fatalf("jsonp: X-Content-Type-Options %q, want nosniff", v)
	}
	checkNoStore(t, resp)
	if i := strings.IndexAny(string(body), "<>&\u2028\u2029"); i >= 0 {
		t.Fatalf("jsonp: unescaped %q in %q", string(body)[i:], body)
	}
}

// unwrapJSONP returns the batch of `/**/cb("<batch>");`.
func unwrapJSONP(t testing.TB, cb string, body []byte) []byte {
	t.Helper()
	prefix, suffix := "/**/"+cb+"(", ");\n"
	s := string(body)
	if !strings.HasPrefix(s, prefix) || !strings.HasSuffix(s, suffix) {
		t.Fatalf("jsonp: answer %q is not %s\"...\"%s", body, prefix, suffix)
	}
	var batch string
	if err := json.Unmarshal([]byte(s[len(prefix):len(s)-len(suffix)]), &batch); err != nil {
		t.Fatalf("jsonp: the argument of %q is not one JSON string: %v", body, err)
	}
	return []byte(batch)
}

// held starts two receive requests (longpoll or jsonp) and waits until one
// is refused with c4103, which proves the other is attached and held; it
// returns the channel that gets the held request's batch.
func (c *rawCarrier) held(t testing.TB) <-chan []byte {
	t.Helper()
	path, hdr := c.receivePath()
	poll := func() <-chan []byte {
		ch := make(chan []byte, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			_, body, _ := c.s.do(ctx, http.MethodGet, path, hdr, nil)
			if c.name == protocol.JSONP {
				prefix, suffix := "/**/"+c.cb+"(", ");\n"
				var batch string
				s := string(body)
				if strings.HasPrefix(s, prefix) && strings.HasSuffix(s, suffix) &&
					json.Unmarshal([]byte(s[len(prefix):len(s)-len(suffix)]), &batch) == nil {
					body = []byte(batch)
				}
			}
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
		t.Fatalf("%s: neither of two concurrent polls was refused", c.name)
	}
	if string(refused) != "c4103:\"another receiver is attached\"\n" {
		t.Fatalf("%s: the second of two concurrent polls answered %q, want c4103", c.name, refused)
	}
	return held
}
