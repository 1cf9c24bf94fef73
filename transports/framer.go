package transports

import (
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
		if m.Binary {
			dst = protocol.AppendBinary(dst, m.Seq, m.Data)
		} else {
			dst = protocol.AppendText(dst, m.Seq, m.Data)
		}
		dst = append(dst, '\n')
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
