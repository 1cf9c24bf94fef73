package client

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
)

// fake is a small tether/1 server for the client's tests, mounted at
// /echo: handshake, send and the six carriers (WebSocket in
// fakews_test.go, the HTTP receive paths other than longpoll in
// fakehttp_test.go), with an echo app. It implements just enough of
// SPEC.md, plus knobs to cut carriers and to misbehave on purpose. One
// mutex guards everything; speed is no goal.
type fake struct {
	srv *httptest.Server
	url string
	hb  time.Duration

	// sloppy makes the server never trim its log and replay all of it
	// after a resume, so the client must drop the duplicates itself.
	sloppy bool
	// refuse, when it returns a status, refuses handshakes and upgrades.
	refuse func(*http.Request) (int, string)
	// poll is the interval the open frame suggests to polling clients.
	poll time.Duration
	// maxStream ends streaming and eventsource answers after this many
	// bytes past the prelude.
	maxStream int
	// onePerPoll answers each polling request with one message at most,
	// as a server whose batch bound is small does.
	onePerPoll bool
	// carry puts the session's messages in the answer of a send that asks
	// with carry=1 (SPEC.md §5), unless a receive answer handed out some
	// the client has not acknowledged; receivers go on after them.
	carry bool
	// dupCarried gives the first receive request that comes after a
	// carrying send answer the messages it carried again, whatever its ack,
	// as a server that lost track of them would.
	dupCarried bool
	// skipCarry makes the next carrying answers of two messages or more
	// leave out their first one, as if it went on an answer that was lost.
	skipCarry int
	// carryOne makes a carrying answer take one message only and, with
	// more left, end with `h`, as a server at its byte bound does.
	carryOne bool

	mu        sync.Mutex
	sessions  map[string]*fakeSession
	cutPoll   int // the next polls (or streams) to cut without an answer
	cutSend   int // the next sends to cut before they are applied
	ws        map[*websocket.Conn]bool
	closedBy  protocol.CloseCode // the code of the client's close frame
	mute      bool               // send nothing on receiving carriers, not even heartbeats
	opens     int                // handshakes answered with an open frame
	kick      chan struct{}      // closed and replaced to wake every receiver
	stopping  bool               // the server is closing: receivers return
	receives  []fakeReceive      // every receive request, in order
	sends     []fakeSend         // every send request, in order
	recarried int                // receive answers that repeated carried messages
}

// fakeSend records a send request and what its answer carried.
type fakeSend struct {
	carry   bool     // it asked with carry=1
	ack     uint64   // the batch's leading a frame, or 0
	carried []uint64 // the messages its answer carried
}

// fakeReceive records what a receive request asked for.
type fakeReceive struct {
	carrier     string
	ack         uint64
	lastEventID string
}

type fakeSession struct {
	sid, token string
	in         uint64 // the last client message accepted
	next       uint64 // the last server message numbered
	log        []fakeMsg
	closing    []byte // the app's close frame, once it closed
	changed    chan struct{}
	replayAll  bool

	// Carrying (fake.carry), for the current attachment.
	acked       uint64 // the client's ack
	handed      uint64 // the last message a receive answer held
	carried     uint64 // the last message a send answer carried
	recarry     []byte // dupCarried: frames for the receive request numbered recarryFrom or later
	recarryFrom int
}

type fakeMsg struct {
	seq    uint64
	binary bool
	data   []byte
}

func (m fakeMsg) frame() []byte {
	if m.binary {
		return protocol.AppendBinary(nil, m.seq, m.data)
	}
	return protocol.AppendText(nil, m.seq, m.data)
}

func newFake(t *testing.T, configure func(*fake)) *fake {
	t.Helper()
	// Registered first, so it runs last: after the Conn and the server.
	t.Cleanup(func() {
		if err := noLeaks(3 * time.Second); err != nil {
			t.Error(err)
		}
	})
	f := &fake{hb: 500 * time.Millisecond, poll: 50 * time.Millisecond, maxStream: 128 << 10,
		sessions: map[string]*fakeSession{}, ws: map[*websocket.Conn]bool{}, kick: make(chan struct{})}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo/handshake", f.handshake)
	mux.HandleFunc("GET /echo/handshake", f.jsonpHandshake)
	mux.HandleFunc("GET /echo/longpoll", f.longpoll)
	mux.HandleFunc("GET /echo/polling", f.polling)
	mux.HandleFunc("GET /echo/streaming", f.streaming)
	mux.HandleFunc("GET /echo/eventsource", f.eventsource)
	mux.HandleFunc("GET /echo/jsonp", f.jsonp)
	mux.HandleFunc("POST /echo/send", f.send)
	mux.HandleFunc("GET /echo/websocket", f.websocket)
	f.srv = httptest.NewServer(mux)
	f.url = f.srv.URL + "/echo"
	t.Cleanup(f.close)
	return f
}

// close stops the server. Streams would hold httptest's Close until their
// client gives up on them, so they are told to end first.
func (f *fake) close() {
	f.mu.Lock()
	f.stopping = true
	f.kickLocked()
	f.mu.Unlock()
	f.dropWebSockets()
	f.srv.Close()
}

// kickLocked wakes every receiver, forgotten sessions' too. f.mu is held.
func (f *fake) kickLocked() {
	close(f.kick)
	f.kick = make(chan struct{})
}

// cut answers nothing: it drops the TCP connection under the request.
func cut(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

func (f *fake) refused(w http.ResponseWriter, r *http.Request) bool {
	if f.refuse == nil {
		return false
	}
	if status, reason := f.refuse(r); status != 0 {
		http.Error(w, reason, status)
		return true
	}
	return false
}

func (f *fake) handshake(w http.ResponseWriter, r *http.Request) {
	if f.refused(w, r) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	h, err := protocol.DecodeHello(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, answer := f.open(h)
	w.Write(append(answer, '\n'))
}

// open starts or resumes a session and returns it with the handshake
// answer; a refused resume returns a nil session and a close frame.
func (f *fake) open(h protocol.Hello) (*fakeSession, []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s *fakeSession
	if h.SID == "" {
		tok := make([]byte, 16)
		rand.Read(tok)
		s = &fakeSession{sid: uuid.NewString(), token: base64.RawURLEncoding.EncodeToString(tok), changed: make(chan struct{})}
		f.sessions[s.sid] = s
	} else {
		s = f.sessions[h.SID]
		if s == nil || s.token != h.Token {
			return nil, protocol.AppendClose(nil, protocol.CloseSessionLost, "session lost")
		}
		f.trim(s, h.Last)
		s.replayAll = f.sloppy
		// A new attachment replays from the hello's last.
		s.handed, s.carried, s.recarry = 0, 0, nil
	}
	f.opens++
	return s, protocol.AppendOpen(nil, protocol.Open{
		V: 1, SID: s.sid, Token: s.token, Resumed: h.SID != "", Ack: s.in,
		Heartbeat: f.hb.Milliseconds(), Timeout: 2 * f.hb.Milliseconds(), Poll: f.poll.Milliseconds(),
		MaxMessage: 64 << 10, MaxSend: 260 << 10,
	})
}

// session finds the session a request names, with the token where the
// carrier puts it: the header, or the query (eventsource, jsonp), or the
// form (jsonp's send). Those last cannot send headers in a browser, so a
// token header there is a client bug, answered as a wrong token.
func (f *fake) session(r *http.Request) *fakeSession {
	token := r.Header.Get("X-Tether-Token")
	if q := r.URL.Query(); isForm(r) || q.Has("token") {
		if token != "" {
			return nil
		}
		token = q.Get("token")
		if isForm(r) {
			token = r.PostFormValue("token")
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[r.URL.Query().Get("sid")]
	if s == nil || s.token != token {
		return nil
	}
	return s
}

func isForm(r *http.Request) bool {
	return r.Header.Get("Content-Type") == "application/x-www-form-urlencoded"
}

func (f *fake) trim(s *fakeSession, ack uint64) {
	s.acked = max(s.acked, ack)
	for !f.sloppy && len(s.log) > 0 && s.log[0].seq <= ack {
		s.log = s.log[1:]
	}
}

func notify(s *fakeSession) {
	close(s.changed)
	s.changed = make(chan struct{})
}

// apply runs one client frame, f.mu held: the echo app sends every
// accepted message back, and "close <code> <reason>" closes the session.
func (f *fake) apply(s *fakeSession, fr protocol.Frame) {
	switch fr.Type {
	case protocol.FrameText, protocol.FrameBinary:
		if fr.Seq != s.in+1 || s.closing != nil {
			return // a duplicate or a gap: dropped (SPEC.md §3)
		}
		s.in = fr.Seq
		if text := string(fr.Data); fr.Type == protocol.FrameText && strings.HasPrefix(text, "close ") {
			code, reason, _ := strings.Cut(strings.TrimPrefix(text, "close "), " ")
			n, _ := strconv.Atoi(code)
			s.closing = protocol.AppendClose(nil, protocol.CloseCode(n), reason)
		} else if rest, ok := strings.CutPrefix(text, "twice "); ok {
			// Two replies to one message, for a send answer to carry both.
			for _, t := range []string{rest, rest + " again"} {
				s.next++
				s.log = append(s.log, fakeMsg{seq: s.next, data: []byte(t)})
			}
		} else {
			s.next++
			s.log = append(s.log, fakeMsg{seq: s.next, binary: fr.Type == protocol.FrameBinary, data: append([]byte(nil), fr.Data...)})
		}
	case protocol.FrameAck:
		f.trim(s, fr.Seq)
	case protocol.FrameClose:
		f.closedBy = fr.Code
		s.closing = protocol.AppendClose(nil, protocol.CloseNormal, "")
	}
	notify(s)
}

func (f *fake) send(w http.ResponseWriter, r *http.Request) {
	s := f.session(r)
	if s == nil {
		w.Write(sessionLost)
		return
	}
	var body []byte
	if isForm(r) {
		body = []byte(r.PostFormValue("d")) // jsonp's form post
	} else {
		body, _ = io.ReadAll(r.Body)
	}
	frames, err := protocol.DecodeBatch(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	if f.cutSend > 0 {
		f.cutSend--
		f.mu.Unlock()
		cut(w)
		return
	}
	rec := fakeSend{carry: r.URL.Query().Get("carry") == "1"}
	if len(frames) > 0 && frames[0].Type == protocol.FrameAck {
		rec.ack = frames[0].Seq
	}
	for _, fr := range frames {
		f.apply(s, fr)
	}
	answer := append(protocol.AppendAck(nil, s.in), '\n')
	if rec.carry && f.carry {
		answer, rec.carried = f.carryLocked(s, answer)
	}
	f.sends = append(f.sends, rec)
	f.mu.Unlock()
	w.Write(answer)
}

// carryLocked appends to a send answer the messages it carries (fake.carry)
// and returns their numbers. f.mu is held.
func (f *fake) carryLocked(s *fakeSession, answer []byte) ([]byte, []uint64) {
	if s.handed > s.acked {
		return answer, nil // a receive answer may still be on its way
	}
	var msgs []fakeMsg
	for _, m := range s.log {
		if m.seq > s.acked {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		return answer, nil
	}
	more := f.carryOne && len(msgs) > 1
	if more {
		msgs = msgs[:1]
	}
	s.carried = msgs[len(msgs)-1].seq
	if f.skipCarry > 0 && len(msgs) > 1 {
		f.skipCarry--
		msgs = msgs[1:]
	}
	var seqs []uint64
	var frames []byte
	for _, m := range msgs {
		seqs = append(seqs, m.seq)
		frames = append(append(frames, m.frame()...), '\n')
	}
	if f.dupCarried {
		s.recarry, s.recarryFrom = frames, len(f.receives)
	}
	if more {
		frames = append(frames, "h\n"...)
	}
	return append(answer, frames...), seqs
}

// cutPolls cuts the next n polls or streams, including one held now.
func (f *fake) cutPolls(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutPoll += n
	f.kickLocked()
}

// forget drops every session, as a server does after its disconnect delay.
func (f *fake) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions = map[string]*fakeSession{}
}
