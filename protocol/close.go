package protocol

import "strconv"

// CloseCode is the code of a close frame. Its range says what a client should
// do next, so that every client library can act on codes it has never seen.
type CloseCode int

// Close codes of tether/1 (SPEC.md §7).
const (
	// CloseNormal ends a session on purpose, from either side.
	CloseNormal CloseCode = 1000

	// CloseProtocolError: a malformed frame on a stream, a bad hello, or a
	// first WebSocket message that is not a hello.
	CloseProtocolError CloseCode = 4000
	// CloseMessageTooBig: a message or a send body over the server's limit.
	CloseMessageTooBig CloseCode = 4001

	// CloseCarrierReplaced ends a streaming or eventsource answer that gave
	// way after its session refused another receiver (SPEC.md §5): its
	// client has most likely lost it to a network that went silent.
	CloseCarrierReplaced CloseCode = 4100
	// CloseStreamLimit ends a streaming response that reached its byte limit;
	// the client re-opens it on the same session.
	CloseStreamLimit CloseCode = 4101
	// CloseHeartbeatTimeout: nothing arrived within the dead-peer timeout.
	CloseHeartbeatTimeout CloseCode = 4102
	// CloseReceiverBusy refuses a second receiving carrier; the first one
	// keeps working, unless it is a streaming or eventsource answer, which
	// then gives way with CloseCarrierReplaced (SPEC.md §5).
	CloseReceiverBusy CloseCode = 4103

	// CloseSessionLost: the session is unknown, expired, or the token was
	// wrong. The answer is the same in all three cases on purpose.
	CloseSessionLost CloseCode = 4200
	// CloseSlowConsumer: the session's unacknowledged outbound bytes
	// exceeded their bound.
	CloseSlowConsumer CloseCode = 4201
	// CloseShutdown: the server is going away; reconnect, elsewhere.
	CloseShutdown CloseCode = 4202
	// CloseTooManySessions: the server's session registry is full.
	CloseTooManySessions CloseCode = 4203
	// CloseInternalError: an app callback panicked; the server recovered,
	// logged it and ended the session. A new session may well work.
	CloseInternalError CloseCode = 4204
)

// Action is what a client does after a close code.
type Action int

const (
	// ActionStop: do not reconnect.
	ActionStop Action = iota
	// ActionResume: the carrier ended but the session lives; attach a new
	// carrier to it at once.
	ActionResume
	// ActionRenew: the session is gone; open a new one after a backoff and
	// report that it was not recovered.
	ActionRenew
)

// Action returns what a client should do after receiving c.
func (c CloseCode) Action() Action {
	switch {
	case c == CloseNormal, c >= 3000 && c <= 4099:
		return ActionStop
	case c >= 4100 && c <= 4199:
		return ActionResume
	case c >= 4200 && c <= 4999:
		return ActionRenew
	}
	// Codes outside the documented ranges (WebSocket's own 1001–2999)
	// are transport failures: the session may still be alive.
	return ActionResume
}

// Valid reports whether c may appear in a close frame.
func (c CloseCode) Valid() bool { return c >= 1000 && c <= 4999 }

// String names the codes this package defines and prints others as numbers.
func (c CloseCode) String() string {
	switch c {
	case CloseNormal:
		return "normal"
	case CloseProtocolError:
		return "protocol error"
	case CloseMessageTooBig:
		return "message too big"
	case CloseCarrierReplaced:
		return "carrier replaced"
	case CloseStreamLimit:
		return "stream limit"
	case CloseHeartbeatTimeout:
		return "heartbeat timeout"
	case CloseReceiverBusy:
		return "another receiver is attached"
	case CloseSessionLost:
		return "session lost"
	case CloseSlowConsumer:
		return "slow consumer"
	case CloseShutdown:
		return "server shutting down"
	case CloseTooManySessions:
		return "too many sessions"
	case CloseInternalError:
		return "internal error"
	}
	return strconv.Itoa(int(c))
}

// MaxReasonBytes bounds a close reason, as WebSocket's close frame does.
const MaxReasonBytes = 123
