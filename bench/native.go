package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// nativeConn speaks tether/1 (protocol/SPEC.md) over any of its six
// carriers, without the Go client's machinery: it numbers what it sends,
// acknowledges what it receives and nothing more.
type nativeConn struct {
	e         *env
	transport string
	mount     string
	ctx       context.Context
	cancel    context.CancelFunc

	ws *wsConn // websocket only

	sid, token string

	smu    sync.Mutex // one send at a time (SPEC.md §3 in-flight bound)
	outSeq uint64
	wbuf   []byte

	acked   atomic.Uint64 // the last ack sent (websocket: frames; HTTP: in send batches); written under smu
	in      atomic.Uint64 // last server message received
	unacked atomic.Int64  // bytes received since the last ack (websocket)

	// longpoll, polling, jsonp: a connection for receives and one for
	// sends (a browser's two), each taken on first use, and the fixed
	// parts of their requests.
	poll, send *hconn
	sendTarget []byte // <mount>/send?sid=…
	recvTarget []byte // <mount>/<transport>?sid=…&ack=
	recvExtra  []byte // jsonp: &token=…&c=cb
	tokenHdr   []byte // X-Tether-Token: …
	sendHdr    []byte // the token and Content-Type
	tbuf       []byte // the receive's target, built per request

	// streaming and eventsource: the answer being read, and its lines
	// (one buffer for every answer of the session).
	body  io.ReadCloser
	lines lineReader

	// longpoll, polling: messages on the send answer (carry; see carried).
	carry    bool
	rmu      sync.Mutex   // longpoll, polling, jsonp: held while a Recv or a send answer handles messages
	recvFn   func([]byte) // the fn of the Recv in progress, or nil; under rmu
	handed   int          // messages a send answer gave recvFn, for its Recv's count; under rmu
	kept     []byte       // carried payloads that found no Recv in progress, end to end; under rmu
	keptMsgs []keptMsg    // under rmu
	keepFn   func([]byte) // c.keep, made once
}

// keptMsg is one message of nativeConn.kept.
type keptMsg struct {
	end    int  // where its payload ends in kept
	binary bool // fn gets nil for it, as from frame
}

// pollDelay is how long a `polling` receive waits after an empty answer,
// so that an idle session does not spin.
const pollDelay = 20 * time.Millisecond

const tokenHeader = "X-Tether-Token"

func (e *env) dialNative(ctx context.Context) (Conn, error) {
	c := &nativeConn{e: e, transport: e.cfg.Transport, mount: e.mount()}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	var err error
	if c.transport == protocol.WebSocket {
		err = c.openWS(ctx)
	} else {
		err = c.handshake(ctx)
	}
	if err != nil {
		c.cancel()
		return nil, err
	}
	return c, nil
}

func (c *nativeConn) openWS(ctx context.Context) error {
	ws, err := c.e.dialWS(ctx, c.e.wsURL(c.mount+"/websocket", ""))
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ws.c.Close() })
	defer stop()
	if err := ws.write(protocol.AppendHello(nil, protocol.Hello{V: protocol.Version})); err != nil {
		ws.c.Close()
		return err
	}
	msg, _, err := ws.read()
	if err != nil {
		ws.c.Close()
		return err
	}
	if _, err := c.openFrame(msg); err != nil {
		ws.c.Close()
		return err
	}
	c.ws = ws
	return nil
}

// openFrame reads a handshake answer's first frame.
func (c *nativeConn) openFrame(batch []byte) (protocol.Open, error) {
	line, _, _ := bytes.Cut(batch, []byte("\n"))
	f, err := protocol.DecodeFrame(line)
	if err != nil {
		return protocol.Open{}, fmt.Errorf("handshake answer: %v", err)
	}
	switch f.Type {
	case protocol.FrameOpen:
		return protocol.DecodeOpen(f.Data)
	case protocol.FrameClose:
		return protocol.Open{}, &ErrClosedByServer{Code: int(f.Code), Reason: f.Reason}
	}
	return protocol.Open{}, fmt.Errorf("handshake answered with %q", line)
}

var jsonHdr = []byte("Content-Type: application/json\r\n")

func (c *nativeConn) handshake(ctx context.Context) error {
	hello, _ := json.Marshal(protocol.Hello{V: protocol.Version, Transport: c.transport})
	status, body, err := c.e.oneShot(ctx, http.MethodPost, []byte(c.mount+"/handshake"), jsonHdr, hello)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("handshake: %d %s", status, bytes.TrimSpace(body))
	}
	open, err := c.openFrame(body)
	if err != nil {
		return err
	}
	c.sid, c.token = open.SID, open.Token
	c.prepare()
	return nil
}

// prepare writes the fixed parts of the session's requests once.
func (c *nativeConn) prepare() {
	sid := url.QueryEscape(c.sid)
	c.sendTarget = []byte(c.mount + "/send?sid=" + sid)
	if (c.transport == protocol.LongPoll || c.transport == protocol.Polling) && !c.e.cfg.NoCarry {
		c.carry = true
		c.sendTarget = append(c.sendTarget, carryQuery...)
		c.keepFn = c.keep
	}
	c.recvTarget = []byte(c.mount + "/" + c.transport + "?sid=" + sid + "&ack=")
	if c.transport == protocol.JSONP {
		c.recvExtra = []byte("&token=" + url.QueryEscape(c.token) + "&c=cb")
	}
	c.tokenHdr = []byte(tokenHeader + ": " + c.token + "\r\n")
	c.sendHdr = append(append([]byte(nil), c.tokenHdr...), "Content-Type: text/plain; charset=utf-8\r\n"...)
}

func (c *nativeConn) Send(msg []byte) error { return c.SendBatch([][]byte{msg}) }

// SendBatch sends msgs as one batch, with the ack at its front when one
// is due, on the WebSocket or as one POST /send.
func (c *nativeConn) SendBatch(msgs [][]byte) error {
	c.smu.Lock()
	defer c.smu.Unlock()
	b := c.appendBatchLocked(c.wbuf[:0], msgs)
	c.wbuf = b
	if c.ws != nil {
		return c.ws.write(b)
	}
	return c.post(b)
}

// appendBatchLocked appends the send batch of msgs to b: the ack when one
// is due (the Go client puts one at the front of every batch that finds
// messages unacknowledged, SPEC.md §3), then the numbered text frames.
// The caller holds smu.
func (c *nativeConn) appendBatchLocked(b []byte, msgs [][]byte) []byte {
	if in := c.in.Load(); in > c.acked.Load() {
		b = append(protocol.AppendAck(b, in), '\n')
		c.acked.Store(in)
		c.unacked.Store(0)
	}
	for _, m := range msgs {
		c.outSeq++
		b = append(protocol.AppendText(b, c.outSeq, m), '\n')
	}
	return b
}

// carryQuery asks for messages on the send answer (SPEC.md §5).
const carryQuery = "&carry=1"

// post sends a batch on POST /send and checks its answer, taking the
// messages it carries (see carried). The caller holds smu.
func (c *nativeConn) post(batch []byte) error {
	if c.send == nil {
		c.send = c.e.slot(c.ctx)
	}
	status, body, err := c.send.do(c.ctx, http.MethodPost, c.sendTarget, c.sendHdr, batch)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("send: %d %s", status, bytes.TrimSpace(body))
	}
	if c.carry {
		return c.carried(body)
	}
	if len(body) > 0 && body[0] == 'c' {
		return c.closeErr(bytes.TrimSpace(body))
	}
	return nil
}

// carried handles the answer of a send that asked for messages (longpoll
// and polling send with carry=1, SPEC.md §5): a<in>, then possibly server
// messages, mostly the replies to the send's own, then possibly a close
// frame. They are taken as a receive answer's are, under rmu, which orders
// them with the Recv's: frame numbers them against c.in, so a message
// comes to fn once whichever answer brings it first, and c.in counts it
// in the next ack= and a<n>. They go to the scenario's fn at once, in one
// of two ways:
//
//   - A Recv in progress (paced echo: a poll held on the receiving
//     goroutine while this one sends) gets them in its fn, called here,
//     and in its count when it returns. The held poll is not woken for
//     them (the server goes on after them), and need not be: they are
//     delivered already. rmu keeps fn's calls from overlapping, and they
//     all happen before that Recv returns.
//   - Otherwise (closed-loop echo and burst: Send, then Recv) they are
//     copied into kept, and the next Recv returns them without a request.
//
// Either way a reply that came on the send answer costs no poll, and
// nothing here allocates once kept has grown to the largest answer. The
// driver does not resume: a number past c.in+1 is taken as a receive
// answer's is (the echo scenarios never overtake: a send's replies are
// logged before its answer, and the next send waits for it).
func (c *nativeConn) carried(body []byte) error {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	fn := c.recvFn
	if fn == nil {
		fn = c.keepFn
	}
	n, err := c.batch(body, fn)
	if c.recvFn != nil {
		c.handed += n
	}
	return err
}

// keep copies a carried message for the next Recv. rmu is held.
func (c *nativeConn) keep(msg []byte) {
	c.kept = append(c.kept, msg...)
	c.keptMsgs = append(c.keptMsgs, keptMsg{end: len(c.kept), binary: msg == nil})
}

// drainKeptLocked gives fn the kept messages and returns how many. rmu is
// held.
func (c *nativeConn) drainKeptLocked(fn func([]byte)) int {
	start := 0
	for _, m := range c.keptMsgs {
		if m.binary {
			fn(nil)
		} else {
			fn(c.kept[start:m.end])
		}
		start = m.end
	}
	n := len(c.keptMsgs)
	c.kept, c.keptMsgs = c.kept[:0], c.keptMsgs[:0]
	return n
}

func (c *nativeConn) closeErr(line []byte) error {
	f, err := protocol.DecodeFrame(line)
	if err != nil {
		return fmt.Errorf("bad close frame %q", line)
	}
	return &ErrClosedByServer{Code: int(f.Code), Reason: f.Reason}
}

// errStreamOver ends one streaming answer: the next Recv opens another.
var errStreamOver = errors.New("stream answer over")

// frame handles one frame of a batch and reports whether it was a
// message, calling fn on a text message's payload.
func (c *nativeConn) frame(line []byte, fn func([]byte)) (bool, error) {
	if len(line) == 0 {
		return false, nil
	}
	switch line[0] {
	case 'm', 'b':
		colon := bytes.IndexByte(line, ':')
		if colon < 2 {
			return false, fmt.Errorf("bad frame %.40q", line)
		}
		seq, ok := parseSeq(line[1:colon])
		if !ok {
			return false, fmt.Errorf("bad frame %.40q", line)
		}
		if seq <= c.in.Load() {
			return false, nil // a replay of what was already counted
		}
		c.in.Store(seq)
		c.unacked.Add(int64(len(line)))
		if line[0] == 'b' {
			fn(nil)
			return true, nil
		}
		val, rest, err := nextJSONString(line[colon+1:])
		if err != nil || len(rest) != 0 {
			return false, fmt.Errorf("bad message frame %.40q", line)
		}
		fn(val)
		return true, nil
	case 'c':
		f, err := protocol.DecodeFrame(line)
		if err != nil {
			return false, err
		}
		if f.Code == protocol.CloseStreamLimit {
			return false, errStreamOver
		}
		return false, &ErrClosedByServer{Code: int(f.Code), Reason: f.Reason}
	}
	return false, nil // a, h, o
}

// parseSeq reads a message's sequence number by the spec's rule (1 to
// MaxSeq, no leading zero), so that a server breaking it shows as errors;
// the conversion does not escape and allocates nothing.
func parseSeq(b []byte) (uint64, bool) {
	n, err := protocol.ParseSeq(string(b))
	return n, err == nil && n != 0
}

var heartbeatFrame = []byte("h")

// batch handles every frame of a batch.
func (c *nativeConn) batch(b []byte, fn func([]byte)) (int, error) {
	n := 0
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		ok, err := c.frame(line, fn)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

func (c *nativeConn) Recv(fn func([]byte)) (int, error) {
	switch c.transport {
	case protocol.WebSocket:
		return c.recvWS(fn)
	case protocol.LongPoll, protocol.Polling, protocol.JSONP:
		return c.recvPoll(fn)
	default:
		return c.recvStream(fn)
	}
}

func (c *nativeConn) recvWS(fn func([]byte)) (int, error) {
	msg, binary, err := c.ws.read()
	if err != nil {
		return 0, err
	}
	var n int
	if binary {
		// <seq>:<bytes> (SPEC.md §2.1)
		colon := bytes.IndexByte(msg, ':')
		seq, ok := parseSeq(msg[:max(colon, 0)])
		if !ok {
			return 0, errors.New("bad binary message")
		}
		if seq > c.in.Load() {
			c.in.Store(seq)
			c.unacked.Add(int64(len(msg)))
			fn(nil)
			n = 1
		}
	} else if n, err = c.batch(msg, fn); err != nil {
		return n, err
	}
	// Acknowledge every 32 messages or 16 KiB (SPEC.md §3).
	if in := c.in.Load(); c.unacked.Load() >= 16<<10 || in >= c.acked.Load()+32 {
		if c.smu.TryLock() { // a sender will carry it otherwise
			c.wbuf = append(protocol.AppendAck(c.wbuf[:0], in), '\n')
			c.acked.Store(in)
			c.unacked.Store(0)
			err = c.ws.write(c.wbuf)
			c.smu.Unlock()
		}
	} else if len(msg) == 1 && msg[0] == 'h' {
		// Answer heartbeats so the server's dead-peer timeout never fires.
		c.smu.Lock()
		err = c.ws.write(heartbeatFrame)
		c.smu.Unlock()
	}
	return n, err
}

// recvQuery is the receive query of HTTP carriers.
func (c *nativeConn) recvQuery(extra string) string {
	q := "sid=" + url.QueryEscape(c.sid) + "&ack=" + utoa(c.in.Load())
	return q + extra
}

// recvPoll returns the messages a send answer carried since the last
// Recv, if any, without a request; else it polls, and while it waits
// (for the answer, or polling's pause after an empty one) a send answer
// gives its messages to fn at once (see carried).
func (c *nativeConn) recvPoll(fn func([]byte)) (int, error) {
	c.rmu.Lock()
	if len(c.keptMsgs) > 0 {
		n := c.drainKeptLocked(fn)
		c.rmu.Unlock()
		return n, nil
	}
	c.recvFn, c.handed = fn, 0
	c.rmu.Unlock()
	body, err := c.get()
	c.rmu.Lock()
	n := 0
	if err == nil {
		n, err = c.batch(body, fn)
	}
	if n == 0 && c.handed == 0 && err == nil && c.transport == protocol.Polling {
		c.rmu.Unlock()
		select {
		case <-time.After(pollDelay):
		case <-c.ctx.Done():
			err = c.ctx.Err()
		}
		c.rmu.Lock()
	}
	n += c.handed
	c.recvFn, c.handed = nil, 0
	c.rmu.Unlock()
	return n, err
}

// get runs one poll and returns its batch.
func (c *nativeConn) get() ([]byte, error) {
	if c.poll == nil {
		c.poll = c.e.slot(c.ctx)
	}
	c.tbuf = append(strconv.AppendUint(append(c.tbuf[:0], c.recvTarget...), c.in.Load(), 10), c.recvExtra...)
	status, body, err := c.poll.do(c.ctx, http.MethodGet, c.tbuf, c.tokenHdr, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s: %d %s", c.transport, status, bytes.TrimSpace(body))
	}
	if c.transport == protocol.JSONP {
		// /**/cb("<batch as a JSON string>");
		i, j := bytes.IndexByte(body, '('), bytes.LastIndexByte(body, ')')
		if i < 0 || j < i {
			return nil, fmt.Errorf("bad jsonp answer %.40q", body)
		}
		var s string
		if err := json.Unmarshal(body[i+1:j], &s); err != nil {
			return nil, fmt.Errorf("bad jsonp answer: %v", err)
		}
		body = []byte(s)
	}
	return body, nil
}

// recvStream reads what one flush of a streaming or eventsource answer
// delivered: one line at least, then every whole line already buffered.
func (c *nativeConn) recvStream(fn func([]byte)) (int, error) {
	if c.body == nil {
		if err := c.openStream(); err != nil {
			return 0, err
		}
	}
	es := c.transport == protocol.EventSource
	n := 0
	for wait := true; ; wait = false {
		line, ok, err := c.lines.next(wait)
		if err != nil {
			c.dropStream()
			if err == io.EOF && es {
				return n, nil // the answer ended at MaxStreamBytes; reopen
			}
			return n, err
		}
		if !ok {
			return n, nil
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if es {
			if !bytes.HasPrefix(line, dataPrefix) {
				continue // id:, retry:, comments, event ends
			}
			line = line[len(dataPrefix):]
		}
		ok, err = c.frame(line, fn)
		if err == errStreamOver {
			c.lines.discard(4 << 10)
			c.dropStream()
			return n, nil
		}
		if err != nil {
			c.dropStream()
			return n, err
		}
		if ok {
			n++
		}
	}
}

var dataPrefix = []byte("data: ")

func (c *nativeConn) openStream() error {
	extra := ""
	if c.transport == protocol.EventSource {
		extra = "&token=" + url.QueryEscape(c.token)
	}
	ctx := c.ctx
	if c.e.countWrites.Load() {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { c.e.countWrite() },
		})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.e.httpURL(c.mount+"/"+c.transport, c.recvQuery(extra)), nil)
	if err != nil {
		return err
	}
	req.Header.Set(tokenHeader, c.token)
	resp, err := c.e.http.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		resp.Body.Close()
		return fmt.Errorf("%s: %s %s", c.transport, resp.Status, bytes.TrimSpace(body))
	}
	c.body = resp.Body
	c.lines.reset(resp.Body)
	return nil
}

func (c *nativeConn) dropStream() {
	if c.body != nil {
		c.body.Close()
		c.body = nil
		c.lines.reset(nil)
	}
}

// Close sends c1000 and releases the session.
func (c *nativeConn) Close() error {
	defer c.cancel()
	closeFrame := protocol.AppendClose(nil, protocol.CloseNormal, "")
	if c.ws != nil {
		c.smu.Lock()
		c.ws.c.SetWriteDeadline(time.Now().Add(time.Second))
		c.ws.write(closeFrame)
		c.smu.Unlock()
		return c.ws.closeWS()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.send == nil {
		c.send = c.e.slot(c.ctx)
	}
	target := c.sendTarget
	if c.carry {
		target = target[:len(target)-len(carryQuery)] // nothing to take now
	}
	_, _, err := c.send.do(ctx, http.MethodPost, target, c.sendHdr, closeFrame)
	c.e.release(c.send)
	c.send = nil
	return err
}

func (c *nativeConn) Abandon() {
	c.cancel()
	if c.ws != nil {
		c.ws.c.Close()
	}
}
