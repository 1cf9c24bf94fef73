package client

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/transports"
)

// The fake's receive paths that answer one request with one batch:
// longpoll and jsonp (held), polling (at once), and jsonp's handshake.

// receiver starts a receive request: it finds the session, trims the log
// to the ack and records the request. from is what the client has; again
// is what the answer must repeat first (fake.dupCarried).
func (f *fake) receiver(w http.ResponseWriter, r *http.Request, carrier string, ack uint64) (s *fakeSession, from uint64, again []byte) {
	s = f.session(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	qack, _ := protocol.ParseSeq(r.URL.Query().Get("ack")) // ack may be Last-Event-ID's
	f.receives = append(f.receives, fakeReceive{carrier: carrier, ack: qack, lastEventID: r.Header.Get("Last-Event-ID")})
	if s == nil {
		return nil, 0, nil
	}
	f.trim(s, ack)
	from = ack
	if s.replayAll {
		from, s.replayAll = 0, false
	}
	if s.recarry != nil && len(f.receives) > s.recarryFrom {
		again, s.recarry = s.recarry, nil
		f.recarried++
	}
	return s, from, again
}

// pendingLocked returns the batch of messages above from and the close
// frame, or nil, and counts them as handed out. Messages a send answer
// carried are not pending: the receiver goes on after them (SPEC.md §5).
// f.mu is held.
func (f *fake) pendingLocked(s *fakeSession, from uint64) []byte {
	var b []byte
	from = max(from, s.carried)
	for _, m := range s.log {
		if m.seq > from {
			b = append(append(b, m.frame()...), '\n')
			s.handed = max(s.handed, m.seq)
		}
	}
	if s.closing != nil {
		b = append(append(b, s.closing...), '\n')
	}
	return b
}

func queryAck(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	ack, err := protocol.ParseSeq(r.URL.Query().Get("ack"))
	if err != nil {
		http.Error(w, "bad ack", http.StatusBadRequest)
		return 0, false
	}
	return ack, true
}

var sessionLost = append(protocol.AppendClose(nil, protocol.CloseSessionLost, "session lost"), '\n')

func (f *fake) longpoll(w http.ResponseWriter, r *http.Request) {
	f.held(w, r, protocol.LongPoll, func(b []byte) []byte { return b })
}

// held answers a poll held until there is something to say, in the form
// wrap gives the batch.
func (f *fake) held(w http.ResponseWriter, r *http.Request, carrier string, wrap func([]byte) []byte) {
	ack, ok := queryAck(w, r)
	if !ok {
		return
	}
	s, from, again := f.receiver(w, r, carrier, ack)
	if s == nil {
		w.Write(wrap(sessionLost))
		return
	}
	timer := time.NewTimer(f.hb)
	defer timer.Stop()
	f.mu.Lock()
	for {
		if f.mute {
			f.mu.Unlock()
			<-r.Context().Done()
			return
		}
		if f.cutPoll > 0 {
			f.cutPoll--
			f.mu.Unlock()
			cut(w)
			return
		}
		if b := f.pendingLocked(s, from); b != nil || again != nil {
			f.mu.Unlock()
			w.Write(wrap(append(again, b...)))
			return
		}
		ch, kick := s.changed, f.kick
		f.mu.Unlock()
		select {
		case <-ch:
		case <-kick:
		case <-timer.C:
			w.Write(wrap([]byte("h\n")))
			return
		case <-r.Context().Done():
			return
		}
		f.mu.Lock()
	}
}

func (f *fake) polling(w http.ResponseWriter, r *http.Request) {
	ack, ok := queryAck(w, r)
	if !ok {
		return
	}
	s, from, again := f.receiver(w, r, protocol.Polling, ack)
	if s == nil {
		w.Write(sessionLost)
		return
	}
	f.mu.Lock()
	if f.mute {
		f.mu.Unlock()
		<-r.Context().Done()
		return
	}
	if f.cutPoll > 0 {
		f.cutPoll--
		f.mu.Unlock()
		cut(w)
		return
	}
	b := f.pendingLocked(s, from)
	if f.onePerPoll && len(s.log) > 0 && s.log[len(s.log)-1].seq > from+1 {
		b = b[:bytes.IndexByte(b, '\n')+1] // the first message only
	}
	f.mu.Unlock()
	w.Write(append(again, b...)) // nothing at all when nothing is queued
}

// jsonp holds a poll like longpoll and wraps the answer in the callback,
// with the server's own wrapping code.
func (f *fake) jsonp(w http.ResponseWriter, r *http.Request) {
	cb := r.URL.Query().Get("c")
	if !protocol.ValidCallback(cb) {
		http.Error(w, "bad callback", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	f.held(w, r, protocol.JSONP, func(b []byte) []byte { return transports.JSONPBody(cb, b) })
}

// jsonpHandshake is the hello of a script tag: its fields in the query,
// the answer in the callback (SPEC.md §4.1).
func (f *fake) jsonpHandshake(w http.ResponseWriter, r *http.Request) {
	if f.refused(w, r) {
		return
	}
	q := r.URL.Query()
	cb := q.Get("c")
	if q.Get("transport") != protocol.JSONP || !protocol.ValidCallback(cb) {
		http.Error(w, "bad jsonp handshake", http.StatusBadRequest)
		return
	}
	h := protocol.Hello{Transport: protocol.JSONP, SID: q.Get("sid"), Token: q.Get("token")}
	var err error
	h.V, _ = strconv.Atoi(q.Get("v"))
	if q.Has("last") {
		h.Last, err = protocol.ParseSeq(q.Get("last"))
	}
	if err == nil {
		err = h.Validate()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, answer := f.open(h)
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	w.Write(transports.JSONPBody(cb, append(answer, '\n')))
}
