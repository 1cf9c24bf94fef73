package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendSockJSQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"hello", `"hello"`},
		{`a"b\c/`, `"a\"b\\c/"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x7f\u0080\u009f", "\"\x7f\u0080\u009f\""}, // JSON leaves them, so does SockJS
		{"<a href='x'>&amp;</a>", `"<a href='x'>&amp;</a>"`},
		{"é€ß中", `"é€ß中"`},
		{"\u200b\u200c\u200f\u2010", "\"\u200b\\u200c\\u200f\u2010\""},
		{"\u2027\u2028\u2029\u202f\u2030", "\"\u2027\\u2028\\u2029\\u202f\u2030\""},
		{"\u205f\u2060\u206f\u2070", "\"\u205f\\u2060\\u206f\u2070\""},
		{"\uffef\ufff0\ufffd\uffff", "\"\uffef\\ufff0\\ufffd\\uffff\""},
		{"😀", `"\ud83d\ude00"`},
		{"\U00010000\U0010ffff", `"\ud800\udc00\udbff\udfff"`},
		{"a\xffb\xc3", `"a\ufffdb\ufffd"`},
		{"%", `"%"`},
	} {
		if got := string(AppendSockJSQuote(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("AppendSockJSQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestSockJSQuoteEscapesExactlyTheProtocolsRange checks every character
// below U+10000 against the protocol's list of what a server must escape
// (\x00-\x1f, \u200c-\u200f, \u2028-\u202f, \u2060-\u206f,
// \ufff0-\uffff, besides quote and backslash), and that nothing else is.
func TestSockJSQuoteEscapesExactlyTheProtocolsRange(t *testing.T) {
	mustEscape := func(r rune) bool {
		return r < 0x20 || r == '"' || r == '\\' || r >= 0x200c && r <= 0x200f ||
			r >= 0x2028 && r <= 0x202f || r >= 0x2060 && r <= 0x206f || r >= 0xfff0
	}
	for r := rune(0); r <= 0xffff; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue // not encodable in UTF-8
		}
		in := string(r)
		got := AppendSockJSQuote(nil, []byte(in))
		escaped := !bytes.Equal(got, []byte(`"`+in+`"`))
		if escaped != mustEscape(r) {
			t.Fatalf("U+%04X: got %s, escaped=%v, want escaped=%v", r, got, escaped, mustEscape(r))
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != in {
			t.Fatalf("U+%04X: %s decodes to %q, %v", r, got, back, err)
		}
	}
}

func TestAppendSockJSFrames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{string(AppendSockJSOpen(nil)), "o"},
		{string(AppendSockJSHeartbeat(nil)), "h"},
		{string(AppendSockJSMessages(nil, nil)), "a[]"},
		{string(AppendSockJSMessages(nil, [][]byte{[]byte("x")})), `a["x"]`},
		{string(AppendSockJSMessages([]byte("z"), [][]byte{[]byte(`"`), []byte("\u2028"), nil})), `za["\"","\u2028",""]`},
		{string(AppendSockJSClose(nil, 3000, "Go away!")), `c[3000,"Go away!"]`},
		{string(AppendSockJSClose(nil, 2010, "Another connection still open")), `c[2010,"Another connection still open"]`},
		{string(AppendSockJSClose(nil, 1002, "a\"\n")), `c[1002,"a\"\n"]`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestSockJSClose(t *testing.T) {
	for _, tc := range []struct {
		code       CloseCode
		reason     string
		wantCode   CloseCode
		wantReason string
	}{
		{CloseReceiverBusy, CloseReceiverBusy.String(), 2010, "Another connection still open"},
		{3000, "Go away!", 3000, "Go away!"},
		{4999, "app", 4999, "app"},
		{CloseShutdown, "server shutting down", CloseShutdown, "server shutting down"},
		{SockJSCloseInterrupted, "Connection interrupted", 1002, "Connection interrupted"},
	} {
		code, reason := SockJSClose(tc.code, tc.reason)
		if code != tc.wantCode || reason != tc.wantReason {
			t.Errorf("SockJSClose(%d, %q) = %d, %q; want %d, %q", tc.code, tc.reason, code, reason, tc.wantCode, tc.wantReason)
		}
	}
}

func TestAppendSockJSEventData(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{`a["x"]`, `a["x"]`},
		{"%", "%25"},
		{`a["100%","%25"]`, `a["100%25","%2525"]`},
		{"a\r\nb\x00c", "a%0D%0Ab%00c"},
		{"é\u2028", "é\u2028"},
	} {
		if got := string(AppendSockJSEventData([]byte("data: "), []byte(tc.in))); got != "data: "+tc.want {
			t.Errorf("AppendSockJSEventData(%q) = %q, want %q", tc.in, got, "data: "+tc.want)
		}
	}
}

func TestAppendSockJSWrappers(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{string(AppendSockJSJSONP(nil, "callback", []byte("o"))), "/**/callback(\"o\");\r\n"},
		{string(AppendSockJSJSONP(nil, "x", []byte(`a["x"]`))), "/**/x(\"a[\\\"x\\\"]\");\r\n"},
		{string(AppendSockJSJSONP(nil, "_jp.a1", []byte(`a["</script>\u2028"]`))), "/**/_jp.a1(\"a[\\\"\\u003c/script\\u003e\\\\u2028\\\"]\");\r\n"},
		{string(AppendSockJSHTMLFile(nil, []byte("o"))), "<script>\np(\"o\");\n</script>\r\n"},
		{string(AppendSockJSHTMLFile(nil, []byte(`a["x"]`))), "<script>\np(\"a[\\\"x\\\"]\");\n</script>\r\n"},
		{string(AppendSockJSHTMLFile(nil, []byte(`a["</script><b>"]`))), "<script>\np(\"a[\\\"\\u003c/script\\u003e\\u003cb\\u003e\\\"]\");\n</script>\r\n"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestAppendSockJSHTMLFilePrelude(t *testing.T) {
	for _, cb := range []string{"c", "callback", strings.Repeat("x", 2000)} {
		p := string(AppendSockJSHTMLFilePrelude([]byte("keep"), cb))
		page, ok := strings.CutPrefix(p, "keep")
		end := strings.Index(page, "</script>") + len("</script>")
		if !ok || !strings.HasPrefix(page, "<!doctype html>\n") || !strings.HasSuffix(page, "\r\n\r\n") ||
			strings.Trim(page[end:len(page)-4], " ") != "" {
			t.Errorf("prelude for a %d-byte callback is malformed:\n%q", len(cb), p)
		}
		if len(page) <= HTMLFilePreludeBytes {
			t.Errorf("prelude for a %d-byte callback is %d bytes, want more than %d", len(cb), len(page), HTMLFilePreludeBytes)
		}
		if !strings.Contains(page, "var c = parent."+cb+";\n    c.start();") {
			t.Errorf("prelude does not bind a %d-byte callback", len(cb))
		}
	}
}

func TestValidSockJSCallback(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"callback", true}, {"_jp.a1b2c3", true}, {"a-b_c.D9", true}, {strings.Repeat("a", 32), true},
		{"", false}, {strings.Repeat("a", 33), false}, {" ", false}, {"*", false}, {"abc(", false},
		{"a;b", false}, {"a/b", false}, {"é", false}, {"a b", false}, {"<", false},
	} {
		if got := ValidSockJSCallback(tc.name, 32); got != tc.ok {
			t.Errorf("ValidSockJSCallback(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

var sockjsPayloadCases = []struct {
	in   string
	want []string
	err  error
}{
	{`["a"]`, []string{"a"}, nil},
	{`[]`, []string{}, nil},
	{" [ \"a\" ,\t\"b\"\r\n] \n", []string{"a", "b"}, nil},
	{`["x","x"]`, []string{"x", "x"}, nil},
	{`["  \u0000\n\r "]`, []string{"  \x00\n\r "}, nil},
	{`["\"\\\/\b\f\n\r\t"]`, []string{"\"\\/\b\f\n\r\t"}, nil},
	{`["\ud83d\ude00\u2028é"]`, []string{"😀\u2028é"}, nil},
	{`["\ud800"]`, []string{"\ufffd"}, nil},
	{"[\"a\xffb\"]", []string{"a\ufffdb"}, nil},
	{`["%61bc"]`, []string{"%61bc"}, nil},
	{``, nil, ErrSockJSPayloadExpected},
	{`null`, nil, ErrSockJSPayloadExpected},
	{`{}`, nil, ErrSockJSPayloadExpected},
	{`"a"`, nil, ErrSockJSPayloadExpected},
	{`1`, nil, ErrSockJSPayloadExpected},
	{`[1]`, nil, ErrSockJSPayloadExpected},
	{`["a",null]`, nil, ErrSockJSPayloadExpected},
	{`[["a"]]`, nil, ErrSockJSPayloadExpected},
	{`["x`, nil, ErrSockJSBrokenJSON},
	{`[`, nil, ErrSockJSBrokenJSON},
	{`["a",]`, nil, ErrSockJSBrokenJSON},
	{`["a"]x`, nil, ErrSockJSBrokenJSON},
	{`["a"]]`, nil, ErrSockJSBrokenJSON},
	{`["a" "b"]`, nil, ErrSockJSBrokenJSON},
	{"[\"a\nb\"]", nil, ErrSockJSBrokenJSON},
	{`["\x"]`, nil, ErrSockJSBrokenJSON},
	{`  `, nil, ErrSockJSBrokenJSON},
	{`d=%5B%22x%22%5D`, nil, ErrSockJSBrokenJSON},
}

func TestDecodeSockJSPayload(t *testing.T) {
	for _, tc := range sockjsPayloadCases {
		got, err := DecodeSockJSPayload([]byte(tc.in))
		if !errors.Is(err, tc.err) {
			t.Errorf("DecodeSockJSPayload(%q): error %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("DecodeSockJSPayload(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if err == nil && got == nil {
			t.Errorf("DecodeSockJSPayload(%q) = nil, want a non-nil slice", tc.in)
		}
	}
	if ErrSockJSPayloadExpected.Error() != "Payload expected." || ErrSockJSBrokenJSON.Error() != "Broken JSON encoding." {
		t.Errorf("error texts changed: %q, %q", ErrSockJSPayloadExpected, ErrSockJSBrokenJSON)
	}
}

func TestDecodeSockJSWebSocket(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{``, nil, false},
		{`[]`, []string{}, false},
		{`["a"]`, []string{"a"}, false},
		{`["a","b"]`, []string{"a", "b"}, false},
		{`"a"`, []string{"a"}, false},
		{` "a\n" `, []string{"a\n"}, false},
		{`["a`, nil, true},
		{`[1]`, nil, true},
		{`1`, nil, true},
		{`"a" "b"`, nil, true},
		{`"a`, nil, true},
		{`{"a":1}`, nil, true},
		{`null`, nil, true},
	} {
		got, err := DecodeSockJSWebSocket([]byte(tc.in))
		if (err != nil) != tc.err {
			t.Errorf("DecodeSockJSWebSocket(%q): error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("DecodeSockJSWebSocket(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzDecodeSockJSPayload holds the decoder to encoding/json: it accepts
// exactly the JSON arrays of strings, with the same strings, and sorts
// every refusal into the right one of its two errors.
func FuzzDecodeSockJSPayload(f *testing.F) {
	for _, tc := range sockjsPayloadCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := DecodeSockJSPayload(in)
		clean := bytes.ToValidUTF8(in, []byte("\uFFFD"))
		// Into []any: encoding/json would read null into a []string.
		var raw []any
		jerr := json.Unmarshal(clean, &raw)
		isArray := jerr == nil && raw != nil
		var want []string
		for _, v := range raw {
			s, ok := v.(string)
			isArray = isArray && ok
			want = append(want, s)
		}
		switch {
		case err == nil:
			if !isArray {
				t.Fatalf("accepted %q, which encoding/json does not read as an array of strings (%v)", in, jerr)
			}
			if len(got) != len(want) {
				t.Fatalf("%q: %d messages, encoding/json reads %d", in, len(got), len(want))
			}
			for i := range got {
				if string(got[i]) != want[i] {
					t.Fatalf("%q: message %d is %q, encoding/json reads %q", in, i, got[i], want[i])
				}
			}
		case isArray:
			t.Fatalf("refused %q (%v), an array of strings to encoding/json", in, err)
		case errors.Is(err, ErrSockJSBrokenJSON) && json.Valid(clean):
			t.Fatalf("%q is valid JSON, not broken", in)
		case errors.Is(err, ErrSockJSPayloadExpected) && len(in) > 0 && !json.Valid(clean):
			t.Fatalf("%q is not JSON, yet the error is %v", in, err)
		}
	})
}

// FuzzDecodeSockJSWebSocket checks that the WebSocket decoder reads an
// array as the HTTP decoder does, and a lone string as one message.
func FuzzDecodeSockJSWebSocket(f *testing.F) {
	for _, s := range []string{``, `[]`, `["a"]`, `"a"`, ` "a" `, `["a`, `1`, `"\u2028"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := DecodeSockJSWebSocket(in)
		if len(in) == 0 {
			if got != nil || err != nil {
				t.Fatalf("empty message gave %q, %v", got, err)
			}
			return
		}
		if in[0] == '[' {
			want, werr := DecodeSockJSPayload(in)
			if (err == nil) != (werr == nil) || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Fatalf("%q: %q, %v; the HTTP decoder gives %q, %v", in, got, err, want, werr)
			}
			return
		}
		var s string
		jerr := json.Unmarshal(bytes.ToValidUTF8(in, []byte("\uFFFD")), &s)
		if (err == nil) != (jerr == nil) {
			t.Fatalf("%q: error %v, encoding/json says %v", in, err, jerr)
		}
		if err == nil && (len(got) != 1 || string(got[0]) != s) {
			t.Fatalf("%q: %q, want [%q]", in, got, s)
		}
	})
}

// FuzzAppendSockJSQuote checks that every string survives the round trip
// through JSON, and that no character SockJS escapes is ever left raw.
func FuzzAppendSockJSQuote(f *testing.F) {
	for _, s := range []string{"", "a", "\u2028\ufff0😀", "\xff\xfe", "\"\\\x00", "<&>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		q := AppendSockJSQuote(nil, in)
		var back string
		if err := json.Unmarshal(q, &back); err != nil {
			t.Fatalf("%q quotes to %s, not JSON: %v", in, q, err)
		}
		if want := string([]rune(string(in))); back != want {
			t.Fatalf("%q comes back as %q, want %q", in, back, want)
		}
		for i, r := range string(q) {
			if r < 0x20 || r > 0xffff || sockjsEscapes(r) || r == utf8.RuneError && !bytes.Contains(in, []byte("\uFFFD")) {
				t.Fatalf("%q: raw U+%04X at %d of %s", in, r, i, q)
			}
		}
		frames, err := DecodeSockJSPayload(append(append([]byte{'['}, q...), ']'))
		if err != nil || len(frames) != 1 || string(frames[0]) != back {
			t.Fatalf("%q: DecodeSockJSPayload of its array gives %q, %v", in, frames, err)
		}
	})
}
