package session

import (
	"errors"
	"fmt"

	"github.com/tether-rt/tether/protocol"
)

// Errors returned by sessions and registries. Carriers map each to the
// answer SPEC.md documents.
var (
	// ErrSessionLost: no live session has that id and token. Unknown id and
	// wrong token are one error on purpose.
	ErrSessionLost = errors.New("session lost")
	// ErrReceiverBusy: another receiving carrier is attached.
	ErrReceiverBusy = errors.New("another receiver is attached")
	// ErrTooManySessions: the registry is at MaxSessions.
	ErrTooManySessions = errors.New("too many sessions")
	// ErrShuttingDown: the registry no longer creates sessions.
	ErrShuttingDown = errors.New("server shutting down")
)

// CloseError is returned by Send and Close on a closed session, and carries
// the code and reason it was closed with.
type CloseError struct {
	Code   protocol.CloseCode
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("session closed: %d %s", int(e.Code), e.Reason)
}
