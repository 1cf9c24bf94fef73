package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// The SockJS dialect (protocol 0.3.3, as sockjs-node 0.3.24 serves it and
// sockjs-client 1.x speaks it). Its server frames are o (open), h
// (heartbeat), a[...] (a JSON array of messages) and c[code,"reason"]
// (close); clients send bare JSON arrays of strings, without numbers or
// acknowledgements. The functions below only encode and decode; which frame
// goes where, and how each transport wraps it, is the carriers' business.

// Names of the SockJS transports as a session reports them
// (Session.Transport): sockjs-node's names, so apps migrating from it keep
// seeing the values its conn.protocol had.
const (
	SockJSWebSocket    = "websocket"
	SockJSRawWebSocket = "websocket-raw"
	SockJSXHRStreaming = "xhr-streaming"
	SockJSXHRPolling   = "xhr-polling"
	SockJSEventSource  = "eventsource"
	SockJSHTMLFile     = "htmlfile"
	SockJSJSONP        = "jsonp-polling"
)

// Close codes SockJS defines besides the app's 3000–4999.
const (
	// SockJSCloseInterrupted: a receiving request ended by the client (or
	// the network) before the server answered. The session cannot go on:
	// what that request carried may be lost, and SockJS has no replay.
	SockJSCloseInterrupted CloseCode = 1002
	// SockJSCloseAnotherConnection answers a second receiving request while
	// one is attached; the first keeps working.
	SockJSCloseAnotherConnection CloseCode = 2010
)

// SockJSClose maps a close the session layer reports to the one a SockJS
// client expects: the receiver-busy refusal becomes 2010 "Another
// connection still open"; every other code, the app's 3000–4999 among
// them, passes through.
func SockJSClose(code CloseCode, reason string) (CloseCode, string) {
	if code == CloseReceiverBusy {
		return SockJSCloseAnotherConnection, "Another connection still open"
	}
	return code, reason
}

// Errors of SockJS client payloads. Their texts are the protocol's: a
// server answers them with status 500 and the text as the body, and the
// official test suite looks for exactly these words.
var (
	// ErrSockJSPayloadExpected: an empty body, a missing form field d, or
	// valid JSON that is not an array of strings.
	ErrSockJSPayloadExpected = errors.New("Payload expected.")
	// ErrSockJSBrokenJSON: a body that is not JSON at all.
	ErrSockJSBrokenJSON = errors.New("Broken JSON encoding.")
)

// AppendSockJSOpen appends the open frame, o.
func AppendSockJSOpen(dst []byte) []byte { return append(dst, 'o') }

// AppendSockJSHeartbeat appends the heartbeat frame, h.
func AppendSockJSHeartbeat(dst []byte) []byte { return append(dst, 'h') }

// AppendSockJSMessages appends a[...] with each message quoted by
// AppendSockJSQuote.
func AppendSockJSMessages(dst []byte, msgs [][]byte) []byte {
	dst = append(dst, 'a', '[')
	for i, m := range msgs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendSockJSQuote(dst, m)
	}
	return append(dst, ']')
}

// AppendSockJSClose appends c[code,"reason"]. The code is written as given;
// SockJSClose maps session codes first.
func AppendSockJSClose(dst []byte, code CloseCode, reason string) []byte {
	dst = append(dst, 'c', '[')
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ',')
	dst = AppendSockJSQuote(dst, []byte(reason))
	return append(dst, ']')
}

// AppendSockJSQuote appends s as a JSON string escaped the way SockJS
// requires: what JSON itself requires (quote, backslash, control bytes,
// with \b \f \n \r \t in their short forms), and, as \uXXXX in lower-case
// hex, the characters browsers or proxies mangle on the way: U+200C–U+200F,
// U+2028–U+202F, U+2060–U+206F, U+FFF0–U+FFFF, and every character beyond
// U+FFFF as its UTF-16 surrogate pair (sockjs-node escapes surrogates one
// by one). Go's encoding/json escapes only U+2028 and U+2029 of these, and
// escapes <, > and & besides, which SockJS leaves alone. Invalid UTF-8
// becomes \ufffd, one per bad byte.
func AppendSockJSQuote(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = appendU4(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = appendU4(append(dst, s[start:i]...), utf8.RuneError)
		case sockjsEscapes(r):
			dst = appendU4(append(dst, s[start:i]...), r)
		case r > 0xffff:
			r -= 0x10000
			dst = appendU4(append(dst, s[start:i]...), 0xd800+(r>>10))
			dst = appendU4(dst, 0xdc00+(r&0x3ff))
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// sockjsEscapes reports whether SockJS escapes r, a character below
// U+10000 that JSON would leave alone.
func sockjsEscapes(r rune) bool {
	return r >= 0x200c && r <= 0x200f || r >= 0x2028 && r <= 0x202f ||
		r >= 0x2060 && r <= 0x206f || r >= 0xfff0 && r <= 0xffff
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// AppendSockJSEventData appends frame escaped for an EventSource data
// line: '%' as %25, and the three bytes that would end the line or the
// string early, '\r', '\n' and NUL, as %0D, %0A and %00. The client
// reverses it with decodeURI. Frames from this package hold none of the
// three, so in practice only '%' changes.
func AppendSockJSEventData(dst []byte, frame []byte) []byte {
	start := 0
	for i, c := range frame {
		var esc string
		switch c {
		case '%':
			esc = "%25"
		case '\r':
			esc = "%0D"
		case '\n':
			esc = "%0A"
		case 0:
			esc = "%00"
		default:
			continue
		}
		dst = append(append(dst, frame[start:i]...), esc...)
		start = i + 1
	}
	return append(dst, frame[start:]...)
}

// DecodeSockJSPayload decodes what a client sends over HTTP (xhr_send,
// jsonp_send): a JSON array of strings, possibly empty. It fails with
// ErrSockJSPayloadExpected for an empty body or JSON of another shape, and
// with ErrSockJSBrokenJSON for anything that is not JSON. Invalid UTF-8 is
// read as U+FFFD, as a JavaScript server reading the body as UTF-8 would.
// The messages may alias b.
func DecodeSockJSPayload(b []byte) ([][]byte, error) {
	return AppendSockJSPayload([][]byte{}, b)
}

// AppendSockJSPayload is DecodeSockJSPayload appending to dst, so that a
// send path can decode into an array of its own. On an error it returns
// nil.
func AppendSockJSPayload(dst [][]byte, b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, ErrSockJSPayloadExpected
	}
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	if msgs, ok := appendStringArray(dst, b); ok {
		return msgs, nil
	}
	if json.Valid(b) {
		return nil, ErrSockJSPayloadExpected
	}
	return nil, ErrSockJSBrokenJSON
}

// DecodeSockJSWebSocket decodes one WebSocket text message of a SockJS
// client: a JSON array of strings, or a single JSON string. An empty
// message holds no messages and is not an error. Anything else is
// ErrSockJSBrokenJSON. The messages may alias msg.
func DecodeSockJSWebSocket(msg []byte) ([][]byte, error) {
	return AppendSockJSWebSocket(nil, msg)
}

// AppendSockJSWebSocket is DecodeSockJSWebSocket appending to dst, so that
// a WebSocket reader decodes message after message into one reused slice.
// On an error it returns dst as it came.
func AppendSockJSWebSocket(dst [][]byte, msg []byte) ([][]byte, error) {
	if len(msg) == 0 {
		return dst, nil
	}
	if !utf8.Valid(msg) {
		msg = bytes.ToValidUTF8(msg, []byte("\uFFFD"))
	}
	if msg[0] == '[' {
		if msgs, ok := appendStringArray(dst, msg); ok {
			return msgs, nil
		}
		return dst, ErrSockJSBrokenJSON
	}
	s := bytes.Trim(msg, jsonSpace)
	if end, ok := stringEnd(s, 0); ok && end == len(s) {
		if m, err := unquote(s); err == nil {
			return append(dst, m), nil
		}
	}
	return dst, ErrSockJSBrokenJSON
}

const jsonSpace = " \t\r\n"

// appendStringArray decodes b, which must be valid UTF-8, as a JSON array
// of strings and nothing else, appending the strings to dst. When b is not
// such an array it reports false and returns dst as it came.
func appendStringArray(dst [][]byte, b []byte) ([][]byte, bool) {
	n := len(dst)
	fail := func() ([][]byte, bool) {
		clear(dst[n:])
		return dst[:n], false
	}
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '[' {
		return dst, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return dst, skipSpace(b, i+1) == len(b)
	}
	for {
		end, ok := stringEnd(b, i)
		if !ok {
			return fail()
		}
		m, err := unquote(b[i:end])
		if err != nil {
			return fail()
		}
		dst = append(dst, m)
		i = skipSpace(b, end)
		if i == len(b) {
			return fail()
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			if skipSpace(b, i+1) != len(b) {
				return fail()
			}
			return dst, true
		default:
			return fail()
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd finds the end (one past the closing quote) of the JSON string
// starting at b[i]; unquote then checks what is inside.
func stringEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// ValidSockJSCallback reports whether name may be used as the callback of
// the jsonp and htmlfile transports: 1 to max ASCII letters, digits, '-',
// '_' and '.', which is what sockjs-node accepts. Anything else could
// inject script into the answer.
func ValidSockJSCallback(name string, max int) bool {
	if len(name) == 0 || len(name) > max {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// AppendSockJSJSONP appends one frame as a JSONP answer:
// /**/callback("frame");\r\n. The frame is a JavaScript string literal
// with <, > and & escaped besides, so nothing in it can end the script.
// callback must have passed ValidSockJSCallback.
func AppendSockJSJSONP(dst []byte, callback string, frame []byte) []byte {
	dst = append(dst, "/**/"...)
	dst = append(dst, callback...)
	dst = append(dst, '(')
	dst = AppendQuoteHTML(dst, frame)
	return append(dst, ");\r\n"...)
}

// AppendSockJSHTMLFile appends one frame of the htmlfile transport: a
// script element that calls p with the frame. Escaping <, > and & keeps a
// message holding "</script>" from ending the element.
func AppendSockJSHTMLFile(dst []byte, frame []byte) []byte {
	dst = append(dst, "<script>\np("...)
	dst = AppendQuoteHTML(dst, frame)
	return append(dst, ");\n</script>\r\n"...)
}

// HTMLFilePreludeBytes is the least size of the htmlfile transport's
// first bytes: browsers render a streamed page only after about a kilobyte.
const HTMLFilePreludeBytes = 1024

// AppendSockJSHTMLFilePrelude appends the page the htmlfile transport
// starts with: it binds p to the parent window's callback, then padding to
// HTMLFilePreludeBytes and a blank line. callback must have passed
// ValidSockJSCallback.
func AppendSockJSHTMLFilePrelude(dst []byte, callback string) []byte {
	start := len(dst)
	dst = append(dst, htmlFileHead...)
	dst = append(dst, callback...)
	dst = append(dst, htmlFileTail...)
	for len(dst)-start < HTMLFilePreludeBytes {
		dst = append(dst, ' ')
	}
	return append(dst, "\r\n\r\n"...)
}

const (
	htmlFileHead = "<!doctype html>\n<html><head>\n" +
		"  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n" +
		"  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n" +
		"</head><body><h2>Don't panic!</h2>\n" +
		"  <script>\n" +
		"    document.domain = document.domain;\n" +
		"    var c = parent."
	htmlFileTail = ";\n" +
		"    c.start();\n" +
		"    function p(d) {c.message(d);};\n" +
		"    window.onload = function() {c.stop();};\n" +
		"  </script>"
)
