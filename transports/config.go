package transports

import (
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// Config is what every carrier needs. Session must be the options of the
// registry the links come from, defaults filled in.
type Config struct {
	Session *session.Options
	Framer  Framer
	Logger  *slog.Logger
	// Parking, when set, parks the held polls that wait long (park.go);
	// without it every poll is held on its goroutine.
	Parking *Parking
}

func (c *Config) framer() Framer {
	if c.Framer == nil {
		return Native{}
	}
	return c.Framer
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// MaxSend is the largest send body or WebSocket message accepted: room
// for one largest message in its worst encoding (JSON escapes a control
// byte as six) plus framing (SPEC.md §9).
func MaxSend(o *session.Options) int { return 6*o.MaxMessageSize + 4096 }

// SetNoCache marks an answer as never to be stored: it may carry a
// session's messages, or its token in the URL.
func SetNoCache(h http.Header) { h.Set("Cache-Control", noStore) }

// WriteClose answers a request with a close frame, status 200, as SPEC.md
// §8 requires for session-level answers.
func WriteClose(w http.ResponseWriter, f Framer, code protocol.CloseCode, reason string) {
	WriteAnswer(w, textPlain, f.AppendClose(nil, code, reason))
}

// WriteAttachError answers a failed Attach with its close frame.
func WriteAttachError(w http.ResponseWriter, f Framer, err error) {
	code, reason := AttachErrorClose(err)
	WriteClose(w, f, code, reason)
}

// AttachErrorClose maps an Attach or Lookup error to its close frame.
func AttachErrorClose(err error) (protocol.CloseCode, string) {
	var ce *session.CloseError
	switch {
	case errors.Is(err, session.ErrReceiverBusy):
		return protocol.CloseReceiverBusy, protocol.CloseReceiverBusy.String()
	case errors.Is(err, session.ErrTooManySessions):
		return protocol.CloseTooManySessions, protocol.CloseTooManySessions.String()
	case errors.Is(err, session.ErrShuttingDown):
		return protocol.CloseShutdown, protocol.CloseShutdown.String()
	case errors.As(err, &ce):
		return ce.Code, ce.Reason
	}
	return protocol.CloseSessionLost, protocol.CloseSessionLost.String()
}

// ErrBodyTooBig is ReadLimited's answer to a body over its limit.
var ErrBodyTooBig = errors.New("body over the limit")

// ReadLimited reads all of r, at most limit bytes: a longer body is
// ErrBodyTooBig, without reading (or holding) more than one byte past it.
func ReadLimited(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err == nil && len(b) > limit {
		return nil, ErrBodyTooBig
	}
	return b, err
}
