package protocol

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// quoteTests pin AppendQuote's output. Both RFC 8259 and the JSONP carrier
// read it, so besides '"', '\\' and control bytes it escapes U+2028 and
// U+2029 (line terminators in JavaScript before ES2019).
var quoteTests = []struct {
	in, want string
}{
	{"", `""`},
	{"plain text", `"plain text"`},
	{`"`, `"\""`},
	{`\`, `"\\"`},
	{`say "hi" \o/`, `"say \"hi\" \\o/"`},
	{"\n\r\t", `"\n\r\t"`},
	{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
	{"\b\f\v", `"\u0008\u000c\u000b"`},
	{"\x7f", "\"\x7f\""}, // DEL is not a control character to JSON
	{"/", `"/"`},
	{"<a & b>", `"<a & b>"`}, // only AppendQuoteHTML escapes these
	{"\u2028\u2029", `"\u2028\u2029"`},
	{"a\u2028b", `"a\u2028b"`},
	{"é ü 中 😀", `"é ü 中 😀"`},
	{"\u2027\u202a", "\"\u2027\u202a\""}, // only the two line terminators
	{"\ufffd", "\"\ufffd\""},             // a real U+FFFD passes as is
	// Invalid UTF-8: each bad byte becomes \ufffd, as encoding/json does.
	{"\xff", `"\ufffd"`},
	{"a\xffb", `"a\ufffdb"`},
	{"\xe2\x82", `"\ufffd\ufffd"`},               // a cut three-byte rune
	{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},     // an encoded surrogate
	{"\xc0\xaf", `"\ufffd\ufffd"`},               // an overlong '/'
	{"ok\xf0\x9f\x98", `"ok\ufffd\ufffd\ufffd"`}, // a cut emoji at the end
}

func TestAppendQuote(t *testing.T) {
	for _, tc := range quoteTests {
		if got := AppendQuote(nil, []byte(tc.in)); string(got) != tc.want {
			t.Errorf("AppendQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := AppendQuote([]byte("m1:"), []byte("x")); string(got) != `m1:"x"` {
		t.Errorf("AppendQuote lost its prefix: %q", got)
	}
}

// AppendQuoteHTML output lands in a <script> answer (jsonp), where '<' could
// open "</script>" and '&' an entity.
func TestAppendQuoteHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<>&", `"\u003c\u003e\u0026"`},
		{"</script><script>alert(1)</script>", `"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"`},
		{"a\u2028b\nc\"", `"a\u2028b\nc\""`},
	}
	for _, tc := range tests {
		if got := AppendQuoteHTML(nil, []byte(tc.in)); string(got) != tc.want {
			t.Errorf("AppendQuoteHTML(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	// Apart from < > &, it is AppendQuote.
	for _, tc := range quoteTests {
		if strings.ContainsAny(tc.in, "<>&") {
			continue
		}
		if got := AppendQuoteHTML(nil, []byte(tc.in)); string(got) != tc.want {
			t.Errorf("AppendQuoteHTML(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// unquoteTests are JSON strings unquote must accept, with their values.
// Each is also checked against encoding/json, the reference for what a JSON
// string means; lone surrogates become U+FFFD there too.
var unquoteTests = []struct {
	in, want string
}{
	{`""`, ""},
	{`"abc"`, "abc"},
	{`"\/"`, "/"},
	{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
	{`"\u0000"`, "\x00"},
	{`"\u00e9\u00E9"`, "éé"},
	{`"\u2028"`, "\u2028"},
	{`"\ud83d\ude00"`, "😀"},
	{`"\uD83D\uDE00"`, "😀"},
	{`"\ud800"`, "\ufffd"},              // lone high surrogate
	{`"\udc00"`, "\ufffd"},              // lone low surrogate
	{`"\ud800x"`, "\ufffdx"},            // high surrogate, then not an escape
	{`"\ud800\u0041"`, "\ufffdA"},       // high surrogate, then not a low one
	{`"\ud800\ud800\udc00"`, "\ufffd𐀀"}, // the second high one pairs
	{`"\udc00\ud800"`, "\ufffd\ufffd"},  // wrong order
	{`"\udbff\udfff"`, "\U0010ffff"},
	{`"\ud800\n"`, "\ufffd\n"},
	{`"\ud800\\"`, "\ufffd\\"},
	{"\"raw é 😀 \u2028 \ufffd \x7f\"", "raw é 😀 \u2028 \ufffd \x7f"},
	{`"a\nb"`, "a\nb"},
	{`"mixed raw é and \u00e9"`, "mixed raw é and é"},
}

// unquoteBad are inputs unquote must refuse.
var unquoteBad = []string{
	``, `"`, `a`, `'a'`, `"abc`, `abc"`, `"a"b"`, `"a""`,
	`"\"`, `"\x"`, `"\a"`, `"\U0041"`, `"\u12"`, `"\u12g4"`, `"\u"`, `"\ud800\u12"`,
	"\"a\x00b\"", "\"a\tb\"", "\"a\nb\"", "\"\x1f\"", // raw control bytes
	"\"\xff\"", "\"a\xc3\"", "\"\xed\xa0\x80\"", "\"\\n\xff\"", "\"\xc0\xaf\"", // invalid UTF-8
	` "a"`, `"a" `, // whitespace is not part of a string
	`null`, `1`, `{}`,
}

func TestUnquote(t *testing.T) {
	for _, tc := range unquoteTests {
		got, err := unquote([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("unquote(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if ref, ok := jsonUnquote([]byte(tc.in)); !ok || ref != tc.want {
			t.Errorf("encoding/json reads %s as %q (ok=%v), the table says %q", tc.in, ref, ok, tc.want)
		}
	}
	for _, in := range unquoteBad {
		if got, err := unquote([]byte(in)); err == nil {
			t.Errorf("unquote(%q) = %q, want an error", in, got)
		}
	}
}

// What AppendQuote writes, unquote reads back, for every text a message can
// carry; and encoding/json reads it the same way.
func TestQuoteUnquote(t *testing.T) {
	for _, tc := range quoteTests {
		q := AppendQuote(nil, []byte(tc.in))
		got, err := unquote(q)
		if err != nil {
			t.Errorf("unquote(AppendQuote(%q)): %v", tc.in, err)
			continue
		}
		if utf8.ValidString(tc.in) && string(got) != tc.in {
			t.Errorf("unquote(AppendQuote(%q)) = %q", tc.in, got)
		}
		if ref, ok := jsonUnquote(q); !ok || ref != string(got) {
			t.Errorf("encoding/json reads %s as %q, unquote as %q", q, ref, got)
		}
	}
}

// FuzzUnquote checks unquote against encoding/json. Where both look at a
// JSON string that is valid UTF-8, they must agree on whether it is valid
// and on its value; whatever unquote accepts, encoding/json accepts too.
// (encoding/json also takes invalid UTF-8 and replaces it; tether/1 refuses
// it, SPEC.md §2.)
func FuzzUnquote(f *testing.F) {
	for _, tc := range unquoteTests {
		f.Add([]byte(tc.in))
	}
	for _, in := range unquoteBad {
		f.Add([]byte(in))
	}
	for _, tc := range quoteTests {
		f.Add([]byte(tc.want))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := unquote(in)
		ref, ok := jsonUnquote(in)
		if err == nil {
			if !ok {
				t.Fatalf("unquote(%q) = %q, but encoding/json refuses it", in, got)
			}
			if string(got) != ref {
				t.Fatalf("unquote(%q) = %q, encoding/json says %q", in, got, ref)
			}
			if !utf8.Valid(got) {
				t.Fatalf("unquote(%q) = %q is not UTF-8", in, got)
			}
			return
		}
		if ok && utf8.Valid(in) {
			t.Fatalf("unquote(%q): %v, but encoding/json reads %q", in, err, ref)
		}
	})
}

// FuzzQuoteRoundTrip checks AppendQuote and AppendQuoteHTML on any bytes:
// the output is valid JSON and JavaScript with no raw newline (so it can sit
// in a frame), unquote reads it back as the input (with U+FFFD for each
// invalid byte, as encoding/json would), and the HTML variant hides < > &.
func FuzzQuoteRoundTrip(f *testing.F) {
	for _, tc := range quoteTests {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("</script>"))
	f.Add([]byte("\u2028\xff\n\\\""))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, html := range []bool{false, true} {
			q := appendQuote(nil, in, html)
			if i := bytes.IndexFunc(q, func(r rune) bool { return r < 0x20 || r == '\u2028' || r == '\u2029' }); i >= 0 {
				t.Fatalf("quote of %q = %q holds a raw line break or control byte at %d", in, q, i)
			}
			if html && bytes.ContainsAny(q, "<>&") {
				t.Fatalf("AppendQuoteHTML(%q) = %q holds < > or &", in, q)
			}
			if !utf8.Valid(q) {
				t.Fatalf("quote of %q = %q is not UTF-8", in, q)
			}
			got, err := unquote(q)
			if err != nil {
				t.Fatalf("unquote(quote(%q) = %q): %v", in, q, err)
			}
			if utf8.Valid(in) && !bytes.Equal(got, in) {
				t.Fatalf("unquote(quote(%q)) = %q", in, got)
			}
			// encoding/json's own Marshal then Unmarshal is the reference
			// for what invalid input turns into.
			m, _ := json.Marshal(string(in))
			var ref string
			if err := json.Unmarshal(m, &ref); err != nil || string(got) != ref {
				t.Fatalf("unquote(quote(%q)) = %q, encoding/json round trip gives %q", in, got, ref)
			}
		}
	})
}

// jsonUnquote is the reference: encoding/json's reading of in, when in is
// exactly one JSON string (encoding/json would also take surrounding
// whitespace, which no frame has).
func jsonUnquote(in []byte) (string, bool) {
	if len(in) < 2 || in[0] != '"' || in[len(in)-1] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(in, &s); err != nil {
		return "", false
	}
	return s, true
}

// BenchmarkAppendQuote covers what carriers quote: short and long plain
// ASCII (the common case, and the fast path), JSON sent as text (a quote
// every few bytes), dense escapes, and non-ASCII text.
func BenchmarkAppendQuote(b *testing.B) {
	for _, bc := range []struct {
		name string
		text []byte
	}{
		{"ascii64", []byte("T1763734291000000000." + strings.Repeat("x", 43))},
		{"ascii1k", []byte(strings.Repeat("a plain chat message, ", 47))},
		{"json", []byte(`{"user":"alice","text":"hello there, how are you today?","ts":1763734291000}`)},
		{"escaped", []byte(strings.Repeat("line\n\"q\" \u2028 ", 20))},
		{"unicode", []byte(strings.Repeat("héllo wörld 😀 ", 15))},
	} {
		for _, html := range []bool{false, true} {
			name := bc.name
			if html {
				name += "/html"
			}
			b.Run(name, func(b *testing.B) {
				buf := make([]byte, 0, 4096)
				b.SetBytes(int64(len(bc.text)))
				b.ReportAllocs()
				for b.Loop() {
					buf = appendQuote(buf[:0], bc.text, html)
				}
			})
		}
	}
}

// jsonQuote is encoding/json's quoting of s, the reference AppendQuote
// and AppendQuoteHTML agree with byte for byte (it too escapes U+2028 and
// U+2029 and replaces invalid UTF-8).
func jsonQuote(t *testing.T, s []byte, html bool) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(string(s)); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// The quoting skips plain text eight bytes at a time; a byte to escape at
// any position of a word, and at every distance from the end, must still
// be seen. Each special byte goes at every offset of a plain text.
func TestAppendQuoteEveryOffset(t *testing.T) {
	specials := []string{"\"", "\\", "\x00", "\x1f", "\n", "\x7f", " ", "~", "<", ">", "&",
		"é", "\u2028", "\u2029", "😀", "\xff", "\xe2\x80", "\xed\xa0\x80"}
	for _, sp := range specials {
		for n := 0; n <= 24; n++ {
			for at := 0; at <= n; at++ {
				in := []byte(strings.Repeat("a", at) + sp + strings.Repeat("b", n-at))
				for _, html := range []bool{false, true} {
					got := string(appendQuote([]byte("m1:"), in, html))
					if want := "m1:" + jsonQuote(t, in, html); got != want {
						t.Fatalf("appendQuote(%q, html %v) = %s, want %s", in, html, got, want)
					}
				}
			}
		}
	}
}

// unquote reads plain ASCII a word at a time: a byte that needs a look
// (a quote, a backslash, a control byte, non-ASCII, invalid UTF-8) is
// caught at every place in and after the words, and plain text of every
// length comes back as it is.
func TestUnquoteWordPath(t *testing.T) {
	for n := range 26 {
		plain := strings.Repeat("x", n)
		if got, err := unquote([]byte(`"` + plain + `"`)); err != nil || string(got) != plain {
			t.Fatalf("unquote of %d plain bytes = %q, %v", n, got, err)
		}
		for i := range n {
			for _, bad := range []string{"\"", "\\", "\x01", "\x1f", "\xff", "\xc3"} {
				in := `"` + plain[:i] + bad + plain[i+1:] + `"`
				if got, err := unquote([]byte(in)); err == nil {
					t.Fatalf("unquote(%q) = %q, want an error", in, got)
				}
			}
			for _, ok := range []struct{ in, want string }{{"é", "é"}, {`\n`, "\n"}, {"\x7f", "\x7f"}} {
				in := `"` + plain[:i] + ok.in + plain[i+1:] + `"`
				want := plain[:i] + ok.want + plain[i+1:]
				if got, err := unquote([]byte(in)); err != nil || string(got) != want {
					t.Fatalf("unquote(%q) = %q, %v; want %q", in, got, err, want)
				}
			}
		}
	}
}
