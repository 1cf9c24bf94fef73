package router_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

// carrierOpts are short timings for the every-carrier tests: an idle
// session outlives its disconnect delay and heartbeat timeout many times
// over in about a second.
func carrierOpts() *router.Options {
	return &router.Options{
		HeartbeatInterval: 50 * time.Millisecond,
		HeartbeatTimeout:  250 * time.Millisecond,
		DisconnectDelay:   400 * time.Millisecond,
		PollInterval:      20 * time.Millisecond,
		Logger:            quiet,
	}
}

// TestEveryCarrier runs one session's life on each carrier: open, echo
// (text and binary), server push, heartbeats keeping an idle session alive
// past its disconnect delay and heartbeat timeout, a server close with a
// code and a reason (and what later requests get), and a client close.
func TestEveryCarrier(t *testing.T) {
	for _, name := range protocol.Carriers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newApp()
			opts := carrierOpts()
			s := startServer(t, a.handler, opts)

			c := s.openCarrier(t, name)
			o := c.Open()
			if o.V != 1 || o.Heartbeat != 50 || o.Timeout != 250 || o.Poll != 20 ||
				o.MaxMessage != 64<<10 || o.MaxSend != 6*(64<<10)+4096 {
				t.Fatalf("open frame %+v", o)
			}
			as := a.session(t, o.SID)
			if as.transport != name || as.c.Transport() != name {
				t.Fatalf("Transport() = %q (in the handler %q), want %q", as.c.Transport(), as.transport, name)
			}

			// Echo.
			expectText(t, c.Next(t), 1, "Welcome")
			c.SendText(t, "hi")
			expectText(t, c.Next(t), 2, "new message: hi")
			bin := []byte{0, 1, 2, 0xff, '\n', ':', '"'}
			c.SendBinary(t, bin)
			if f := c.Next(t); f.Type != protocol.FrameBinary || f.Seq != 3 || !bytes.Equal(f.Data, bin) {
				t.Fatalf("binary echo: got %v, want b3:%x", f, bin)
			}

			// Server push: the app sends on its own.
			for i := range 3 {
				if err := as.c.Send("push " + strconv.Itoa(i)); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 3 {
				expectText(t, c.Next(t), uint64(4+i), "push "+strconv.Itoa(i))
			}

			// Idle: heartbeats (for polling, the client's own polls) keep the
			// session past its disconnect delay and heartbeat timeout.
			idle := 3 * opts.DisconnectDelay
			if beats := c.idle(t, idle); beats < 3 {
				t.Fatalf("%d heartbeats in %v", beats, idle)
			}
			select {
			case <-as.closed:
				_, _, closes := as.snapshot()
				t.Fatalf("the idle session closed: %q", closes)
			default:
			}
			c.SendText(t, "still here")
			expectText(t, c.Next(t), 7, "new message: still here")

			// Server close with a code and a reason: what was sent before
			// it arrives first.
			as.c.Send("last words")
			if err := as.c.Close(3002, "reason"); err != nil {
				t.Fatal(err)
			}
			expectText(t, c.Next(t), 8, "last words")
			expectClose(t, c.Next(t), 3002, "reason")
			if got := as.waitClosed(t); !reflect.DeepEqual(got, []string{"3002 reason"}) {
				t.Fatalf("OnClose calls %q, want [3002 reason]", got)
			}
			if c.conn != nil {
				if code, _ := closeCode(t, c.conn); code != 3002 {
					t.Fatalf("WebSocket close code %d, want 3002", code)
				}
			}
			var ce *session.CloseError
			if err := as.c.Send("late"); !errors.As(err, &ce) || ce.Code != 3002 || ce.Reason != "reason" {
				t.Fatalf("Send after Close = %v, want a CloseError 3002 reason", err)
			}
			// Later: a send gets the close frame, and so does a resume on
			// the same carrier (SPEC.md §4.1, §7).
			if status, body := c.post(t, []byte("m4:\"late\"\n")); status != http.StatusOK || string(body) != "c3002:\"reason\"\n" {
				t.Fatalf("send after the close answered %d %q, want c3002", status, body)
			}
			c.st.buf = nil
			r := s.resumeCarrier(t, name, c.st)
			expectClose(t, r.Next(t), 3002, "reason")
			if _, texts, closes := as.snapshot(); !reflect.DeepEqual(texts, []string{"hi", "still here"}) || len(closes) != 1 {
				t.Fatalf("the app saw %q and closes %q", texts, closes)
			}

			// Client close.
			c2 := s.openCarrier(t, name)
			as2 := a.session(t, c2.Open().SID)
			expectText(t, c2.Next(t), 1, "Welcome")
			c2.SendClose(t, 1000, "done")
			expectClose(t, c2.Next(t), 1000, "closed by client")
			if got := as2.waitClosed(t); !reflect.DeepEqual(got, []string{"1000 done"}) {
				t.Fatalf("OnClose calls %q, want [1000 done]", got)
			}
			if err := as2.c.Send("late"); !errors.As(err, &ce) || ce.Code != 1000 {
				t.Fatalf("Send after a client close = %v, want a CloseError 1000", err)
			}
			if status, body := c2.post(t, []byte("m1:\"late\"\n")); status != http.StatusOK || string(body) != "c1000:\"closed by client\"\n" {
				t.Fatalf("send after the client close answered %d %q", status, body)
			}
		})
	}
}

// TestStreamByteLimit: the streaming and eventsource answers end after
// MaxStreamBytes, streaming with c4101 and eventsource with no close frame;
// the client re-opens (streaming with its new ack, eventsource with
// Last-Event-ID) and nothing is lost or repeated across the re-opens.
func TestStreamByteLimit(t *testing.T) {
	for _, name := range []string{protocol.Streaming, protocol.EventSource} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newApp()
			opts := carrierOpts()
			opts.MaxStreamBytes = 1000
			opts.MaxBatchBytes = 300 // a few messages per batch, several batches per answer
			s := startServer(t, a.handler, opts)
			c := s.openCarrier(t, name)
			as := a.session(t, c.Open().SID)
			expectText(t, c.Next(t), 1, "Welcome")

			payload := strings.Repeat("x", 90)
			seq := uint64(1)
			for round := range 3 {
				// A round queued at once, so that answers end with messages
				// still waiting, which the re-opened answer must replay.
				for i := range 20 {
					if err := as.c.Send(fmt.Sprintf("%d.%d %s", round, i, payload)); err != nil {
						t.Fatal(err)
					}
				}
				for i := range 20 {
					seq++
					expectText(t, c.Next(t), seq, fmt.Sprintf("%d.%d %s", round, i, payload))
				}
				// And one exchange, so the client's ack rides on a send.
				c.SendText(t, "round "+strconv.Itoa(round))
				seq++
				expectText(t, c.Next(t), seq, "new message: round "+strconv.Itoa(round))
			}
			// About 6 KB went out in answers of at most 1000 bytes (and a
			// batch over).
			if c.ends < 3 {
				t.Fatalf("%d answers ended at the byte limit, want at least 3", c.ends)
			}
			if c.closed {
				t.Fatal("a close frame ended an answer at the byte limit")
			}
			if name == protocol.Streaming && c.busyAfter != 0 {
				t.Errorf("%d re-opens right after c4101 were refused with c4103: the ended answer was still attached", c.busyAfter)
			}
			if _, texts, _ := as.snapshot(); len(texts) != 3 {
				t.Fatalf("the app saw %q", texts)
			}
			t.Logf("%d answers ended at the limit", c.ends)
		})
	}
}

// TestSwitchEveryCarrier moves one session across all six carriers in
// turn, and back to WebSocket, while the app sends numbered messages from
// a goroutine and the client sends its own through each carrier's send
// path. Each carrier is dropped without a close (a lost connection): the
// next one resumes with the last message received and re-sends what the
// server did not acknowledge. Every message must arrive exactly once, in
// order, both ways; the Conn's ID never changes; OnTransport is told each
// new carrier.
func TestSwitchEveryCarrier(t *testing.T) {
	opts := fastOpts()
	opts.PollInterval = 10 * time.Millisecond

	var (
		mu         sync.Mutex
		got        []string
		transports []string
		sent       atomic.Int64
		senders    sync.WaitGroup
	)
	stop := make(chan struct{})
	conns := make(chan *session.Session, 1)
	h := func(c *session.Session) {
		c.OnMessage(func(m session.Message) {
			mu.Lock()
			got = append(got, m.Text())
			mu.Unlock()
		})
		c.OnTransport(func(name string) {
			mu.Lock()
			transports = append(transports, name)
			mu.Unlock()
		})
		conns <- c
		senders.Add(1)
		go func() {
			defer senders.Done()
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if c.Send("s"+strconv.Itoa(i)) != nil {
					return
				}
				sent.Store(int64(i))
				time.Sleep(time.Millisecond)
			}
		}()
	}
	s := startServer(t, h, opts)
	var stopOnce sync.Once
	stopSender := func() { stopOnce.Do(func() { close(stop) }); senders.Wait() }
	t.Cleanup(stopSender)

	order := []string{protocol.WebSocket, protocol.Streaming, protocol.EventSource,
		protocol.LongPoll, protocol.JSONP, protocol.Polling, protocol.WebSocket}
	c := s.openCarrier(t, order[0])
	conn := <-conns
	st := c.st
	expectS := func(f rframe) {
		t.Helper()
		if f.Type != protocol.FrameText || string(f.Data) != "s"+strconv.FormatUint(f.Seq, 10) {
			t.Fatalf("on %s: got %v, want s<seq>", c.name, f)
		}
	}
	n := 0
	for i, name := range order {
		if i > 0 {
			c.Close()
			c = s.resumeCarrier(t, name, st)
		}
		if conn.ID() != st.sid {
			t.Fatalf("ID() = %q on %s, want %q", conn.ID(), name, st.sid)
		}
		for range 8 {
			n++
			c.SendText(t, "c"+strconv.Itoa(n))
			expectS(c.Next(t))
			expectS(c.Next(t))
		}
	}
	stopSender()
	total := uint64(sent.Load())
	for st.last < total || len(st.buf) > 0 {
		expectS(c.Next(t))
	}
	if st.last != total {
		t.Fatalf("received %d messages, the app sent %d", st.last, total)
	}
	deadline := time.Now().Add(wait)
	for {
		mu.Lock()
		k := len(got)
		mu.Unlock()
		if k >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	want := make([]string, n)
	for i := range want {
		want[i] = "c" + strconv.Itoa(i+1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("OnMessage saw %q, want %q", got, want)
	}
	if !slices.Equal(transports, order[1:]) {
		t.Fatalf("OnTransport was told %q, want %q", transports, order[1:])
	}
	if conn.ID() != st.sid {
		t.Fatalf("ID() = %q at the end, want %q", conn.ID(), st.sid)
	}
	t.Logf("%d server and %d client messages over %d carriers", total, n, len(order))
}

// TestEventSourceLastEventID: a browser's EventSource that loses its
// connection reconnects to the same URL (the same ack= as its first
// request) with Last-Event-ID: the stream resumes after that event, with
// nothing lost or repeated. A Last-Event-ID below the query's ack does not
// move the ack back.
func TestEventSourceLastEventID(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, carrierOpts())
	c := s.openCarrier(t, protocol.EventSource)
	as := a.session(t, c.Open().SID)
	for i := 1; i <= 20; i++ {
		as.c.Send("e" + strconv.Itoa(i)) // 2..21 after the Welcome
	}
	expectText(t, c.Next(t), 1, "Welcome")
	for seq := uint64(2); seq <= 6; seq++ {
		expectText(t, c.Next(t), seq, "e"+strconv.Itoa(int(seq-1)))
	}
	// The events after 6 that were read but not handed to the page are lost
	// with the connection; the browser knows only the last id it dispatched.
	c.lastEventID = c.st.last
	c.st.buf = nil
	firstURL := c.esURL
	c.stream.close()
	c.stream = nil
	for i := 21; i <= 25; i++ {
		as.c.Send("e" + strconv.Itoa(i)) // 22..26, while disconnected
	}
	for seq := uint64(7); seq <= 26; seq++ {
		expectText(t, c.Next(t), seq, "e"+strconv.Itoa(int(seq-1)))
	}
	if c.esURL != firstURL || !strings.Contains(firstURL, "ack=0") {
		t.Fatalf("reconnected to %q, the first request was %q", c.esURL, firstURL)
	}

	// A stale Last-Event-ID with a larger ack: the ack wins.
	c.Close()
	as.c.Send("e26")
	path := fmt.Sprintf("/eventsource?sid=%s&ack=26&token=%s", c.st.sid, c.st.token)
	for attempt := 0; ; attempt++ {
		ls := openStream(t, s, path, http.Header{"Last-Event-ID": {"3"}})
		ev, err := readEvent(ls, time.Now().Add(wait))
		for err == nil && (len(ev.data) == 0 || ev.data[0] == "h") {
			ev, err = readEvent(ls, time.Now().Add(wait)) // the prelude, heartbeats
		}
		ls.close()
		if err != nil {
			t.Fatal(err)
		}
		if ev.data[0] == `c4103:"another receiver is attached"` && attempt < 100 {
			time.Sleep(10 * time.Millisecond) // the dropped answer is still attached
			continue
		}
		if !ev.hasID || ev.id != "27" || ev.data[0] != `m27:"e26"` {
			t.Fatalf("after ack=26 with Last-Event-ID 3 the first event is %+v, want id 27", ev)
		}
		break
	}
}

// waitFor polls cond until it holds, failing after wait.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
