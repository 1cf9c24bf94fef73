package transports

import (
	"context"
	"fmt"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// badFrames is a client fault found before anything was applied.
type badFrames struct {
	code protocol.CloseCode
	msg  string
}

func (e *badFrames) Error() string { return e.msg }

// check vets a client batch as a whole, so a bad batch is refused without
// applying part of it: only client frame types, no message over the limit.
func check(frames []protocol.Frame, maxMessage int) error {
	for _, f := range frames {
		switch f.Type {
		case protocol.FrameText, protocol.FrameBinary:
			if len(f.Data) > maxMessage {
				return &badFrames{protocol.CloseMessageTooBig,
					fmt.Sprintf("message %d is %d bytes, over the %d-byte limit", f.Seq, len(f.Data), maxMessage)}
			}
		case protocol.FrameAck, protocol.FrameHeartbeat, protocol.FrameClose:
		default:
			return &badFrames{protocol.CloseProtocolError,
				fmt.Sprintf("frame type %q is not sent by clients", f.Type)}
		}
	}
	return nil
}

// apply feeds a vetted client batch into the session, in order. It stops
// at a client close or when the session closes. Messages are delivered
// inline: the carrier's goroutine (a WebSocket's reader, a send request's
// handler) runs OnMessage itself when no callback is running, so the
// app's replies are logged before the carrier writes or answers (the next
// poll finds them at once) and no goroutine is started per message. An
// ack followed by a message, what a client's batch mostly is, goes in
// with one taking of the session's lock.
func apply(ctx context.Context, l *session.Link, frames []protocol.Frame) error {
	for i := 0; i < len(frames); i++ {
		f := frames[i]
		switch f.Type {
		case protocol.FrameAck:
			if i+1 < len(frames) && isMessage(frames[i+1].Type) {
				i++
				m := frames[i]
				if _, err := l.Deliver(ctx, f.Seq, m.Seq, m.Type == protocol.FrameBinary, m.Data); err != nil {
					return err
				}
				continue
			}
			l.Ack(f.Seq)
		case protocol.FrameText, protocol.FrameBinary:
			if _, err := l.Deliver(ctx, 0, f.Seq, f.Type == protocol.FrameBinary, f.Data); err != nil {
				return err
			}
		case protocol.FrameClose:
			l.PeerClose(f.Code, f.Reason)
			return nil
		}
	}
	return nil
}

func isMessage(t protocol.FrameType) bool {
	return t == protocol.FrameText || t == protocol.FrameBinary
}
