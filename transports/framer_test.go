package transports

import (
	"encoding/base64"
	"testing"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// TestAppendMessagePreparedOnce: messages sharing one session.Prepared (a
// broadcast) are encoded once by the native framing, whatever the number
// of receivers, and each frame is the one a plain Send would give.
func TestAppendMessagePreparedOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		data   []byte
		binary bool
		key    any
		encode func([]byte) []byte
		plain  func(dst []byte, seq uint64, data []byte) []byte
	}{
		{"text", []byte("héllo \"x\"\n</script>\u2028"), false, quotedKey{},
			func(d []byte) []byte { return protocol.AppendQuote(nil, d) }, protocol.AppendText},
		{"binary", []byte{0, 1, 0xff, '\n'}, true, base64Key{},
			func(d []byte) []byte { return base64.StdEncoding.AppendEncode(nil, d) }, protocol.AppendBinary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := session.NewPrepared(tc.data, tc.binary)
			for seq := uint64(1); seq <= 5; seq++ {
				m := session.Outgoing{Seq: seq, Binary: tc.binary, Data: p.Data(), Prepared: p}
				if got, want := AppendMessage(nil, m), tc.plain(nil, seq, tc.data); string(got) != string(want) {
					t.Fatalf("frame %q, want %q", got, want)
				}
				// The first frame filled the framing's cache; no later one
				// encodes again.
				enc := p.Encoded(tc.key, func([]byte) []byte {
					t.Fatalf("message %d: the payload was not cached by its framing", seq)
					return nil
				})
				if string(enc) != string(tc.encode(tc.data)) {
					t.Fatalf("cached %q", enc)
				}
			}
		})
	}
}

// TestJSONPBody: a JSONP answer is `/**/cb("<batch>");` with nothing in
// the string that could end the script element or the string.
func TestJSONPBody(t *testing.T) {
	batch := []byte("m1:\"</script><!-- & \u2028\u2029\"\n")
	got := string(JSONPBody("a.b_1", batch))
	want := `/**/a.b_1("m1:\"\u003c/script\u003e\u003c!-- \u0026 \u2028\u2029\"\n");` + "\n"
	if got != want {
		t.Fatalf("JSONPBody = %q, want %q", got, want)
	}
}
