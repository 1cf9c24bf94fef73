package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the protocol version this package speaks.
const Version = 1

// Carrier names, the public ones of DESIGN.md: options, the JS client,
// `tether dial -transport`, logs and metrics all use them.
const (
	WebSocket   = "websocket"
	Streaming   = "streaming"
	EventSource = "eventsource"
	LongPoll    = "longpoll"
	JSONP       = "jsonp"
	Polling     = "polling"
)

// Carriers lists every carrier name, in the JS client's default order.
var Carriers = []string{WebSocket, Streaming, EventSource, LongPoll, Polling, JSONP}

// KnownCarrier reports whether name is one of Carriers.
func KnownCarrier(name string) bool {
	for _, c := range Carriers {
		if c == name {
			return true
		}
	}
	return false
}

// Hello is what a client says to open or resume a session (SPEC.md §4).
type Hello struct {
	V         int    `json:"v"`
	Transport string `json:"transport,omitempty"`
	SID       string `json:"sid,omitempty"`
	Token     string `json:"token,omitempty"`
	Last      uint64 `json:"last,omitempty"`
}

// Resume reports whether the hello asks for an existing session.
func (h Hello) Resume() bool { return h.SID != "" }

// Validate checks the fields a server relies on.
func (h Hello) Validate() error {
	switch {
	case h.V != Version:
		return fmt.Errorf("unsupported protocol version %d", h.V)
	case h.Transport != "" && !KnownCarrier(h.Transport):
		return fmt.Errorf("unknown transport %q", h.Transport)
	case h.Last > MaxSeq:
		return errors.New("last out of range")
	case h.SID != "" && h.Token == "":
		return errors.New("resume without a token")
	case len(h.SID) > 64 || len(h.Token) > 128:
		return errors.New("sid or token too long")
	}
	return nil
}

// DecodeHello decodes and validates the JSON object of a hello.
func DecodeHello(obj []byte) (Hello, error) {
	var h Hello
	if err := strictUnmarshal(obj, &h); err != nil {
		return Hello{}, fmt.Errorf("malformed hello: %w", err)
	}
	return h, h.Validate()
}

// AppendHello appends the frame H{json}.
func AppendHello(dst []byte, h Hello) []byte {
	b, _ := json.Marshal(h) // a struct of strings and numbers cannot fail
	return append(append(dst, 'H'), b...)
}

// Open is the server's handshake answer (SPEC.md §4.1).
type Open struct {
	V          int    `json:"v"`
	SID        string `json:"sid"`
	Token      string `json:"token"`
	Resumed    bool   `json:"resumed"`
	Ack        uint64 `json:"ack"`
	Heartbeat  int64  `json:"hb"`
	Timeout    int64  `json:"timeout"`
	Poll       int64  `json:"poll"`
	MaxMessage int    `json:"maxMessage"`
	MaxSend    int    `json:"maxSend"`
}

// AppendOpen appends the frame o{json}.
func AppendOpen(dst []byte, o Open) []byte {
	b, _ := json.Marshal(o)
	return append(append(dst, 'o'), b...)
}

// DecodeOpen decodes the JSON object of an o frame.
func DecodeOpen(obj []byte) (Open, error) {
	var o Open
	if err := json.Unmarshal(obj, &o); err != nil {
		return Open{}, fmt.Errorf("malformed open frame: %w", err)
	}
	if o.V != Version || o.SID == "" || o.Token == "" {
		return Open{}, errors.New("open frame without version, sid or token")
	}
	return o, nil
}

// strictUnmarshal refuses unknown fields and trailing data, so a typo in a
// client's hello is an error instead of a silently new session.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Not dec.More: it reports false before a stray '}' or ']', so
	// `{"v":1}}` would pass. Only whitespace may follow the object.
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) != 0 {
		return errors.New("trailing data")
	}
	return nil
}

// MaxCallbackLen bounds a JSONP callback name.
const MaxCallbackLen = 64

// ValidCallback reports whether name may be used as a JSONP callback: 1 to
// MaxCallbackLen ASCII letters, digits, '_' and '.'. Anything else could
// inject script into the answer, so it is refused before any work is done.
func ValidCallback(name string) bool {
	if len(name) == 0 || len(name) > MaxCallbackLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
