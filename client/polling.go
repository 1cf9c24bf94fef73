package client

import (
	"context"
	"net/url"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// defaultPoll is the wait between polls when the open frame suggests none.
const defaultPoll = time.Second

// polling receives with GET /polling, which the server answers at once
// with what it holds or an empty body (SPEC.md §5), for networks that cut
// requests held open. Everything else is the shared HTTP send path, which
// asks for messages on the send answer (carry): a reply to a message then
// comes with the send's answer, without waiting for the next poll.
//
// The carrier waits the open frame's `poll` interval between polls, as the
// server suggested, except after an answer with messages in it: the server
// may hold more than one batch, and draining it at once is what keeps the
// latency of a burst down. An answer with only an ack is no reason to hurry:
// the server repeats its ack to every new poll. Nor is a send answer that
// carried messages, unless it ends with `h`: the server stopped at its
// byte bound with more waiting (SPEC.md §5), so the wait is cut short.
// The wait is the carrier's pause, after which the Conn reads the ack for
// the poll: it then counts the carried messages, which the server would
// otherwise hand out again instead of the rest.
type polling struct {
	httpBase
	interval time.Duration
	wait     bool          // the last answer had no messages: wait before the next poll
	hurry    chan struct{} // a send answer said more is waiting, since the last poll left
}

var (
	_ carrier       = (*polling)(nil)
	_ pauser        = (*polling)(nil)
	_ answerWatcher = (*polling)(nil)
)

func newPolling(base *url.URL, o *Options) *polling {
	p := &polling{httpBase: newHTTPBase(protocol.Polling, base, o), interval: defaultPoll, hurry: make(chan struct{}, 1)}
	p.carry = true
	return p
}

func (p *polling) handshake(ctx context.Context, h protocol.Hello) (protocol.Open, []protocol.Frame, error) {
	open, rest, err := p.httpBase.handshake(ctx, h)
	if err == nil && open.Poll > 0 {
		p.interval = time.Duration(open.Poll) * time.Millisecond
	}
	return open, rest, err
}

// pause waits before a poll that follows an answer without messages, for
// the interval or until a send answer says more is waiting. A hurry from
// before this poll is spent by it; one that comes while the poll is on its
// way is kept for the next pause, since that poll may have left the
// server before the carried messages were handed out.
func (p *polling) pause(ctx context.Context) error {
	if p.wait {
		d := p.interval
		// ctx's deadline is the dead-peer timeout: a wait that used it up
		// would make a healthy carrier look dead.
		if dl, ok := ctx.Deadline(); ok {
			d = min(d, time.Until(dl)/2)
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-p.hurry:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	select {
	case <-p.hurry:
	default:
	}
	return nil
}

func (p *polling) receive(ctx context.Context, ack uint64) ([]protocol.Frame, error) {
	frames, err := p.receiveGET(ctx, protocol.Polling, ack)
	if err != nil {
		return nil, err
	}
	p.wait = !hasMessages(frames)
	if len(frames) == 0 {
		// An empty answer is this carrier's heartbeat: it proves the
		// server alive as much as an `h` does.
		frames = []protocol.Frame{{Type: protocol.FrameHeartbeat}}
	}
	return frames, nil
}

// answered notes a send answer that carried messages and ends with `h`,
// for the pause before the next poll.
func (p *polling) answered(frames []protocol.Frame) {
	if n := len(frames); n > 1 && frames[n-1].Type == protocol.FrameHeartbeat && hasMessages(frames) {
		select {
		case p.hurry <- struct{}{}:
		default:
		}
	}
}

func hasMessages(frames []protocol.Frame) bool {
	for _, f := range frames {
		if f.Type == protocol.FrameText || f.Type == protocol.FrameBinary {
			return true
		}
	}
	return false
}
