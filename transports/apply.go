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
// at a client close or when the session closes. A send request delivers
// inline: its handler runs OnMessage itself when no callback is running,
// so the app's replies are logged before the answer goes out (the next
// poll finds them at once) and no goroutine is started per message.
func apply(ctx context.Context, l *session.Link, frames []protocol.Frame) error {
	return applyWith(ctx, l, frames, l.DeliverInline)
}

// applyWith is apply with the delivery to use.
func applyWith(ctx context.Context, l *session.Link, frames []protocol.Frame,
	deliver func(context.Context, uint64, bool, []byte) (bool, error)) error {
	for _, f := range frames {
		switch f.Type {
		case protocol.FrameAck:
			l.Ack(f.Seq)
		case protocol.FrameText, protocol.FrameBinary:
			if _, err := deliver(ctx, f.Seq, f.Type == protocol.FrameBinary, f.Data); err != nil {
				return err
			}
		case protocol.FrameClose:
			l.PeerClose(f.Code, f.Reason)
			return nil
		}
	}
	return nil
}
