package client

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/transports"
)

// The fake's streaming receive paths, streaming and eventsource, which
// differ only in how frames look on the wire (transports/streaming.go and
// eventsource.go); fakeStream says how.
type fakeStream struct {
	contentType string
	prelude     []byte
	// frame appends one frame; seq is the message's number, or 0.
	frame func(dst []byte, seq uint64, frame []byte) []byte
	// limit ends an answer at the byte limit; nil just ends it.
	limit []byte
}

var plainStream = fakeStream{
	contentType: "text/plain; charset=utf-8",
	prelude:     bytes.Repeat([]byte("h\n"), transports.PreludeBytes/2),
	frame: func(dst []byte, _ uint64, frame []byte) []byte {
		return append(append(dst, frame...), '\n')
	},
	limit: append(protocol.AppendClose(nil, protocol.CloseStreamLimit, "stream limit"), '\n'),
}

var sseStream = fakeStream{
	contentType: "text/event-stream; charset=utf-8",
	prelude:     append(append([]byte(":"), bytes.Repeat([]byte(" "), transports.PreludeBytes)...), "\nretry: 100\n\n"...),
	frame:       sseEvent,
}

func sseEvent(dst []byte, seq uint64, frame []byte) []byte {
	if seq != 0 {
		dst = strconv.AppendUint(append(dst, "id: "...), seq, 10)
		dst = append(dst, '\n')
	}
	return append(append(append(dst, "data: "...), frame...), "\n\n"...)
}

func (f *fake) streaming(w http.ResponseWriter, r *http.Request) {
	ack, ok := queryAck(w, r)
	if !ok {
		return
	}
	s, from, _ := f.receiver(w, r, protocol.Streaming, ack)
	if s == nil {
		w.Write(sessionLost)
		return
	}
	f.stream(w, r, s, from, plainStream)
}

// eventsource takes Last-Event-ID as the ack when it is larger, as a
// browser's reconnection relies on, and refuses as an event.
func (f *fake) eventsource(w http.ResponseWriter, r *http.Request) {
	ack, ok := queryAck(w, r)
	if !ok {
		return
	}
	if id, err := protocol.ParseSeq(r.Header.Get("Last-Event-ID")); err == nil && id > ack {
		ack = id
	}
	s, from, _ := f.receiver(w, r, protocol.EventSource, ack)
	if s == nil {
		w.Header().Set("Content-Type", sseStream.contentType)
		w.Write(sseEvent(nil, 0, sessionLost[:len(sessionLost)-1]))
		return
	}
	f.stream(w, r, s, from, sseStream)
}

// stream runs one streaming answer: the prelude, then the log as it grows
// and a heartbeat when quiet, until the session closes, the byte limit, a
// cut, or the server's end.
func (f *fake) stream(w http.ResponseWriter, r *http.Request, s *fakeSession, from uint64, st fakeStream) {
	rc := http.NewResponseController(w)
	f.mu.Lock()
	mute := f.mute
	f.mu.Unlock()
	if mute {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", st.contentType)
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(st.prelude); err != nil || rc.Flush() != nil {
		return
	}
	sent, beat := 0, false
	timer := time.NewTimer(f.hb)
	defer timer.Stop()
	for {
		f.mu.Lock()
		switch {
		case f.stopping:
			f.mu.Unlock()
			return
		case f.mute:
			f.mu.Unlock()
			<-r.Context().Done()
			return
		case f.cutPoll > 0:
			f.cutPoll--
			f.mu.Unlock()
			cut(w)
			return
		}
		var b []byte
		for _, m := range s.log {
			if m.seq > from {
				b, from = st.frame(b, m.seq, m.frame()), m.seq
			}
		}
		closing := s.closing
		if closing != nil {
			b = st.frame(b, 0, closing)
		}
		if b == nil && beat {
			b = st.frame(b, 0, []byte("h"))
		}
		ch, kick := s.changed, f.kick
		f.mu.Unlock()
		beat = false
		if b != nil {
			sent += len(b)
			end := closing != nil || sent >= f.maxStream
			if closing == nil && sent >= f.maxStream {
				b = append(b, st.limit...)
			}
			if _, err := w.Write(b); err != nil || rc.Flush() != nil || end {
				return
			}
			timer.Reset(f.hb)
		}
		select {
		case <-ch:
		case <-kick:
		case <-timer.C:
			beat = true
		case <-r.Context().Done():
			return
		}
	}
}
