package protocol

import (
	"fmt"
	"testing"
)

// A WebSocket reader decodes message after message into one slice: what
// came before in dst is kept, a bad batch adds nothing, and a reused slice
// costs no allocation.
func TestAppendBatchReuses(t *testing.T) {
	dst := []Frame{{Type: FrameHeartbeat}}
	dst, err := AppendBatch(dst, []byte("a3\nm4:\"x\"\n"))
	if err != nil || len(dst) != 3 || dst[1].Seq != 3 || string(dst[2].Data) != "x" {
		t.Fatalf("AppendBatch = %d frames, %v", len(dst), err)
	}
	got, err := AppendBatch(dst, []byte("m5:\"y\"\nm6:bad\n"))
	if err == nil || len(got) != 3 || cap(got) != cap(dst) {
		t.Fatalf("a bad batch gave %d frames (cap %d of %d), %v", len(got), cap(got), cap(dst), err)
	}
	if full := got[:cap(got)]; len(full) > 3 && full[3].Data != nil {
		t.Error("a refused frame's data is still referenced past the kept length")
	}
	if testing.CoverMode() != "" {
		return
	}
	buf := make([]Frame, 0, 4)
	batch := []byte("a41\nm42:\"T1234567890123456789.xxxxxxxx\"\n")
	if n := testing.AllocsPerRun(100, func() {
		if buf, err = AppendBatch(buf[:0], batch); err != nil || len(buf) != 2 {
			t.Fatal(len(buf), err)
		}
	}); n != 0 {
		t.Errorf("AppendBatch into a reused slice allocates %.1f times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { DecodeBatch(batch) }); n != 1 {
		t.Errorf("DecodeBatch allocates %.1f times, want 1 (the slice, at its final size)", n)
	}
}

func TestAppendSockJSWebSocketReuses(t *testing.T) {
	dst := [][]byte{[]byte("kept")}
	dst, err := AppendSockJSWebSocket(dst, []byte(`["a","b"]`))
	if err != nil || fmt.Sprintf("%q", dst) != `["kept" "a" "b"]` {
		t.Fatalf("%q %v", dst, err)
	}
	for _, bad := range []string{`["c",1]`, `["c"] x`, `"c`} {
		got, err := AppendSockJSWebSocket(dst, []byte(bad))
		if err == nil || len(got) != 3 {
			t.Errorf("%s: %q %v", bad, got, err)
		}
	}
	if testing.CoverMode() != "" {
		return
	}
	buf := make([][]byte, 0, 4)
	msg := []byte(`["T1234567890123456789.xxxxxxxx"]`)
	if n := testing.AllocsPerRun(100, func() {
		if buf, err = AppendSockJSWebSocket(buf[:0], msg); err != nil || len(buf) != 1 {
			t.Fatal(len(buf), err)
		}
	}); n != 0 {
		t.Errorf("AppendSockJSWebSocket into a reused slice allocates %.1f times, want 0", n)
	}
}

// The WebSocket echo's client batch: an ack, then one 64-byte message.
var echoBatch = []byte("a41\nm42:\"T1779999999123456789.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n")

func BenchmarkDecodeBatchEcho(b *testing.B) {
	b.Run("DecodeBatch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeBatch(echoBatch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendBatch", func(b *testing.B) {
		b.ReportAllocs()
		var fs []Frame
		var err error
		for b.Loop() {
			if fs, err = AppendBatch(fs[:0], echoBatch); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeSockJSWebSocketEcho(b *testing.B) {
	msg := []byte(`["T1779999999123456789.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]`)
	b.Run("DecodeSockJSWebSocket", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeSockJSWebSocket(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendSockJSWebSocket", func(b *testing.B) {
		b.ReportAllocs()
		var ms [][]byte
		var err error
		for b.Loop() {
			if ms, err = AppendSockJSWebSocket(ms[:0], msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The send path decodes a SockJS payload into an array of its own: what
// came before in dst is kept, errors are those of DecodeSockJSPayload, and
// an array with room costs no allocation.
func TestAppendSockJSPayload(t *testing.T) {
	dst, err := AppendSockJSPayload([][]byte{[]byte("kept")}, []byte(`["a","b"]`))
	if err != nil || fmt.Sprintf("%q", dst) != `["kept" "a" "b"]` {
		t.Fatalf("%q %v", dst, err)
	}
	for in, want := range map[string]error{"": ErrSockJSPayloadExpected, `{"a":1}`: ErrSockJSPayloadExpected, `["a"`: ErrSockJSBrokenJSON} {
		if got, err := AppendSockJSPayload(nil, []byte(in)); err != want || got != nil {
			t.Errorf("%q: %q, %v; want %v", in, got, err, want)
		}
	}
	if testing.CoverMode() != "" {
		return
	}
	var buf [4][]byte
	body := []byte(`["T1234567890123456789.xxxxxxxx"]`)
	if n := testing.AllocsPerRun(100, func() {
		if msgs, err := AppendSockJSPayload(buf[:0], body); err != nil || len(msgs) != 1 {
			t.Fatal(len(msgs), err)
		}
	}); n != 0 {
		t.Errorf("AppendSockJSPayload into an array with room allocates %.1f times, want 0", n)
	}
}
