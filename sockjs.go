package tether

import (
	"net/http"

	"github.com/tether-rt/tether/router"
)

// SockJSOptions configures a SockJSServer; nil means defaults. See
// router.SockJSOptions.
type SockJSOptions = router.SockJSOptions

// SockJSServer is the http.Handler that serves the SockJS dialect under a
// prefix, for sockjs-client and the libraries built on it.
type SockJSServer = router.SockJS

// NewSockJS returns a SockJSServer for the URL prefix it is mounted at
// ("/echo"), that calls handler once for each new Conn, as New does: the
// same handler may serve both dialects. Mount it at the prefix and below:
//
//	s := tether.NewSockJS("/echo", handler, nil)
//	mux.Handle("/echo", s)
//	mux.Handle("/echo/", s)
func NewSockJS(prefix string, handler func(c *Conn), opts *SockJSOptions) *SockJSServer {
	return router.NewSockJS(prefix, handler, opts)
}

// DefaultJSessionID sets the JSESSIONID cookie as sockjs-node does, for
// SockJSOptions.JSessionID. See router.DefaultJSessionID.
func DefaultJSessionID(w http.ResponseWriter, r *http.Request) { router.DefaultJSessionID(w, r) }
