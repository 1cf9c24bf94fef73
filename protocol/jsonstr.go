package protocol

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"slices"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendQuote appends s as a JSON string. Besides what RFC 8259 requires it
// escapes U+2028 and U+2029, which end a line in JavaScript before ES2019, so
// the result is also a valid JavaScript string literal (JSONP needs that).
// Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func AppendQuote(dst []byte, s []byte) []byte {
	return appendQuote(dst, s, false)
}

// AppendQuoteHTML is AppendQuote that also escapes '<', '>' and '&', for text
// that lands inside an HTML or script context (the JSONP carrier).
func AppendQuoteHTML(dst []byte, s []byte) []byte {
	return appendQuote(dst, s, true)
}

func appendQuote(dst []byte, s []byte, html bool) []byte {
	// Room for text without escapes is made once. Bytes are looked at one
	// at a time, but once a run of plain ones is long enough to be worth
	// it, the rest of the run is skipped eight bytes at a time; the run is
	// copied whole when it ends. (Escape-dense text such as JSON in JSON
	// never gets there, and pays nothing for the word test.)
	dst = slices.Grow(dst, len(s)+2)
	dst = append(dst, '"')
	safe := &quoteSafe
	if html {
		safe = &quoteSafeHTML
	}
	start, run := 0, 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				if run++; run == 8 {
					if html {
						i += plainWordsHTML(s[i:])
					} else {
						i += plainWords(s[i:])
					}
					run = 0
				}
				continue
			}
			run = 0
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		run = 0
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// quoteSafe says which ASCII bytes a JSON string holds as they are;
// quoteSafeHTML also leaves out '<', '>' and '&'.
var quoteSafe, quoteSafeHTML = func() (plain, html [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}()

// Bytes repeated over a word, for testing eight bytes at once.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainWords returns how many leading bytes of s need no escape, counted
// in whole words but for the last one: it stops at the first byte that
// may need one, or before a tail shorter than a word. Each word is tested
// at once: x&highs flags non-ASCII bytes, (x-0x20*ones)&^x&highs those
// below 0x20, hasZero of x xor a repeated byte those equal to it. The
// text is read little-endian, so the lowest flag is the first byte in the
// text that needs a look.
func plainWords(s []byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		bad := x&highs | (x-0x20*ones)&^x&highs | hasZero(x^'"'*ones) | hasZero(x^'\\'*ones)
		if bad != 0 {
			return i + bits.TrailingZeros64(bad)/8
		}
	}
	return i
}

// plainWordsHTML is plainWords that also stops at '<', '>' and '&'.
func plainWordsHTML(s []byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		bad := x&highs | (x-0x20*ones)&^x&highs | hasZero(x^'"'*ones) | hasZero(x^'\\'*ones) |
			hasZero(x^'<'*ones) | hasZero(x^'>'*ones) | hasZero(x^'&'*ones)
		if bad != 0 {
			return i + bits.TrailingZeros64(bad)/8
		}
	}
	return i
}

// plainTail reports whether every byte of s is ASCII that a JSON string
// holds as it is.
func plainTail(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf || !quoteSafe[c] {
			return false
		}
	}
	return true
}

// hasZero flags the zero bytes of x: each one's high bit is set in the
// result. A borrow can also flag a byte above a zero one, never below, so
// the lowest flag marks a true zero.
func hasZero(x uint64) uint64 { return (x - ones) &^ x & highs }

var errBadString = errors.New("malformed JSON string")

// unquote decodes the JSON string that must make up all of b. It returns b's
// inner bytes without copying when there is no escape in them.
func unquote(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, errBadString
	}
	in := b[1 : len(b)-1]
	// Fastest path: plain ASCII, eight bytes at a time, which needs no
	// UTF-8 check after. What it read, in[:plain], the paths below take
	// as read.
	plain := plainWords(in)
	if plainTail(in[plain:]) {
		return in, nil
	}
	// Fast path: no escapes, no control bytes, valid UTF-8.
	simple := true
	for _, c := range in[plain:] {
		if c == '\\' || c == '"' || c < 0x20 {
			simple = false
			break
		}
	}
	if simple {
		if !utf8.Valid(in[plain:]) {
			return nil, errBadString
		}
		return in, nil
	}
	out := append(make([]byte, 0, len(in)), in[:plain]...)
	for i := plain; i < len(in); {
		c := in[i]
		switch {
		case c == '"' || c < 0x20:
			return nil, errBadString
		case c != '\\':
			if c < utf8.RuneSelf {
				out = append(out, c)
				i++
				continue
			}
			r, size := utf8.DecodeRune(in[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, errBadString
			}
			out = append(out, in[i:i+size]...)
			i += size
			continue
		}
		// An escape.
		if i+1 >= len(in) {
			return nil, errBadString
		}
		e := in[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(in, i)
			if !ok {
				return nil, errBadString
			}
			i += 4
			if utf16IsSurrogate(r) {
				// A high surrogate followed by an escaped low one is one
				// rune; anything else is replaced, as encoding/json does.
				if r < 0xdc00 && i+6 <= len(in) && in[i] == '\\' && in[i+1] == 'u' {
					if r2, ok := hex4(in, i+2); ok && r2 >= 0xdc00 && r2 < 0xe000 {
						r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
						i += 6
						out = utf8.AppendRune(out, r)
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, errBadString
		}
	}
	return out, nil
}

func utf16IsSurrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
