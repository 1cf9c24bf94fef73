package bench

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// Messages on the send answer (SPEC.md §5, carry=1): the native driver's
// longpoll and polling sends ask for them and hand them to the scenario
// once, at once, without a poll.

// carryConn returns a nativeConn of transport as a handshake leaves it.
func carryConn(transport string) *nativeConn { return carryConnCfg(transport, Config{}) }

func carryConnCfg(transport string, cfg Config) *nativeConn {
	c := &nativeConn{e: &env{cfg: cfg}, transport: transport, mount: "/echo", sid: "s", token: "t"}
	c.prepare()
	return c
}

func TestNativeSendAsksToCarry(t *testing.T) {
	for _, tr := range protocol.Carriers {
		c := carryConn(tr)
		want := tr == protocol.LongPoll || tr == protocol.Polling
		if got := strings.HasSuffix(string(c.sendTarget), "&carry=1"); got != want || c.carry != want {
			t.Errorf("%s: send target %s, carry %v; want carry=1 %v", tr, c.sendTarget, c.carry, want)
		}
		// -no-carry: as a client from before carry=1.
		if c := carryConnCfg(tr, Config{NoCarry: true}); c.carry || strings.Contains(string(c.sendTarget), "carry") {
			t.Errorf("%s -no-carry: send target %s, carry %v", tr, c.sendTarget, c.carry)
		}
	}
}

// A send answer's messages are counted (acked) at once, kept for the next
// Recv, which returns them without a poll (the Conn has no HTTP client
// here: a poll would panic), each once.
func TestNativeSendAnswerMessages(t *testing.T) {
	c := carryConn(protocol.LongPoll)
	var got []string
	fn := func(m []byte) { got = append(got, string(m)) }
	recv := func(want ...string) {
		t.Helper()
		got = got[:0]
		n, err := c.Recv(fn)
		if err != nil || n != len(want) || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("Recv: %d %v %q, want %q", n, err, got, want)
		}
	}

	if err := c.carried([]byte("a1\nm1:\"one\"\nm2:\"t\\\"wo\"\n")); err != nil {
		t.Fatal(err)
	}
	if c.in.Load() != 2 {
		t.Fatalf("in %d after two carried messages", c.in.Load())
	}
	if b := c.appendBatchLocked(nil, [][]byte{[]byte("x")}); !strings.HasPrefix(string(b), "a2\n") {
		t.Fatalf("next send %q does not ack the carried messages", b)
	}
	// The next answer repeats one (dropped) and brings a new one, before
	// the Recv took the first two; then a binary one.
	if err := c.carried([]byte("a2\nm2:\"t\\\"wo\"\nm3:\"three\"\nb4:AAE=\n")); err != nil {
		t.Fatal(err)
	}
	recv("one", `t"wo`, "three", "")
	if c.poll != nil || len(c.keptMsgs) != 0 || len(c.kept) != 0 {
		t.Fatalf("poll %v, kept %d messages", c.poll, len(c.keptMsgs))
	}

	// A close frame after messages: the messages count, then the close.
	err := c.carried([]byte("a3\nm4:\"dup\"\nm5:\"five\"\nc3001:\"bye\"\n"))
	var ce *ErrClosedByServer
	if !errors.As(err, &ce) || ce.Code != 3001 || ce.Reason != "bye" {
		t.Fatalf("close after messages: %v", err)
	}
	if c.in.Load() != 5 {
		t.Fatalf("in %d, want 5", c.in.Load())
	}
	recv("five")

	// A Recv in progress gets them in its own fn, and counts them.
	var other []string
	c.recvFn = func(m []byte) { other = append(other, string(m)) }
	if err := c.carried([]byte("a4\nm6:\"six\"\nm6:\"six\"\n")); err != nil {
		t.Fatal(err)
	}
	if strings.Join(other, "|") != "six" || c.handed != 1 || len(c.keptMsgs) != 0 {
		t.Fatalf("Recv in progress got %q, handed %d, kept %d", other, c.handed, len(c.keptMsgs))
	}
}

func TestNativeSendAnswerDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	c := carryConn(protocol.Polling)
	payload := newPayload(64)
	answers := make([][]byte, 102)
	for i := range answers {
		answers[i] = echoAnswer(uint64(i+1), payload)
	}
	fn := func([]byte) {}
	i := 0
	n := testing.AllocsPerRun(100, func() {
		if err := c.carried(answers[i]); err != nil {
			t.Fatal(err)
		}
		i++
		c.rmu.Lock()
		c.drainKeptLocked(fn)
		c.rmu.Unlock()
	})
	if n != 0 {
		t.Errorf("a carrying send answer allocates %.1f times, want 0", n)
	}
}

// carryServer is a tether/1 echo server with longpoll and polling only,
// whose send answers carry the replies when asked. It holds a longpoll
// for hold (no heartbeat sooner), and counts the polls and the messages
// their answers held.
type carryServer struct {
	hold time.Duration

	mu        sync.Mutex
	sessions  map[string]*carrySession
	polls     int
	polledMsg int
	carried   int
	quit      chan struct{}
}

type carrySession struct {
	in, out, acked, given uint64
	log                   [][]byte // reply frames, log[i] is out i+1
	changed               chan struct{}
}

func newCarryServer(t *testing.T, hold time.Duration) (*carryServer, string) {
	s := &carryServer{hold: hold, sessions: map[string]*carrySession{}, quit: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo/handshake", s.handshake)
	mux.HandleFunc("POST /echo/send", s.send)
	mux.HandleFunc("GET /echo/longpoll", s.poll)
	mux.HandleFunc("GET /echo/polling", s.poll)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		close(s.quit)
		srv.CloseClientConnections()
		srv.Close()
	})
	return s, srv.URL + "/echo"
}

func (s *carryServer) handshake(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sid := "s" + utoa(uint64(len(s.sessions)+1))
	s.sessions[sid] = &carrySession{changed: make(chan struct{})}
	s.mu.Unlock()
	w.Write(append(protocol.AppendOpen(nil, protocol.Open{V: 1, SID: sid, Token: "token-" + sid,
		Heartbeat: 25000, Timeout: 50000, Poll: 1000, MaxMessage: 64 << 10, MaxSend: 260 << 10}), '\n'))
}

func (s *carryServer) session(r *http.Request) *carrySession {
	sid := r.URL.Query().Get("sid")
	if r.Header.Get(tokenHeader) != "token-"+sid {
		return nil
	}
	return s.sessions[sid]
}

// pending returns the reply frames above from. s.mu is held.
func (ss *carrySession) pending(from uint64) (b []byte, n int) {
	for i := from; i < ss.out; i++ {
		b = append(append(b, ss.log[i]...), '\n')
		n++
	}
	return b, n
}

func (s *carryServer) send(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	frames, err := protocol.DecodeBatch(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.session(r)
	if ss == nil || err != nil {
		http.Error(w, "bad send", http.StatusBadRequest)
		return
	}
	for _, f := range frames {
		switch f.Type {
		case protocol.FrameAck:
			ss.acked = max(ss.acked, f.Seq)
		case protocol.FrameText:
			if f.Seq == ss.in+1 {
				ss.in++
				ss.out++
				ss.log = append(ss.log, protocol.AppendText(nil, ss.out, f.Data))
			}
		}
	}
	close(ss.changed)
	ss.changed = make(chan struct{})
	answer := append(protocol.AppendAck(nil, ss.in), '\n')
	if r.URL.Query().Get("carry") == "1" {
		b, n := ss.pending(max(ss.acked, ss.given))
		answer = append(answer, b...)
		ss.given = ss.out
		s.carried += n
	}
	w.Write(answer)
}

// poll answers a longpoll when there are replies the send answers did not
// carry (none here), or after hold; a polling request at once.
func (s *carryServer) poll(w http.ResponseWriter, r *http.Request) {
	ack, err := protocol.ParseSeq(r.URL.Query().Get("ack"))
	s.mu.Lock()
	s.polls++
	ss := s.session(r)
	if ss == nil || err != nil {
		s.mu.Unlock()
		http.Error(w, "bad poll", http.StatusBadRequest)
		return
	}
	ss.acked = max(ss.acked, ack)
	timer := time.NewTimer(s.hold)
	defer timer.Stop()
	for {
		b, n := ss.pending(max(ss.acked, ss.given))
		if n > 0 || strings.HasSuffix(r.URL.Path, "/polling") {
			s.polledMsg += n
			ss.given = ss.out // what this answer handed out
			s.mu.Unlock()
			w.Write(b)
			return
		}
		ch := ss.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			w.Write([]byte("h\n"))
			return
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		}
		s.mu.Lock()
	}
}

func (s *carryServer) counts() (polls, polledMsg, carried int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls, s.polledMsg, s.carried
}

// Closed-loop echo: every reply comes on its send's answer and Recv takes
// it from there, so not one poll goes out.
func TestEchoTakesRepliesFromTheSendAnswer(t *testing.T) {
	for _, tr := range []string{protocol.LongPoll, protocol.Polling} {
		t.Run(tr, func(t *testing.T) {
			s, url := newCarryServer(t, 10*time.Second)
			r := quick(t, "-target", url, "-transport", tr)
			polls, polled, carried := s.counts()
			if r.Msgs == 0 || polls != 0 || polled != 0 || int64(carried) < r.Msgs {
				t.Fatalf("%d polls (%d messages), %d carried: %s", polls, polled, carried, r.KV())
			}
		})
	}
}

// Paced echo: the receiving goroutine sits in a poll the server holds for
// longer than the run; the replies must still reach the scenario, from
// the send answers, each once.
func TestPacedEchoTakesRepliesFromTheSendAnswer(t *testing.T) {
	for _, tr := range []string{protocol.LongPoll, protocol.Polling} {
		t.Run(tr, func(t *testing.T) {
			s, url := newCarryServer(t, 10*time.Second)
			r := quick(t, "-target", url, "-transport", tr, "-rate", "300")
			_, polled, carried := s.counts()
			if r.Sent == 0 || r.Msgs == 0 || polled != 0 || int64(carried) > r.Sent || r.Msgs > r.Sent {
				t.Fatalf("%d messages in poll answers, %d carried: %s", polled, carried, r.KV())
			}
			if r.Msgs < r.Sent-3 { // a send in flight at the end may go unanswered
				t.Fatalf("%d of %d replies counted: %s", r.Msgs, r.Sent, r.KV())
			}
		})
	}
}
