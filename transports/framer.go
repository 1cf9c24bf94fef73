package transports

import (
	"encoding/base64"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// Framer turns session batches into a dialect's bytes. Carriers are
// dialect-agnostic; a dialect is a Framer plus a URL layout.
type Framer interface {
	// AppendBatch appends b's frames, each ending in a newline.
	AppendBatch(dst []byte, b *session.Batch) []byte
	// AppendHeartbeat appends one heartbeat frame and its newline.
	AppendHeartbeat(dst []byte) []byte
	// AppendClose appends one close frame and its newline.
	AppendClose(dst []byte, code protocol.CloseCode, reason string) []byte
}

// Native is the tether/1 framer.
type Native struct{}

var _ Framer = Native{}

// AppendBatch implements Framer.
func (Native) AppendBatch(dst []byte, b *session.Batch) []byte {
	if b.Ack != 0 {
		dst = append(protocol.AppendAck(dst, b.Ack), '\n')
	}
	for _, m := range b.Msgs {
		dst = append(AppendMessage(dst, m), '\n')
	}
	if b.Close {
		dst = append(protocol.AppendClose(dst, b.CloseCode, b.Reason), '\n')
	}
	return dst
}

// AppendHeartbeat implements Framer.
func (Native) AppendHeartbeat(dst []byte) []byte { return append(dst, 'h', '\n') }

// AppendClose implements Framer.
func (Native) AppendClose(dst []byte, code protocol.CloseCode, reason string) []byte {
	return append(protocol.AppendClose(dst, code, reason), '\n')
}

// Keys of the native framing's cached broadcast encodings.
type (
	quotedKey struct{}
	base64Key struct{}
)

// AppendMessage appends one message frame of the native framing, without a
// newline. A broadcast's payload is quoted (or base64-encoded) once and
// shared by every session it goes to.
func AppendMessage(dst []byte, m session.Outgoing) []byte {
	switch {
	case m.Prepared == nil && m.Binary:
		return protocol.AppendBinary(dst, m.Seq, m.Data)
	case m.Prepared == nil:
		return protocol.AppendText(dst, m.Seq, m.Data)
	case m.Binary:
		enc := m.Prepared.Encoded(base64Key{}, func(d []byte) []byte {
			return base64.StdEncoding.AppendEncode(nil, d)
		})
		return protocol.AppendBinaryEncoded(dst, m.Seq, enc)
	}
	q := m.Prepared.Encoded(quotedKey{}, func(d []byte) []byte { return protocol.AppendQuote(nil, d) })
	return protocol.AppendTextQuoted(dst, m.Seq, q)
}
