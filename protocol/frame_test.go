package protocol

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The encoders' output is the wire format, so it is pinned byte for byte;
// the examples come from SPEC.md §2.
func TestAppendExactBytes(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"text", AppendText(nil, 7, []byte("hello\nworld")), `m7:"hello\nworld"`},
		{"text empty", AppendText(nil, 1, nil), `m1:""`},
		{"text max seq", AppendText(nil, MaxSeq, []byte("x")), `m9007199254740991:"x"`},
		{"text escapes", AppendText(nil, 3, []byte("a\"b\\c\td\u2028")), `m3:"a\"b\\c\td\u2028"`},
		{"text quoted", AppendTextQuoted(nil, 3, AppendQuote(nil, []byte("hi\n"))), `m3:"hi\n"`},
		{"binary", AppendBinary(nil, 8, []byte{0, 1, 2, 255}), `b8:AAEC/w==`},
		{"binary empty", AppendBinary(nil, 1, nil), `b1:`},
		{"binary one pad", AppendBinary(nil, 2, []byte{0xfb, 0xff}), `b2:+/8=`},
		{"binary encoded", AppendBinaryEncoded(nil, 8, []byte("AAEC/w==")), `b8:AAEC/w==`},
		{"ack", AppendAck(nil, 12), `a12`},
		{"ack zero", AppendAck(nil, 0), `a0`},
		{"heartbeat", AppendHeartbeat(nil), `h`},
		{"close bye", AppendClose(nil, CloseNormal, "bye"), `c1000:"bye"`},
		{"close session lost", AppendClose(nil, CloseSessionLost, "session lost"), `c4200:"session lost"`},
		{"close empty reason", AppendClose(nil, 3000, ""), `c3000:""`},
		{"ws binary", AppendWSBinary(nil, 7, []byte{0, ':', '\n'}), "7:\x00:\n"},
	}
	for _, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// Encoders follow the strconv.Append* convention: what is already in dst
// stays, and the frame goes after it. A batch is built that way.
func TestAppendKeepsPrefix(t *testing.T) {
	var batch []byte
	batch = AppendAck(batch, 4)
	batch = append(batch, '\n')
	batch = AppendText(batch, 5, []byte("x"))
	batch = append(batch, '\n')
	batch = AppendBinary(batch, 6, []byte{1})
	batch = append(batch, '\n')
	batch = AppendHeartbeat(batch)
	batch = append(batch, '\n')
	batch = AppendClose(batch, CloseShutdown, "bye")
	batch = append(batch, '\n')
	want := "a4\nm5:\"x\"\nb6:AQ==\nh\nc4202:\"bye\"\n"
	if string(batch) != want {
		t.Fatalf("got %q, want %q", batch, want)
	}
}

// decodeOK lists frames a decoder must accept, with what it must make of
// them.
var decodeOK = []struct {
	in   string
	want Frame
}{
	{`m7:"hello\nworld"`, Frame{Type: FrameText, Seq: 7, Data: []byte("hello\nworld")}},
	{`m1:""`, Frame{Type: FrameText, Seq: 1, Data: []byte{}}},
	{`m1:"a:b"`, Frame{Type: FrameText, Seq: 1, Data: []byte("a:b")}},
	{`m9007199254740991:"x"`, Frame{Type: FrameText, Seq: MaxSeq, Data: []byte("x")}},
	{`m2:"\u00e9\ud83d\ude00\/"`, Frame{Type: FrameText, Seq: 2, Data: []byte("é😀/")}},
	{"m3:\"raw é 😀 \u2028\"", Frame{Type: FrameText, Seq: 3, Data: []byte("raw é 😀 \u2028")}},
	{`b8:AAEC/w==`, Frame{Type: FrameBinary, Seq: 8, Data: []byte{0, 1, 2, 255}}},
	{`b1:`, Frame{Type: FrameBinary, Seq: 1, Data: []byte{}}},
	{`b2:+/8=`, Frame{Type: FrameBinary, Seq: 2, Data: []byte{0xfb, 0xff}}},
	{`a0`, Frame{Type: FrameAck, Seq: 0}},
	{`a12`, Frame{Type: FrameAck, Seq: 12}},
	{`a9007199254740991`, Frame{Type: FrameAck, Seq: MaxSeq}},
	{`h`, Frame{Type: FrameHeartbeat}},
	{`c1000:"bye"`, Frame{Type: FrameClose, Code: CloseNormal, Reason: "bye"}},
	{`c3000:""`, Frame{Type: FrameClose, Code: 3000}},
	{`c4200:"session lost"`, Frame{Type: FrameClose, Code: CloseSessionLost, Reason: "session lost"}},
	{`c4999:"\u00e9"`, Frame{Type: FrameClose, Code: 4999, Reason: "é"}},
	{`o{"v":1}`, Frame{Type: FrameOpen, Data: []byte(`{"v":1}`)}},
	{`H{"v":1,"sid":"s","token":"t"}`, Frame{Type: FrameHello, Data: []byte(`{"v":1,"sid":"s","token":"t"}`)}},
}

// decodeBad lists frames SPEC.md §2 says a decoder MUST reject, each with
// the words its FrameError must use, so that a 400 body or a 4000 close
// reason tells a client author what is wrong.
var decodeBad = []struct {
	name, in, msg string
}{
	{"empty", "", "empty frame"},
	{"unknown type", `x1`, "unknown frame type"},
	{"unknown type upper M", `M1:"a"`, "unknown frame type"},
	{"unknown type NUL", "\x00", "unknown frame type"},
	{"unknown type space", ` h`, "unknown frame type"},

	{"leading zero text", `m01:"a"`, "malformed sequence number"},
	{"leading zero binary", `b07:AA==`, "malformed sequence number"},
	{"leading zero ack", `a01`, "malformed sequence number"},
	{"double zero ack", `a00`, "malformed sequence number"},
	{"plus sign text", `m+1:"a"`, "malformed sequence number"},
	{"minus sign text", `m-1:"a"`, "malformed sequence number"},
	{"plus sign ack", `a+1`, "malformed sequence number"},
	{"minus sign ack", `a-1`, "malformed sequence number"},
	{"hex seq", `a0x1`, "malformed sequence number"},
	{"space in seq", `a 1`, "malformed sequence number"},
	{"underscore in seq", `a1_000`, "malformed sequence number"},
	{"17 digits text", `m12345678901234567:"a"`, "malformed sequence number"},
	{"17 digits ack", `a10000000000000000`, "malformed sequence number"},
	{"seq 2^53 ack", `a9007199254740992`, "sequence number out of range"},
	{"seq 2^53 text", `m9007199254740992:"a"`, "sequence number out of range"},
	{"16 nines", `b9999999999999999:`, "sequence number out of range"},
	{"seq 0 text", `m0:"a"`, "sequence number out of range"},
	{"seq 0 binary", `b0:AA==`, "sequence number out of range"},
	{"no seq text", `m:"a"`, "missing sequence number"},
	{"no seq ack", `a`, "missing sequence number"},

	{"missing colon text", `m1"a"`, "missing ':'"},
	{"missing colon text bare", `m1`, "missing ':'"},
	{"missing colon binary", `b1AAEC`, "missing ':'"},
	{"missing colon close", `c1000"bye"`, "missing ':'"},

	{"text not quoted", `m1:hello`, "malformed JSON string"},
	{"text empty payload", `m1:`, "malformed JSON string"},
	{"text single quotes", `m1:'a'`, "malformed JSON string"},
	{"text lone quote", `m1:"`, "malformed JSON string"},
	{"text unterminated", `m1:"abc`, "malformed JSON string"},
	{"text bad escape", `m1:"\x"`, "malformed JSON string"},
	{"text short unicode escape", `m1:"\u12"`, "malformed JSON string"},
	{"text raw tab", "m1:\"a\tb\"", "malformed JSON string"},
	{"text raw CR", "m1:\"a\rb\"", "malformed JSON string"},
	{"text trailing byte", `m1:"a"x`, "malformed JSON string"},
	{"text trailing space", `m1:"a" `, "malformed JSON string"},
	{"text trailing CR", "m1:\"a\"\r", "malformed JSON string"},
	{"text two strings", `m1:"a""b"`, "malformed JSON string"},
	{"text escaped closing quote", `m1:"a\"`, "malformed JSON string"},

	{"base64 short", `b1:AAE`, "malformed base64"},
	{"base64 unpadded", `b1:AAECAw`, "malformed base64"},
	{"base64 pad inside", `b1:AA=C`, "malformed base64"},
	{"base64 url alphabet", `b1:AA-_`, "malformed base64"},
	{"base64 junk", `b1:!!!!`, "malformed base64"},
	{"base64 space", `b1:AAEC /w==`, "malformed base64"},
	{"base64 CR inside", "b1:AAEC\r/w==", "malformed base64"},
	{"base64 trailing CR", "b1:AAEC/w==\r", "malformed base64"},
	{"base64 LF inside", "b1:AAEC\n/w==", "malformed base64"},

	{"close code 999", `c999:"x"`, "close code outside 1000-4999"},
	{"close code 5000", `c5000:"x"`, "close code outside 1000-4999"},
	{"close code 0", `c0:""`, "close code outside 1000-4999"},
	{"close code 65536", `c65536:""`, "close code outside 1000-4999"},
	{"close code leading zero", `c01000:""`, "close code outside 1000-4999"},
	{"close code plus", `c+1000:""`, "close code outside 1000-4999"},
	{"close code minus", `c-1000:""`, "close code outside 1000-4999"},
	{"close code missing", `c:""`, "close code outside 1000-4999"},
	{"close code decimal", `c1000.0:""`, "close code outside 1000-4999"},
	{"close reason unquoted", `c1000:bye`, "malformed JSON string"},
	{"close reason trailing", `c1000:"bye"x`, "malformed JSON string"},

	{"invalid UTF-8 text", "m1:\"\xff\"", "malformed JSON string"},
	{"truncated UTF-8 text", "m1:\"a\xc3\"", "malformed JSON string"},
	{"encoded surrogate text", "m1:\"\xed\xa0\x80\"", "malformed JSON string"},
	{"invalid UTF-8 escaped text", "m1:\"\\n\xff\"", "malformed JSON string"},
	{"invalid UTF-8 close", "c1000:\"\xfe\"", "malformed JSON string"},
	{"invalid UTF-8 open", "o{\"a\":\"\xff\"}", "expected a JSON object"},
	{"invalid UTF-8 hello", "H{\"v\":1,\"sid\":\"\xc0\xaf\"}", "expected a JSON object"},

	{"heartbeat with digit", `h1`, "heartbeat with a body"},
	{"heartbeat with space", `h `, "heartbeat with a body"},
	{"heartbeat twice", `hh`, "heartbeat with a body"},
	{"heartbeat with CR", "h\r", "heartbeat with a body"},

	{"open empty", `o`, "expected a JSON object"},
	{"open array", `o[]`, "expected a JSON object"},
	{"open half brace", `o{`, "expected a JSON object"},
	{"hello empty", `H`, "expected a JSON object"},
	{"hello null", `Hnull`, "expected a JSON object"},
}

func TestDecodeFrame(t *testing.T) {
	for _, tc := range decodeOK {
		got, err := DecodeFrame([]byte(tc.in))
		if err != nil {
			t.Errorf("DecodeFrame(%q): %v", tc.in, err)
			continue
		}
		if !sameFrame(got, tc.want) {
			t.Errorf("DecodeFrame(%q) = %s, want %s", tc.in, showFrame(got), showFrame(tc.want))
		}
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	for _, tc := range decodeBad {
		f, err := DecodeFrame([]byte(tc.in))
		if err == nil {
			t.Errorf("%s: DecodeFrame(%q) = %s, want an error", tc.name, tc.in, showFrame(f))
			continue
		}
		checkFrameError(t, err, []byte(tc.in))
		var fe *FrameError
		if errors.As(err, &fe) && fe.Msg != tc.msg {
			t.Errorf("%s: DecodeFrame(%q) error %q, want message %q", tc.name, tc.in, err, tc.msg)
		}
	}
}

// checkFrameError checks the shape of every decoding error: a *FrameError
// that quotes the start of the offending frame and says what is wrong.
func checkFrameError(t *testing.T, err error, in []byte) {
	t.Helper()
	var fe *FrameError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v for %q is a %T, want *FrameError", err, in, err)
	}
	if len(fe.Frame) > 32 || !bytes.HasPrefix(in, fe.Frame) || len(fe.Frame) < min(len(in), 32) {
		t.Fatalf("FrameError.Frame = %q, want the first 32 bytes of %q", fe.Frame, in)
	}
	if fe.Msg == "" {
		t.Fatalf("FrameError for %q has no message", in)
	}
	want := "malformed frame " + strconv.Quote(string(fe.Frame)) + ": " + fe.Msg
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
}

// A FrameError becomes a close reason or a log line, so it stays short
// however long the frame, and it owns its bytes: the carrier reuses the
// buffer the frame came from.
func TestFrameErrorBoundedAndCopied(t *testing.T) {
	in := []byte("m1:" + strings.Repeat("x", 10000))
	_, err := DecodeFrame(in)
	if err == nil {
		t.Fatal("want an error")
	}
	checkFrameError(t, err, in)
	msg := err.Error()
	if len(msg) > 100 {
		t.Errorf("error is %d bytes long: %q", len(msg), msg)
	}
	for i := range in {
		in[i] = '?'
	}
	if err.Error() != msg {
		t.Errorf("error changed with its input: %q, was %q", err.Error(), msg)
	}
	want := `malformed frame "m1:` + strings.Repeat("x", 29) + `": malformed JSON string`
	if msg != want {
		t.Errorf("Error() = %q, want %q", msg, want)
	}
}

// Every encoder's output must decode back to what went in, over payloads
// that exercise escaping, padding and the sequence number bounds.
func TestRoundTrip(t *testing.T) {
	texts := []string{
		"", "hello", "hello\nworld", `"quoted" \back\slash/`, "\x00\x01\x1f\x7f",
		"\b\f\n\r\t", "é ü 中文 😀", "\u2028\u2029", "<script>&amp;</script>",
		"\ufffd", strings.Repeat("long ", 1000),
	}
	seqs := []uint64{1, 2, 9, 10, 12345, MaxSeq}
	for _, seq := range seqs {
		for _, s := range texts {
			enc := AppendText(nil, seq, []byte(s))
			checkDecodes(t, enc, Frame{Type: FrameText, Seq: seq, Data: []byte(s)})
			quoted := AppendTextQuoted(nil, seq, AppendQuote(nil, []byte(s)))
			if !bytes.Equal(quoted, enc) {
				t.Errorf("AppendTextQuoted = %q, AppendText = %q", quoted, enc)
			}
		}
		for n := 0; n <= 5; n++ { // every padding length
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(0xff - i*37)
			}
			checkDecodes(t, AppendBinary(nil, seq, data), Frame{Type: FrameBinary, Seq: seq, Data: data})
			encoded := base64.StdEncoding.AppendEncode(nil, data)
			if shared := AppendBinaryEncoded(nil, seq, encoded); !bytes.Equal(shared, AppendBinary(nil, seq, data)) {
				t.Errorf("AppendBinaryEncoded = %q, AppendBinary = %q", shared, AppendBinary(nil, seq, data))
			}
		}
		checkDecodes(t, AppendAck(nil, seq), Frame{Type: FrameAck, Seq: seq})
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	checkDecodes(t, AppendBinary(nil, 1, all), Frame{Type: FrameBinary, Seq: 1, Data: all})
	checkDecodes(t, AppendAck(nil, 0), Frame{Type: FrameAck, Seq: 0})
	checkDecodes(t, AppendHeartbeat(nil), Frame{Type: FrameHeartbeat})
	for _, code := range []CloseCode{1000, 3000, 3999, 4000, 4099, 4100, 4103, 4200, 4203, 4999} {
		for _, reason := range []string{"", "bye", code.String(), "a \"quoted\"\nreason", "é😀"} {
			checkDecodes(t, AppendClose(nil, code, reason), Frame{Type: FrameClose, Code: code, Reason: reason})
		}
	}
}

func checkDecodes(t *testing.T, enc []byte, want Frame) {
	t.Helper()
	if bytes.IndexByte(enc, '\n') >= 0 {
		t.Errorf("encoded frame %q holds a raw newline", enc)
	}
	if !utf8.Valid(enc) {
		t.Errorf("encoded frame %q is not UTF-8", enc)
	}
	got, err := DecodeFrame(enc)
	if err != nil {
		t.Errorf("DecodeFrame(%q): %v", enc, err)
		return
	}
	if !sameFrame(got, want) {
		t.Errorf("DecodeFrame(%q) = %s, want %s", enc, showFrame(got), showFrame(want))
	}
}

// A text frame without escapes is decoded without copying: the package
// documents that Data may alias the line, and carriers rely on it being
// cheap.
func TestDecodeTextAliasesInput(t *testing.T) {
	line := []byte(`m1:"plain text"`)
	f, err := DecodeFrame(line)
	if err != nil {
		t.Fatal(err)
	}
	if &f.Data[0] != &line[4] {
		t.Error("Data of an unescaped text frame is a copy, want it to alias the line")
	}
}

func TestParseSeq(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, // ack=0 means nothing received yet
		{"1", 1, true},
		{"42", 42, true},
		{"9007199254740991", MaxSeq, true},
		{"9007199254740992", 0, false},
		{"", 0, false},
		{"01", 0, false},
		{"+1", 0, false},
		{"-1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1e3", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseSeq(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSeq(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		batch string
		want  []string
	}{
		{"", nil},
		{"\n", nil},
		{"\n\n\n", nil},
		{"h", []string{"h"}},
		{"h\n", []string{"h"}},
		{"h\na1", []string{"h", "a1"}}, // a WebSocket message may drop its final newline
		{"\nh\n\n\na1\n\n", []string{"h", "a1"}},
		{"h\r\na1\r\n", []string{"h\r", "a1\r"}}, // CR is not a separator
	}
	for _, tc := range tests {
		var got []string
		err := Lines([]byte(tc.batch), func(line []byte) error {
			got = append(got, string(line))
			return nil
		})
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("Lines(%q) = %q, %v; want %q", tc.batch, got, err, tc.want)
		}
	}
}

func TestLinesStopsAtError(t *testing.T) {
	stop := errors.New("stop")
	var calls int
	err := Lines([]byte("a1\na2\na3\n"), func(line []byte) error {
		calls++
		if string(line) == "a2" {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Errorf("Lines returned %v after %d calls, want %v after 2", err, calls, stop)
	}
}

func TestDecodeBatch(t *testing.T) {
	batch := "a4\n\nm5:\"hi\\n\"\nb6:AQ==\nh\nc1000:\"bye\"" // no final newline, an empty line
	got, err := DecodeBatch([]byte(batch))
	if err != nil {
		t.Fatal(err)
	}
	want := []Frame{
		{Type: FrameAck, Seq: 4},
		{Type: FrameText, Seq: 5, Data: []byte("hi\n")},
		{Type: FrameBinary, Seq: 6, Data: []byte{1}},
		{Type: FrameHeartbeat},
		{Type: FrameClose, Code: CloseNormal, Reason: "bye"},
	}
	if len(got) != len(want) {
		t.Fatalf("DecodeBatch(%q) gave %d frames, want %d", batch, len(got), len(want))
	}
	for i := range want {
		if !sameFrame(got[i], want[i]) {
			t.Errorf("frame %d = %s, want %s", i, showFrame(got[i]), showFrame(want[i]))
		}
	}
	for _, empty := range []string{"", "\n", "\n\n"} {
		if got, err := DecodeBatch([]byte(empty)); err != nil || len(got) != 0 {
			t.Errorf("DecodeBatch(%q) = %d frames, %v; want none", empty, len(got), err)
		}
	}
}

// A send batch is applied all or nothing (SPEC.md §8), so one bad frame,
// wherever it is, fails the whole batch and no frame comes back.
func TestDecodeBatchFailsWhole(t *testing.T) {
	for _, batch := range []string{
		"m01:\"x\"\nm1:\"a\"\n",
		"m1:\"a\"\nm2:\"b\"\nx\n",
		"m1:\"a\"\nb2:AA=\nm3:\"c\"\n",
		"a1\r\nh\r\n", // CRLF batches are not tether/1
	} {
		frames, err := DecodeBatch([]byte(batch))
		if err == nil {
			t.Errorf("DecodeBatch(%q) accepted %d frames, want an error", batch, len(frames))
			continue
		}
		if frames != nil {
			t.Errorf("DecodeBatch(%q) failed but returned %d frames", batch, len(frames))
		}
		var fe *FrameError
		if !errors.As(err, &fe) {
			t.Errorf("DecodeBatch(%q) error is %T, want *FrameError", batch, err)
		}
	}
}

func TestWSBinaryRoundTrip(t *testing.T) {
	payloads := [][]byte{nil, {0}, []byte("7:"), []byte("a\nb:c"), {0xff, 0xfe, 0}, bytes.Repeat([]byte{0xab}, 70000)}
	for _, seq := range []uint64{1, 7, 10, MaxSeq} {
		for _, p := range payloads {
			msg := AppendWSBinary(nil, seq, p)
			f, err := DecodeWSBinary(msg)
			if err != nil {
				t.Errorf("DecodeWSBinary(%.20q): %v", msg, err)
				continue
			}
			if want := (Frame{Type: FrameBinary, Seq: seq, Data: p}); !sameFrame(f, want) {
				t.Errorf("DecodeWSBinary(%.20q) = %s, want %s", msg, showFrame(f), showFrame(want))
			}
		}
	}
	msg := AppendWSBinary(nil, 3, []byte("xyz"))
	f, _ := DecodeWSBinary(msg)
	if &f.Data[0] != &msg[2] {
		t.Error("DecodeWSBinary copied the payload, want it to alias the message")
	}
}

func TestDecodeWSBinaryRejects(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "binary message without ':'"},
		{"7", "binary message without ':'"},
		{"\x00\x01", "binary message without ':'"},
		{":abc", "missing sequence number"},
		{"0:abc", "sequence number out of range"},
		{"07:abc", "malformed sequence number"},
		{"+7:abc", "malformed sequence number"},
		{"b7:abc", "malformed sequence number"}, // the text form is not the binary form
		{"9007199254740992:", "sequence number out of range"},
		{"12345678901234567:", "malformed sequence number"},
	}
	for _, tc := range tests {
		f, err := DecodeWSBinary([]byte(tc.in))
		if err == nil {
			t.Errorf("DecodeWSBinary(%q) = %s, want an error", tc.in, showFrame(f))
			continue
		}
		checkFrameError(t, err, []byte(tc.in))
		if fe := err.(*FrameError); fe.Msg != tc.msg {
			t.Errorf("DecodeWSBinary(%q) error %q, want message %q", tc.in, err, tc.msg)
		}
	}
}

// FuzzDecodeFrame feeds arbitrary lines to DecodeFrame. It must never
// panic; an error is always a well-formed *FrameError; an accepted frame is
// UTF-8, keeps its fields in range, and survives being re-encoded.
func FuzzDecodeFrame(f *testing.F) {
	for _, tc := range decodeOK {
		f.Add([]byte(tc.in))
	}
	for _, tc := range decodeBad {
		f.Add([]byte(tc.in))
	}
	f.Add(AppendOpen(nil, sampleOpen))
	f.Add(AppendHello(nil, Hello{V: 1, SID: "s", Token: "t", Last: 9}))
	f.Fuzz(func(t *testing.T, line []byte) {
		fr, err := DecodeFrame(line)
		if err != nil {
			checkFrameError(t, err, line)
			return
		}
		checkFrameFields(t, line, fr)
		checkReencode(t, fr)
	})
}

// FuzzDecodeBatch checks that DecodeBatch is exactly "DecodeFrame on every
// non-empty line, all or nothing".
func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte("a4\n\nm5:\"hi\\n\"\nb6:AQ==\nh\nc1000:\"bye\""))
	f.Add([]byte("m1:\"a\"\nm2:\"b\"\nx\n"))
	f.Add([]byte("a1\r\nh\r\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(""))
	var all []byte
	for _, tc := range decodeOK {
		all = append(append(all, tc.in...), '\n')
	}
	f.Add(all)
	f.Fuzz(func(t *testing.T, batch []byte) {
		frames, err := DecodeBatch(batch)
		var want []Frame
		var wantErr error
		for _, line := range bytes.Split(batch, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			fr, err := DecodeFrame(line)
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, fr)
		}
		if wantErr != nil {
			if err == nil || err.Error() != wantErr.Error() {
				t.Fatalf("DecodeBatch(%q) error %v, want %v", batch, err, wantErr)
			}
			if frames != nil {
				t.Fatalf("DecodeBatch(%q) failed but returned %d frames", batch, len(frames))
			}
			return
		}
		if err != nil {
			t.Fatalf("DecodeBatch(%q): %v, but every line decodes", batch, err)
		}
		if len(frames) != len(want) {
			t.Fatalf("DecodeBatch(%q) gave %d frames, want %d", batch, len(frames), len(want))
		}
		for i := range want {
			if !sameFrame(frames[i], want[i]) {
				t.Fatalf("frame %d = %s, want %s", i, showFrame(frames[i]), showFrame(want[i]))
			}
			checkReencode(t, frames[i])
		}
	})
}

// FuzzDecodeWSBinary checks the WebSocket binary form: an accepted message
// is canonical, so re-encoding it gives back the very same bytes, and the
// base64 text form carries the same frame.
func FuzzDecodeWSBinary(f *testing.F) {
	f.Add([]byte("7:\x00\x01\x02"))
	f.Add([]byte("1:"))
	f.Add([]byte("9007199254740991:x"))
	f.Add([]byte("9007199254740992:x"))
	f.Add([]byte("07:x"))
	f.Add([]byte("0:x"))
	f.Add([]byte(":x"))
	f.Add([]byte("7"))
	f.Add([]byte("12:3:4\n5"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		fr, err := DecodeWSBinary(msg)
		if err != nil {
			checkFrameError(t, err, msg)
			return
		}
		if fr.Type != FrameBinary || fr.Seq < 1 || fr.Seq > MaxSeq {
			t.Fatalf("DecodeWSBinary(%q) = %s", msg, showFrame(fr))
		}
		if again := AppendWSBinary(nil, fr.Seq, fr.Data); !bytes.Equal(again, msg) {
			t.Fatalf("DecodeWSBinary(%q) re-encodes as %q", msg, again)
		}
		checkReencode(t, fr)
	})
}

// checkFrameFields checks what every accepted frame must satisfy.
func checkFrameFields(t *testing.T, line []byte, fr Frame) {
	t.Helper()
	if !utf8.Valid(line) {
		t.Fatalf("DecodeFrame accepted invalid UTF-8 %q", line)
	}
	if byte(fr.Type) != line[0] {
		t.Fatalf("DecodeFrame(%q).Type = %q", line, fr.Type)
	}
	switch fr.Type {
	case FrameText, FrameBinary:
		if fr.Seq < 1 || fr.Seq > MaxSeq {
			t.Fatalf("DecodeFrame(%q).Seq = %d", line, fr.Seq)
		}
		if fr.Type == FrameText && !utf8.Valid(fr.Data) {
			t.Fatalf("DecodeFrame(%q) text %q is not UTF-8", line, fr.Data)
		}
	case FrameAck:
		if fr.Seq > MaxSeq {
			t.Fatalf("DecodeFrame(%q).Seq = %d", line, fr.Seq)
		}
	case FrameClose:
		if !fr.Code.Valid() || !utf8.ValidString(fr.Reason) {
			t.Fatalf("DecodeFrame(%q) = %s", line, showFrame(fr))
		}
	}
}

// checkReencode re-encodes a decoded frame with the Append* functions and
// checks that decoding the result gives the same frame back.
func checkReencode(t *testing.T, fr Frame) {
	t.Helper()
	want := fr
	var enc []byte
	switch fr.Type {
	case FrameText:
		enc = AppendText(nil, fr.Seq, fr.Data)
	case FrameBinary:
		enc = AppendBinary(nil, fr.Seq, fr.Data)
	case FrameAck:
		enc = AppendAck(nil, fr.Seq)
	case FrameHeartbeat:
		enc = AppendHeartbeat(nil)
	case FrameClose:
		enc = AppendClose(nil, fr.Code, fr.Reason)
		// Decoders take reasons of any length; AppendClose cuts them to
		// what the spec allows.
		want.Reason = TruncateReason(fr.Reason)
	case FrameOpen:
		checkOpenReencode(t, fr.Data)
		return
	case FrameHello:
		checkHelloReencode(t, fr.Data)
		return
	default:
		t.Fatalf("decoded a frame of unknown type %q", fr.Type)
	}
	checkDecodes(t, enc, want)
}

// checkOpenReencode: an o frame whose object DecodeOpen accepts comes back
// the same through AppendOpen and DecodeFrame.
func checkOpenReencode(t *testing.T, obj []byte) {
	t.Helper()
	o, err := DecodeOpen(obj)
	if err != nil {
		return // DecodeFrame checks only the object's outline
	}
	enc := AppendOpen(nil, o)
	fr, err := DecodeFrame(enc)
	if err != nil || fr.Type != FrameOpen {
		t.Fatalf("AppendOpen(%+v) = %q does not decode: %v", o, enc, err)
	}
	if o2, err := DecodeOpen(fr.Data); err != nil || o2 != o {
		t.Fatalf("open %+v came back as %+v, %v", o, o2, err)
	}
}

// checkHelloReencode is checkOpenReencode for hellos.
func checkHelloReencode(t *testing.T, obj []byte) {
	t.Helper()
	h, err := DecodeHello(obj)
	if err != nil {
		return
	}
	enc := AppendHello(nil, h)
	fr, err := DecodeFrame(enc)
	if err != nil || fr.Type != FrameHello {
		t.Fatalf("AppendHello(%+v) = %q does not decode: %v", h, enc, err)
	}
	if h2, err := DecodeHello(fr.Data); err != nil || h2 != h {
		t.Fatalf("hello %+v came back as %+v, %v", h, h2, err)
	}
}

// sameFrame compares frames, treating nil and empty Data alike.
func sameFrame(a, b Frame) bool {
	return a.Type == b.Type && a.Seq == b.Seq && bytes.Equal(a.Data, b.Data) &&
		a.Code == b.Code && a.Reason == b.Reason
}

func showFrame(f Frame) string {
	return "{" + strconv.QuoteRune(rune(f.Type)) + " seq=" + strconv.FormatUint(f.Seq, 10) +
		" data=" + strconv.Quote(string(f.Data)) + " code=" + strconv.Itoa(int(f.Code)) +
		" reason=" + strconv.Quote(f.Reason) + "}"
}
