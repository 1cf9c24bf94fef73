package transports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// burstBatch is what a streaming answer writes when an app sends n
// messages at once: an ack, then n text messages.
func burstBatch(n, size int) *session.Batch {
	b := &session.Batch{Ack: 3}
	payload := []byte("T1763734291000000000." + strings.Repeat("x", size-21))
	for i := range n {
		b.Msgs = append(b.Msgs, session.Outgoing{Seq: uint64(100 + i), Data: payload})
	}
	return b
}

// TestSSEBatchIsOneEventPerFrame: an event stream batch is each frame of
// the native framing as one event, message events with their sequence
// number as id, in the batch's order.
func TestSSEBatchIsOneEventPerFrame(t *testing.T) {
	b := burstBatch(3, 24)
	b.Msgs[1] = session.Outgoing{Seq: 101, Binary: true, Data: []byte{0, 0xff}}
	b.Close, b.CloseCode, b.Reason = true, protocol.CloseNormal, "bye"
	got := string(sseStream{}.batch([]byte("prefix|"), b))
	want := "prefix|" +
		"data: a3\n\n" +
		"id: 100\ndata: m100:\"T1763734291000000000.xxx\"\n\n" +
		"id: 101\ndata: b101:AP8=\n\n" +
		"id: 102\ndata: m102:\"T1763734291000000000.xxx\"\n\n" +
		"data: c1000:\"bye\"\n\n"
	if got != want {
		t.Fatalf("batch:\n%s\nwant:\n%s", got, want)
	}
	// The same frames as the plain stream writes, line for line.
	var frames []string
	for _, line := range strings.Split(got[len("prefix|"):], "\n") {
		if f, ok := strings.CutPrefix(line, "data: "); ok {
			frames = append(frames, f+"\n")
		}
	}
	if plain := string(plainStream{Native{}}.batch(nil, b)); strings.Join(frames, "") != plain {
		t.Fatalf("event data %q, plain stream %q", frames, plain)
	}
}

// TestStreamBatchesDoNotAllocate: once the answer's buffer has grown, a
// batch of fresh (not broadcast) messages is framed without allocating.
func TestStreamBatchesDoNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	b := burstBatch(100, 64)
	for _, sw := range []struct {
		name string
		w    streamWriter
	}{{"streaming", plainStream{Native{}}}, {"eventsource", sseStream{}}} {
		buf := sw.w.batch(nil, b)
		if n := testing.AllocsPerRun(50, func() { buf = sw.w.batch(buf[:0], b) }); n != 0 {
			t.Errorf("%s: %.1f allocations per batch, want 0", sw.name, n)
		}
	}
}

// BenchmarkStreamBatch frames a burst of 100 messages of 64 bytes, as the
// s2c bench sends them, for each streaming carrier.
func BenchmarkStreamBatch(b *testing.B) {
	batch := burstBatch(100, 64)
	for _, sw := range []struct {
		name string
		w    streamWriter
	}{{"streaming", plainStream{Native{}}}, {"eventsource", sseStream{}}} {
		b.Run(sw.name, func(b *testing.B) {
			buf := sw.w.batch(nil, batch)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = sw.w.batch(buf[:0], batch)
			}
		})
	}
}

// streamServer serves one session's receiving side over real HTTP/1.1 on
// the carrier serve, with maxBytes as the answer's byte limit and small
// batches, so a burst spans several writes.
func streamServer(t *testing.T, serve func(Config, int, http.ResponseWriter, *http.Request, *session.Link), maxBytes int) (*httptest.Server, *session.Session) {
	t.Helper()
	reg := session.NewRegistry(&session.Options{MaxBatchBytes: 4 << 10})
	t.Cleanup(func() { reg.Shutdown(context.Background()) })
	l, err := reg.Create(session.Request{}, protocol.Streaming)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Session: reg.Options()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(cfg, maxBytes, w, r, l)
	}))
	t.Cleanup(srv.Close)
	return srv, l.Session()
}

// TestStreamAnswersAreUnchunked: both native streaming carriers answer
// without chunking, so a batch is one write, and end by closing; a burst
// larger than one batch arrives whole and in order, and the streaming
// answer ends with c4101 at its byte limit.
func TestStreamAnswersAreUnchunked(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(Config, int, http.ResponseWriter, *http.Request, *session.Link)
		frame func(line string) (string, bool) // the frame a line carries
	}{
		{"streaming", func(c Config, n int, w http.ResponseWriter, r *http.Request, l *session.Link) {
			NewStreaming(c, n).Serve(w, r, l, 0)
		}, func(line string) (string, bool) { return line, line != "h" }},
		{"eventsource", func(c Config, n int, w http.ResponseWriter, r *http.Request, l *session.Link) {
			NewEventSource(c, n).Serve(w, r, l, 0)
		}, func(line string) (string, bool) {
			f, ok := strings.CutPrefix(line, "data: ")
			return f, ok && f != "h"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n, limit = 300, 16 << 10 // 300 frames of about 80 bytes: past the limit
			srv, s := streamServer(t, tc.serve, limit)
			for i := range n {
				if err := s.Send(fmt.Sprintf("message %03d %s", i, strings.Repeat("x", 60))); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if len(resp.TransferEncoding) != 0 || !resp.Close || resp.ContentLength != -1 {
				t.Fatalf("answer framed as %v, close %v, length %d; want unframed, ended by close",
					resp.TransferEncoding, resp.Close, resp.ContentLength)
			}
			body, err := io.ReadAll(resp.Body) // ends: the limit closes the answer
			if err != nil {
				t.Fatal(err)
			}
			var frames []string
			for _, line := range strings.Split(string(body), "\n") {
				if f, ok := tc.frame(line); ok && f != "" {
					frames = append(frames, f)
				}
			}
			// The answer ends at the first flush past the limit, with whole
			// frames in order; the streaming one says why.
			if tc.name == "streaming" {
				if last := frames[len(frames)-1]; last != `c4101:"stream limit"` {
					t.Fatalf("last frame %q, want the stream limit", last)
				}
				frames = frames[:len(frames)-1]
			}
			if len(frames) == 0 || len(frames) >= n || len(body) < limit {
				t.Fatalf("%d frames in %d bytes, want the answer to end just past %d bytes", len(frames), len(body), limit)
			}
			for i, f := range frames {
				want := fmt.Sprintf(`m%d:"message %03d %s"`, i+1, i, strings.Repeat("x", 60))
				if f != want {
					t.Fatalf("frame %d is %q, want %q", i, f, want)
				}
			}
		})
	}
}

// stuckWriter is a streaming answer's writer whose client stopped reading:
// after the first write (the prelude), writes block until released.
type stuckWriter struct {
	h       http.Header
	writes  atomic.Int32
	release chan struct{}
	stuck   chan struct{} // closed when a write blocks
	once    sync.Once
}

func (w *stuckWriter) Header() http.Header { return w.h }
func (w *stuckWriter) WriteHeader(int)     {}
func (w *stuckWriter) Flush()              {}
func (w *stuckWriter) Write(p []byte) (int, error) {
	if w.writes.Add(1) > 1 {
		w.once.Do(func() { close(w.stuck) })
		<-w.release
		return 0, io.ErrClosedPipe
	}
	return len(p), nil
}

// A stream stuck in a write (its client's network gone silent, its socket
// full) still gives way when its session refuses another receiver: the
// next attempt attaches, without waiting for the write to fail.
func TestStuckStreamGivesWay(t *testing.T) {
	reg := session.NewRegistry(nil)
	t.Cleanup(func() { reg.Shutdown(context.Background()) })
	l, err := reg.Create(session.Request{}, protocol.Streaming)
	if err != nil {
		t.Fatal(err)
	}
	w := &stuckWriter{h: http.Header{}, release: make(chan struct{}), stuck: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewStreaming(Config{Session: reg.Options()}, 0).Serve(w, httptest.NewRequest(http.MethodGet, "/streaming", nil), l, 0)
	}()
	t.Cleanup(func() { close(w.release); <-done })
	for deadline := time.Now().Add(5 * time.Second); w.writes.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stream did not start")
		}
	}
	l.Session().Send("into a full socket")
	select {
	case <-w.stuck:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not write the message")
	}
	if _, err := l.Attach(protocol.LongPoll, 0); !errors.Is(err, session.ErrReceiverBusy) {
		t.Fatalf("Attach while the stream is attached: %v, want ErrReceiverBusy", err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		rcv, err := l.Attach(protocol.LongPoll, 0)
		if err == nil {
			rcv.Detach()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stuck stream did not give way: %v", err)
		}
	}
}
