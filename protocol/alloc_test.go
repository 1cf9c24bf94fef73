package protocol

import (
	"strings"
	"testing"
)

// Carriers encode every frame of a flush into one reused buffer; the
// package promises that this hot path allocates nothing (doc.go).
func TestEncodersDoNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	buf := make([]byte, 0, 4096)
	text := []byte("hello\nworld \"quoted\" \u2028 é \xff")
	quoted := AppendQuote(nil, text)
	data := []byte{0, 1, 2, 255, 254}
	encoded := AppendBinary(nil, 0, data)[3:]
	long := strings.Repeat("ü", 100) // cut by TruncateReason
	tests := []struct {
		name string
		fn   func()
	}{
		{"AppendText", func() { buf = AppendText(buf[:0], 7, text) }},
		{"AppendTextQuoted", func() { buf = AppendTextQuoted(buf[:0], 7, quoted) }},
		{"AppendBinary", func() { buf = AppendBinary(buf[:0], 8, data) }},
		{"AppendBinaryEncoded", func() { buf = AppendBinaryEncoded(buf[:0], 8, encoded) }},
		{"AppendWSBinary", func() { buf = AppendWSBinary(buf[:0], 8, data) }},
		{"AppendAck", func() { buf = AppendAck(buf[:0], MaxSeq) }},
		{"AppendHeartbeat", func() { buf = AppendHeartbeat(buf[:0]) }},
		{"AppendClose", func() { buf = AppendClose(buf[:0], CloseSessionLost, "session lost") }},
		{"AppendClose long reason", func() { buf = AppendClose(buf[:0], CloseProtocolError, long) }},
		{"AppendQuoteHTML", func() { buf = AppendQuoteHTML(buf[:0], text) }},
	}
	for _, tc := range tests {
		if n := testing.AllocsPerRun(100, tc.fn); n != 0 {
			t.Errorf("%s allocates %.1f times per call, want 0", tc.name, n)
		}
	}
}

func BenchmarkAppendText(b *testing.B) {
	for _, bc := range []struct {
		name string
		text []byte
	}{
		{"ascii", []byte(strings.Repeat("a plain chat message ", 10))},
		{"escaped", []byte(strings.Repeat("line\n\"q\" \u2028 ", 20))},
		{"unicode", []byte(strings.Repeat("héllo wörld 😀 ", 15))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.SetBytes(int64(len(bc.text)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendText(buf[:0], 123456, bc.text)
			}
		})
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	for _, bc := range []struct {
		name  string
		frame []byte
	}{
		{"text", AppendText(nil, 123456, []byte(strings.Repeat("a plain chat message ", 10)))},
		{"text escaped", AppendText(nil, 123456, []byte(strings.Repeat("line\n\"q\" ", 20)))},
		{"binary", AppendBinary(nil, 123456, make([]byte, 200))},
		{"ack", AppendAck(nil, 123456)},
		{"close", AppendClose(nil, CloseSessionLost, "session lost")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.frame)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeFrame(bc.frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeBatch(b *testing.B) {
	var batch []byte
	batch = append(AppendAck(batch, 99), '\n')
	for i := uint64(1); i <= 32; i++ {
		batch = append(AppendText(batch, i, []byte(`{"op":"move","x":12,"y":34}`)), '\n')
	}
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
}
