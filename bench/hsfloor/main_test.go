package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tether-rt/tether/protocol"
)

// A hello gets an open frame the clients accept; with -store compact it
// leaves one record, which expires; a bad hello gets 400 and no record.
func TestHandshake(t *testing.T) {
	for _, compact := range []bool{false, true} {
		tb := &table{m: map[uuid.UUID]record{}, compact: compact}
		w := httptest.NewRecorder()
		tb.handshake(w, httptest.NewRequest(http.MethodPost, "/echo/handshake", strings.NewReader(`{"v":1,"transport":"longpoll"}`)), -time.Second)
		frames, err := protocol.DecodeBatch(w.Body.Bytes())
		if w.Code != http.StatusOK || err != nil || len(frames) != 1 || frames[0].Type != protocol.FrameOpen {
			t.Fatalf("compact %v: answer %d %q (%v)", compact, w.Code, w.Body, err)
		}
		if o, err := protocol.DecodeOpen(frames[0].Data); err != nil || o.Resumed {
			t.Fatalf("open frame %q: %v", frames[0].Data, err)
		}
		if want := map[bool]int{false: 0, true: 1}[compact]; len(tb.m) != want {
			t.Fatalf("compact %v: %d records, want %d", compact, len(tb.m), want)
		}
		tb.sweepOnce(time.Now())
		if len(tb.m) != 0 {
			t.Fatalf("an expired record was kept")
		}

		w = httptest.NewRecorder()
		tb.handshake(w, httptest.NewRequest(http.MethodPost, "/echo/handshake", strings.NewReader(`{"v":2}`)), time.Hour)
		if w.Code != http.StatusBadRequest || len(tb.m) != 0 {
			t.Fatalf("bad hello: %d, %d records", w.Code, len(tb.m))
		}
	}
}
