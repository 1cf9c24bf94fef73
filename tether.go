package tether

import (
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

// Conn is one client's logical connection: see session.Session.
type Conn = session.Session

// Message is one message from the client.
type Message = session.Message

// Options configures a Server; nil means defaults. See router.Options.
type Options = router.Options

// Server is the http.Handler that serves tether under a prefix.
type Server = router.Router

// HTTPError refuses a handshake from Options.Authorize with a status.
type HTTPError = router.HTTPError

// CloseCode is a close frame's code; its range says whether the client
// reconnects. See protocol.CloseCode.
type CloseCode = protocol.CloseCode

// CloseError is what Send and Close return on a closed Conn.
type CloseError = session.CloseError

// Close codes an app uses most. Apps may use 3000–3999 for their own.
const (
	CloseNormal       = protocol.CloseNormal
	CloseSlowConsumer = protocol.CloseSlowConsumer
	CloseShutdown     = protocol.CloseShutdown
	CloseSessionLost  = protocol.CloseSessionLost
)

// New returns a Server that calls handler once for each new Conn, before
// the client learns of it: set OnMessage and OnClose there. handler must
// not block.
func New(handler func(c *Conn), opts *Options) *Server {
	return router.New(handler, opts)
}
