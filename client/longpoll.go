package client

import (
	"context"
	"net/url"

	"github.com/tether-rt/tether/protocol"
)

// longPoll receives with GET /longpoll, which the server holds until it
// has frames or a heartbeat interval passed (SPEC.md §5). Everything else
// is the shared HTTP send path, asking for messages on the send answer
// (carry): the reply to a message then comes with the send's answer instead
// of the held poll's. Each poll carries the client's ack, so the server
// trims its log and replays from ack+1 on the next one: a cut poll loses
// nothing.
type longPoll struct {
	httpBase
}

var _ carrier = (*longPoll)(nil)

func newLongPoll(base *url.URL, o *Options) *longPoll {
	l := &longPoll{httpBase: newHTTPBase(protocol.LongPoll, base, o)}
	l.carry = true
	return l
}

func (l *longPoll) receive(ctx context.Context, ack uint64) ([]protocol.Frame, error) {
	return l.receiveGET(ctx, protocol.LongPoll, ack)
}
