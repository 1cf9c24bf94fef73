package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

var sampleOpen = Open{
	V: 1, SID: "0b5e4b8e-3f55-4b4e-9a54-8f3b1c1d2e3f", Token: "AAAAAAAAAAAAAAAAAAAAAA",
	Resumed: true, Ack: 41, Heartbeat: 25000, Timeout: 50000, Poll: 1000,
	MaxMessage: 65536, MaxSend: 266240,
}

func TestKnownCarrier(t *testing.T) {
	if len(Carriers) != 6 {
		t.Errorf("Carriers = %q, SPEC.md §5 names six", Carriers)
	}
	for _, c := range []string{"websocket", "streaming", "eventsource", "longpoll", "jsonp", "polling"} {
		if !KnownCarrier(c) {
			t.Errorf("KnownCarrier(%q) = false", c)
		}
	}
	for _, c := range []string{"", "WebSocket", "ws", "xhr-streaming", "websocket "} {
		if KnownCarrier(c) {
			t.Errorf("KnownCarrier(%q) = true", c)
		}
	}
}

func TestHelloValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		h    Hello
		err  string // "" when valid
	}{
		{"new session", Hello{V: 1, Transport: LongPoll}, ""},
		{"new session, no transport (WebSocket hello)", Hello{V: 1}, ""},
		{"resume", Hello{V: 1, SID: "s", Token: "t", Last: 7}, ""},
		{"last at MaxSeq", Hello{V: 1, SID: "s", Token: "t", Last: MaxSeq}, ""},
		{"longest sid and token", Hello{V: 1, SID: long(64), Token: long(128)}, ""},
		{"version 0", Hello{}, "unsupported protocol version 0"},
		{"version 2", Hello{V: 2}, "unsupported protocol version 2"},
		{"unknown transport", Hello{V: 1, Transport: "carrier-pigeon"}, `unknown transport "carrier-pigeon"`},
		{"transport case", Hello{V: 1, Transport: "WebSocket"}, `unknown transport "WebSocket"`},
		{"last beyond MaxSeq", Hello{V: 1, SID: "s", Token: "t", Last: MaxSeq + 1}, "last out of range"},
		{"resume without token", Hello{V: 1, SID: "s"}, "resume without a token"},
		{"sid too long", Hello{V: 1, SID: long(65), Token: "t"}, "sid or token too long"},
		{"token too long", Hello{V: 1, SID: "s", Token: long(129)}, "sid or token too long"},
	}
	for _, c := range Carriers {
		tests = append(tests, struct {
			name string
			h    Hello
			err  string
		}{"transport " + c, Hello{V: 1, Transport: c}, ""})
	}
	for _, tc := range tests {
		err := tc.h.Validate()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: Validate(%+v) = %v", tc.name, tc.h, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%s: Validate(%+v) = %v, want %q", tc.name, tc.h, err, tc.err)
		}
	}
}

func TestDecodeHello(t *testing.T) {
	tests := []struct {
		in   string
		want Hello
	}{
		{`{"v":1,"transport":"longpoll"}`, Hello{V: 1, Transport: LongPoll}},
		{`{"v":1}`, Hello{V: 1}},
		{`{"v":1,"sid":"s","token":"t","last":42}`, Hello{V: 1, SID: "s", Token: "t", Last: 42}},
		{" {\"v\":1}\n", Hello{V: 1}}, // an HTTP body may end with a newline
		{`{"v":1,"transport":"polling","last":0}`, Hello{V: 1, Transport: Polling}},
	}
	for _, tc := range tests {
		got, err := DecodeHello([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("DecodeHello(%s) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	if h, _ := DecodeHello([]byte(`{"v":1,"sid":"s","token":"t"}`)); !h.Resume() {
		t.Error("a hello with a sid does not ask to resume")
	}
	if h, _ := DecodeHello([]byte(`{"v":1}`)); h.Resume() {
		t.Error("a hello without a sid asks to resume")
	}
}

// A hello is decoded strictly: a typo or stray bytes are a 400, not a
// silently new session. JSON-level problems say "malformed hello".
func TestDecodeHelloRejects(t *testing.T) {
	tests := []struct{ in, err string }{
		{``, "malformed hello"},
		{`{`, "malformed hello"},
		{`[]`, "malformed hello"},
		{`"v"`, "malformed hello"},
		{`{"v":1,"transprt":"polling"}`, `malformed hello: json: unknown field "transprt"`},
		{`{"v":1,"extra":true}`, `malformed hello: json: unknown field "extra"`},
		{`{"v":1}x`, "malformed hello: trailing data"},
		{`{"v":1}{"v":1}`, "malformed hello: trailing data"},
		{`{"v":1}}`, "malformed hello: trailing data"},
		{`{"v":1}]`, "malformed hello: trailing data"},
		{`{"v":1} 1`, "malformed hello: trailing data"},
		{`{"v":"1"}`, "malformed hello"},
		{`{"v":1.5}`, "malformed hello"},
		{`{"v":1,"last":-1}`, "malformed hello"},
		{`{"v":1,"last":1e3}`, "malformed hello"},
		{`{"v":1,"last":18446744073709551616}`, "malformed hello"},
		{`{"v":2}`, "unsupported protocol version 2"},
		{`{}`, "unsupported protocol version 0"},
		{`null`, "unsupported protocol version 0"},
		{`{"v":1,"transport":"carrier-pigeon"}`, `unknown transport "carrier-pigeon"`},
		{`{"v":1,"sid":"abc"}`, "resume without a token"},
		{`{"v":1,"sid":"s","token":"t","last":9007199254740992}`, "last out of range"},
	}
	for _, tc := range tests {
		h, err := DecodeHello([]byte(tc.in))
		if err == nil {
			t.Errorf("DecodeHello(%s) = %+v, want an error", tc.in, h)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("DecodeHello(%s) error %q, want it to start with %q", tc.in, err, tc.err)
		}
	}
}

func TestAppendHello(t *testing.T) {
	tests := []struct {
		h    Hello
		want string
	}{
		{Hello{V: 1}, `H{"v":1}`},
		{Hello{V: 1, Transport: WebSocket}, `H{"v":1,"transport":"websocket"}`},
		{Hello{V: 1, SID: "s", Token: "t", Last: 42}, `H{"v":1,"sid":"s","token":"t","last":42}`},
	}
	for _, tc := range tests {
		got := AppendHello([]byte("x"), tc.h)
		if string(got) != "x"+tc.want {
			t.Errorf("AppendHello(%+v) = %s, want %s", tc.h, got[1:], tc.want)
		}
		fr, err := DecodeFrame(got[1:])
		if err != nil || fr.Type != FrameHello {
			t.Fatalf("DecodeFrame(%s) = %s, %v", got[1:], showFrame(fr), err)
		}
		if h, err := DecodeHello(fr.Data); err != nil || h != tc.h {
			t.Errorf("hello %+v came back as %+v, %v", tc.h, h, err)
		}
	}
}

func TestOpenRoundTrip(t *testing.T) {
	enc := AppendOpen(nil, sampleOpen)
	want := `o{"v":1,"sid":"0b5e4b8e-3f55-4b4e-9a54-8f3b1c1d2e3f","token":"AAAAAAAAAAAAAAAAAAAAAA",` +
		`"resumed":true,"ack":41,"hb":25000,"timeout":50000,"poll":1000,"maxMessage":65536,"maxSend":266240}`
	if string(enc) != want {
		t.Errorf("AppendOpen = %s\nwant          %s", enc, want)
	}
	fr, err := DecodeFrame(enc)
	if err != nil || fr.Type != FrameOpen {
		t.Fatalf("DecodeFrame(%s) = %s, %v", enc, showFrame(fr), err)
	}
	got, err := DecodeOpen(fr.Data)
	if err != nil || got != sampleOpen {
		t.Errorf("DecodeOpen = %+v, %v; want %+v", got, err, sampleOpen)
	}
}

func TestDecodeOpenRejects(t *testing.T) {
	for _, in := range []string{
		``, `{`, `[]`, `{"v":1,"sid":"s","token":"t"}x`,
		`{"v":"1","sid":"s","token":"t"}`,
		`{"v":2,"sid":"s","token":"t"}`,
		`{"sid":"s","token":"t"}`,
		`{"v":1,"token":"t"}`,
		`{"v":1,"sid":"s"}`,
		`{"v":1,"sid":"","token":"t"}`,
	} {
		if o, err := DecodeOpen([]byte(in)); err == nil {
			t.Errorf("DecodeOpen(%s) = %+v, want an error", in, o)
		}
	}
}

// Unlike a hello, an open frame is read leniently: a client must keep
// working against a newer server that adds fields.
func TestDecodeOpenIgnoresNewFields(t *testing.T) {
	o, err := DecodeOpen([]byte(`{"v":1,"sid":"s","token":"t","hb":25000,"future":{"x":[1]}}`))
	if err != nil || o.SID != "s" || o.Heartbeat != 25000 {
		t.Errorf("DecodeOpen = %+v, %v", o, err)
	}
}

// A callback name is pasted into a JavaScript answer, so anything beyond
// SPEC.md §5's alphabet could inject script.
func TestValidCallback(t *testing.T) {
	good := []string{
		"cb", "a", "_", ".", "Z9", "jQuery123_456", "tether.cb_1", "A.b.C",
		strings.Repeat("x", MaxCallbackLen),
	}
	bad := []string{
		"", strings.Repeat("x", MaxCallbackLen+1),
		"<script>", "a(b)", "a b", " cb", "cb ", "é", "cb\u2028", "a\x00", "a\n",
		"a-b", "a;b", "a/b", "a[0]", "a'b", `a"b`, "a=b", "a+b", "$", "a,b", "cb\xff",
	}
	for _, name := range good {
		if !ValidCallback(name) {
			t.Errorf("ValidCallback(%q) = false", name)
		}
	}
	for _, name := range bad {
		if ValidCallback(name) {
			t.Errorf("ValidCallback(%q) = true", name)
		}
	}
}

// FuzzDecodeHello feeds arbitrary bytes to DecodeHello. It must never
// panic; an accepted hello is valid, its JSON is exactly one object, and it
// survives AppendHello and DecodeFrame unchanged.
func FuzzDecodeHello(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"transport":"longpoll"}`, `{"v":1}`, `{"v":1,"sid":"s","token":"t","last":42}`,
		" {\"v\":1}\n", `{"v":1}}`, `{"v":1}]`, `{"v":1}x`, `{"v":1,"extra":1}`, `{"V":1}`,
		`{"v":1,"sid":"\ud800","token":"\u2028<&>"}`, `{"v":1,"last":9007199254740992}`,
		`null`, `{}`, `[]`, ``, `{"v":1,"v":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		h, err := DecodeHello(obj)
		if err != nil {
			return
		}
		if err := h.Validate(); err != nil {
			t.Fatalf("DecodeHello(%q) = %+v, which is invalid: %v", obj, h, err)
		}
		if !jsonObject(obj) {
			t.Fatalf("DecodeHello accepted %q, which is not one JSON object", obj)
		}
		checkHelloReencode(t, obj)
	})
}

// jsonObject reports whether b is one JSON object, with optional whitespace
// around it.
func jsonObject(b []byte) bool {
	s := strings.Trim(string(b), " \t\r\n")
	return strings.HasPrefix(s, "{") && json.Valid([]byte(s))
}
