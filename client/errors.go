package client

import (
	"errors"
	"fmt"

	"github.com/tether-rt/tether/protocol"
)

// ErrClosed is returned by Send, Recv and Flush once the Conn was closed
// with Close.
var ErrClosed = errors.New("tether: connection closed")

// ErrMessageTooBig is returned by Send for a message over the server's
// maxMessage. Refusing it here keeps the session alive: the server would
// close the whole session with 4001 on receiving it.
var ErrMessageTooBig = errors.New("tether: message over the server's maxMessage")

// HandshakeError is a refusal to open or resume a session. Either the
// server answered with a plain HTTP status (SPEC.md §8: 400, 401, 403, 503,
// …) and Reason is the body's text, or it answered with a close frame
// (SPEC.md §4.1: 4200 when resuming a lost session, 4203 when full) and Code
// is set.
type HandshakeError struct {
	// Status is the HTTP status: the refusal's own, or 200 (101 on
	// WebSocket) when the server answered with a close frame.
	Status int
	// Code is the close code when the answer was a close frame, else 0.
	Code protocol.CloseCode
	// Reason is the body of the refusal or the close frame's reason.
	Reason string
}

func (e *HandshakeError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("tether: handshake refused: close %d %s", e.Code, e.Reason)
	}
	return fmt.Sprintf("tether: handshake refused: %d %s", e.Status, e.Reason)
}

// Unwrap exposes a close-frame answer as a *CloseError, so that callers
// handle "session lost" the same way whether it came at the handshake or
// later.
func (e *HandshakeError) Unwrap() error {
	if e.Code == 0 {
		return nil
	}
	return &CloseError{Code: e.Code, Reason: e.Reason}
}

// CloseError says that the session ended with a close code: the server's
// close frame, or, for the two send answers that end a session without
// one, 4001 after a 413 and 4000 after a 400 (SPEC.md §8). Code.Action()
// tells what to do next; ActionRenew (4200–4999) means the session is gone
// and a new Dial opens a fresh one, whose message numbers start again at 1.
type CloseError struct {
	Code   protocol.CloseCode
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("tether: session closed: %d %s", int(e.Code), e.Reason)
}

// CloseStatus returns the close code carried by err (a *CloseError, or a
// *HandshakeError answered with a close frame), or -1 if there is none.
func CloseStatus(err error) protocol.CloseCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// statusError is a non-200 answer to a request on an established session:
// retried when it looks transient (a proxy's 502), fatal when it says the
// request itself is wrong.
type statusError struct {
	status int
	reason string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("tether: HTTP %d %s", e.status, e.reason)
}
