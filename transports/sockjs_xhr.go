package transports

import (
	"net/http"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// SockJSXHR is the xhr (xhr-polling) carrier of the SockJS dialect: a POST
// held until the session has one frame for the client (messages, the
// close, or a heartbeat after the heartbeat interval), answered with that
// frame and a newline.
type SockJSXHR struct {
	p sockjsPoll
}

// NewSockJSXHR returns the xhr carrier for cfg.
func NewSockJSXHR(cfg Config) *SockJSXHR {
	return &SockJSXHR{sockjsPoll{cfg: cfg, name: protocol.SockJSXHRPolling,
		contentType: sockjsScript}}
}

// Serve answers one poll on l; opened says the request just created the
// session, which is then answered with its open frame alone.
func (x *SockJSXHR) Serve(w http.ResponseWriter, r *http.Request, l *session.Link, opened bool) {
	x.p.serve(w, r, l, opened, writeLine)
}

// Refuse answers with the close frame for err.
func (x *SockJSXHR) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	x.p.refuse(w, err, writeLine)
}

func writeLine(w http.ResponseWriter, frame []byte) error {
	_, err := w.Write(append(frame, '\n'))
	return err
}
