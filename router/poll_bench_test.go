package router_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

// benchWriter is the least http.ResponseWriter: a fresh header map per
// answer, as net/http gives, and the body kept for the caller.
type benchWriter struct {
	h      http.Header
	status int
	body   []byte
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(s int)   { w.status = s }
func (w *benchWriter) Write(b []byte) (int, error) {
	w.body = append(w.body[:0], b...)
	return len(b), nil
}

func (w *benchWriter) reset() { w.h, w.status = make(http.Header), 0 }

func benchEcho(c *session.Session) {
	c.OnMessage(func(m session.Message) { c.Send(m.Text()) })
}

// BenchmarkLongPollRoundTrip measures what the router adds to one
// long-polling echo round trip (a send request, then the poll that
// carries the echo), without the network or net/http's own parsing: the
// handler-side CPU and allocations per round trip.
func BenchmarkLongPollRoundTrip(b *testing.B) {
	rt := router.New(benchEcho, &router.Options{Logger: slog.New(slog.DiscardHandler)})
	defer benchShutdown(b, rt)
	w := &benchWriter{}
	w.reset()
	hs, _ := http.NewRequest(http.MethodPost, "http://x/echo/handshake",
		strings.NewReader(`{"v":1,"transport":"longpoll"}`))
	rt.ServeHTTP(w, hs)
	o, err := protocol.DecodeOpen(bytes.TrimSpace(w.body)[1:])
	if err != nil {
		b.Fatalf("handshake: %v %q", err, w.body)
	}
	sid := url.QueryEscape(o.SID)
	send, _ := http.NewRequest(http.MethodPost, "http://x/echo/send?sid="+sid, nil)
	send.Header.Set("X-Tether-Token", o.Token)
	poll, _ := http.NewRequest(http.MethodGet, "http://x/echo/longpoll?sid="+sid, nil)
	poll.Header.Set("X-Tether-Token", o.Token)
	payload := bytes.Repeat([]byte("x"), 64)
	var batch []byte
	var got uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		batch = append(protocol.AppendText(batch[:0], uint64(i+1), payload), '\n')
		send.Body = io.NopCloser(bytes.NewReader(batch))
		send.ContentLength = int64(len(batch))
		w.reset()
		rt.ServeHTTP(w, send)
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("send: %d %q", w.status, w.body)
		}
		poll.URL.RawQuery = "sid=" + sid + "&ack=" + strconv.FormatUint(got, 10)
		w.reset()
		rt.ServeHTTP(w, poll)
		if !bytes.Contains(w.body, payload) {
			b.Fatalf("poll: %d %q", w.status, w.body)
		}
		got++
	}
}

// BenchmarkSockJSXHRRoundTrip is the same over the SockJS dialect's
// xhr-polling: an xhr_send, then the xhr poll that carries the echo.
func BenchmarkSockJSXHRRoundTrip(b *testing.B) {
	s := router.NewSockJS("/echo", benchEcho, &router.SockJSOptions{Logger: slog.New(slog.DiscardHandler)})
	defer benchShutdown(b, s)
	w := &benchWriter{}
	poll, _ := http.NewRequest(http.MethodPost, "http://x/echo/000/bench/xhr", nil)
	w.reset()
	s.ServeHTTP(w, poll) // the open frame
	send, _ := http.NewRequest(http.MethodPost, "http://x/echo/000/bench/xhr_send", nil)
	payload := `["` + string(bytes.Repeat([]byte("x"), 64)) + `"]`
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		send.Body = io.NopCloser(strings.NewReader(payload))
		send.ContentLength = int64(len(payload))
		w.reset()
		s.ServeHTTP(w, send)
		if w.status != http.StatusNoContent {
			b.Fatalf("xhr_send: %d %q", w.status, w.body)
		}
		w.reset()
		s.ServeHTTP(w, poll)
		if len(w.body) < 64 || w.body[0] != 'a' {
			b.Fatalf("xhr: %d %q", w.status, w.body)
		}
	}
}

func benchShutdown(b *testing.B, s interface {
	Shutdown(ctx context.Context) error
}) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		b.Errorf("Shutdown: %v", err)
	}
}

// BenchmarkHandshake measures one long-polling handshake, and reports the
// heap each session keeps (live/session, after a collection): the
// per-session share of a server holding many idle or abandoned sessions.
func BenchmarkHandshake(b *testing.B) {
	rt := router.New(benchEcho, &router.Options{Logger: slog.New(slog.DiscardHandler), MaxSessions: 1 << 30})
	defer benchShutdown(b, rt)
	hello := `{"v":1,"transport":"longpoll"}`
	hs, _ := http.NewRequest(http.MethodPost, "http://x/echo/handshake", nil)
	hs.Header = http.Header{
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
		"Accept":          {"*/*"},
		"Accept-Language": {"en-US,en;q=0.9"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"Content-Type":    {"application/json"},
		"Content-Length":  {"30"},
		"Origin":          {"http://x"},
		"Referer":         {"http://x/chat"},
		"Connection":      {"keep-alive"},
		"Sec-Fetch-Mode":  {"cors"},
		"Sec-Fetch-Site":  {"same-origin"},
		"Cookie":          {"session=abcdef0123456789; theme=dark"},
	}
	hs.Host = "x"
	w := &benchWriter{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		hs.Body = io.NopCloser(strings.NewReader(hello))
		hs.ContentLength = int64(len(hello))
		w.reset()
		rt.ServeHTTP(w, hs)
		if w.status != 0 {
			b.Fatalf("handshake: %d %q", w.status, w.body)
		}
	}
	b.StopTimer()
	w = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "live-B/session")
}
