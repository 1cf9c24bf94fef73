package protocol

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// FrameType is the first byte of a frame.
type FrameType byte

// Frame types of tether/1 (SPEC.md §2).
const (
	FrameOpen      FrameType = 'o'
	FrameText      FrameType = 'm'
	FrameBinary    FrameType = 'b'
	FrameAck       FrameType = 'a'
	FrameHeartbeat FrameType = 'h'
	FrameClose     FrameType = 'c'
	FrameHello     FrameType = 'H'
)

// MaxSeq is the largest sequence number: 2^53-1, so JavaScript numbers hold
// every sequence number exactly.
const MaxSeq = 1<<53 - 1

// Frame is one decoded frame. Which fields are set depends on Type:
// Seq for m, b and a; Data for m (the text), b (the bytes), o and H (the raw
// JSON object); Code and Reason for c.
type Frame struct {
	Type   FrameType
	Seq    uint64
	Data   []byte
	Code   CloseCode
	Reason string
}

// FrameError says why a frame could not be decoded. Carriers turn it into
// a 400 answer or a 4000 close, with Error() as the reason.
type FrameError struct {
	Frame []byte // the offending frame, cut to 32 bytes
	Msg   string
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("malformed frame %q: %s", e.Frame, e.Msg)
}

func frameErr(f []byte, msg string) error {
	if len(f) > 32 {
		f = f[:32]
	}
	return &FrameError{Frame: append([]byte(nil), f...), Msg: msg}
}

// AppendText appends the frame m<seq>:"text", without a newline.
func AppendText(dst []byte, seq uint64, text []byte) []byte {
	dst = append(dst, 'm')
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, ':')
	return AppendQuote(dst, text)
}

// AppendTextQuoted appends m<seq>: followed by quoted, which must already be
// a JSON string from AppendQuote. A broadcast quotes its payload once and
// shares it between every receiver's frames.
func AppendTextQuoted(dst []byte, seq uint64, quoted []byte) []byte {
	dst = append(dst, 'm')
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, ':')
	return append(dst, quoted...)
}

// AppendBinary appends the frame b<seq>:<base64>, without a newline.
func AppendBinary(dst []byte, seq uint64, data []byte) []byte {
	dst = append(dst, 'b')
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, ':')
	return base64.StdEncoding.AppendEncode(dst, data)
}

// AppendAck appends a<seq>.
func AppendAck(dst []byte, seq uint64) []byte {
	dst = append(dst, 'a')
	return strconv.AppendUint(dst, seq, 10)
}

// AppendHeartbeat appends h.
func AppendHeartbeat(dst []byte) []byte { return append(dst, 'h') }

// AppendClose appends c<code>:"reason". A reason longer than MaxReasonBytes
// is cut at a rune boundary.
func AppendClose(dst []byte, code CloseCode, reason string) []byte {
	dst = append(dst, 'c')
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ':')
	return AppendQuote(dst, []byte(TruncateReason(reason)))
}

// TruncateReason cuts r to at most MaxReasonBytes without splitting a rune.
func TruncateReason(r string) string {
	if len(r) <= MaxReasonBytes {
		return r
	}
	n := MaxReasonBytes
	for n > 0 && !utf8.RuneStart(r[n]) {
		n--
	}
	return r[:n]
}

// AppendWSBinary appends the WebSocket binary form of a binary message:
// <seq>: followed by the raw bytes (SPEC.md §2.1).
func AppendWSBinary(dst []byte, seq uint64, data []byte) []byte {
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, ':')
	return append(dst, data...)
}

// DecodeWSBinary decodes a WebSocket binary message into a b frame. Data
// aliases msg.
func DecodeWSBinary(msg []byte) (Frame, error) {
	i := bytes.IndexByte(msg, ':')
	if i < 0 {
		return Frame{}, frameErr(msg, "binary message without ':'")
	}
	seq, err := parseSeq(msg[:i], false)
	if err != nil {
		return Frame{}, frameErr(msg, err.Error())
	}
	return Frame{Type: FrameBinary, Seq: seq, Data: msg[i+1:]}, nil
}

// DecodeFrame decodes one frame (a line without its newline). Data may alias
// line.
func DecodeFrame(line []byte) (Frame, error) {
	if len(line) == 0 {
		return Frame{}, frameErr(line, "empty frame")
	}
	t := FrameType(line[0])
	body := line[1:]
	switch t {
	case FrameHeartbeat:
		if len(body) != 0 {
			return Frame{}, frameErr(line, "heartbeat with a body")
		}
		return Frame{Type: t}, nil
	case FrameAck:
		seq, err := parseSeq(body, true)
		if err != nil {
			return Frame{}, frameErr(line, err.Error())
		}
		return Frame{Type: t, Seq: seq}, nil
	case FrameText, FrameBinary:
		i := bytes.IndexByte(body, ':')
		if i < 0 {
			return Frame{}, frameErr(line, "missing ':'")
		}
		seq, err := parseSeq(body[:i], false)
		if err != nil {
			return Frame{}, frameErr(line, err.Error())
		}
		payload := body[i+1:]
		var data []byte
		if t == FrameText {
			data, err = unquote(payload)
		} else {
			data, err = base64.StdEncoding.AppendDecode(nil, payload)
			// StdEncoding skips '\r' and '\n', which are not base64
			// (SPEC.md §2): "b1:AA\r==" must be refused, not decoded.
			if err != nil || bytes.ContainsAny(payload, "\r\n") {
				err = errors.New("malformed base64")
			}
		}
		if err != nil {
			return Frame{}, frameErr(line, err.Error())
		}
		return Frame{Type: t, Seq: seq, Data: data}, nil
	case FrameClose:
		i := bytes.IndexByte(body, ':')
		if i < 0 {
			return Frame{}, frameErr(line, "missing ':'")
		}
		code, err := strconv.ParseUint(string(body[:i]), 10, 16)
		if err != nil || i > 4 || (i > 1 && body[0] == '0') || !CloseCode(code).Valid() {
			return Frame{}, frameErr(line, "close code outside 1000-4999")
		}
		reason, err := unquote(body[i+1:])
		if err != nil {
			return Frame{}, frameErr(line, err.Error())
		}
		return Frame{Type: t, Code: CloseCode(code), Reason: string(reason)}, nil
	case FrameOpen, FrameHello:
		if len(body) < 2 || body[0] != '{' || !utf8.Valid(body) {
			return Frame{}, frameErr(line, "expected a JSON object")
		}
		return Frame{Type: t, Data: body}, nil
	}
	return Frame{}, frameErr(line, "unknown frame type")
}

// parseSeq parses a sequence number: decimal, no sign, no leading zero, at
// most MaxSeq. Zero is allowed only where allowZero says (acks: "nothing").
func parseSeq(b []byte, allowZero bool) (uint64, error) {
	if len(b) == 0 {
		return 0, errors.New("missing sequence number")
	}
	if len(b) > 16 || (len(b) > 1 && b[0] == '0') {
		return 0, errors.New("malformed sequence number")
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("malformed sequence number")
		}
		n = n*10 + uint64(c-'0')
	}
	if n > MaxSeq || (n == 0 && !allowZero) {
		return 0, errors.New("sequence number out of range")
	}
	return n, nil
}

// ParseSeq parses a sequence number as it appears in a query (ack=, or a
// Last-Event-ID header); zero means "nothing received".
func ParseSeq(s string) (uint64, error) { return parseSeq([]byte(s), true) }

// Lines calls fn with each non-empty line of a batch, in order, and stops at
// the first error fn returns.
func Lines(batch []byte, fn func(line []byte) error) error {
	for len(batch) > 0 {
		var line []byte
		line, batch = nextLine(batch)
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	return nil
}

// nextLine splits a batch's first line, without its newline, from the
// rest (Lines takes a callback, which AppendBatch's loop must not pay for).
func nextLine(batch []byte) (line, rest []byte) {
	if i := bytes.IndexByte(batch, '\n'); i >= 0 {
		return batch[:i], batch[i+1:]
	}
	return batch, nil
}

// DecodeBatch decodes every frame of a batch. It fails as a whole on the
// first malformed frame, so a caller can refuse a batch without applying
// part of it. The frame slice is sized from the batch's lines up front, so
// a small batch costs one allocation (sized at most for maxPresized
// frames: empty lines must not buy a large one); a caller that decodes
// batch after batch reuses one slice with AppendBatch.
func DecodeBatch(batch []byte) ([]Frame, error) {
	n := min(bytes.Count(batch, newline)+1, maxPresized)
	frames, err := AppendBatch(make([]Frame, 0, n), batch)
	if err != nil || len(frames) == 0 {
		return nil, err // no partial batch: nothing of it may be applied
	}
	return frames, nil
}

var newline = []byte{'\n'}

const maxPresized = 64

// AppendBatch is DecodeBatch appending to dst, so that a carrier reading
// batch after batch (a WebSocket reader) decodes into one reused slice and
// allocates nothing per batch. On an error it returns dst as it came
// (cut back to its length on entry): nothing of a bad batch is kept.
func AppendBatch(dst []Frame, batch []byte) ([]Frame, error) {
	n := len(dst)
	for len(batch) > 0 {
		var line []byte
		line, batch = nextLine(batch)
		if len(line) == 0 {
			continue
		}
		f, err := DecodeFrame(line)
		if err != nil {
			clear(dst[n:])
			return dst[:n], err
		}
		dst = append(dst, f)
	}
	return dst, nil
}

// AppendBinaryEncoded appends b<seq>: followed by encoded, which must
// already be standard base64; the broadcast counterpart of AppendBinary.
func AppendBinaryEncoded(dst []byte, seq uint64, encoded []byte) []byte {
	dst = append(dst, 'b')
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, ':')
	return append(dst, encoded...)
}
