package router

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tether-rt/tether/transports"
)

// originAllowed applies the origin policy shared by WebSocket upgrades and
// HTTP carriers (SPEC.md §8). A missing Origin is a non-browser client,
// which no browser-based attack can forge, so it is allowed.
func (c *config) originAllowed(r *http.Request) bool {
	origin := headerValue(r.Header, "Origin")
	if origin == "" {
		return true
	}
	if c.anyOrigin || c.origins[strings.ToLower(origin)] {
		return true
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return c.CheckOrigin != nil && c.CheckOrigin(r)
}

// cors adds the headers that let an allowed cross-origin page read the
// answer with credentials (cookies). Same-origin answers need none.
func cors(w http.ResponseWriter, r *http.Request) {
	origin := headerValue(r.Header, "Origin")
	if origin == "" {
		return
	}
	// One SetHeaders for both values (a cross-origin client's every poll
	// and send carries an Origin); Vary is added to, as a wrapping handler
	// may have set one.
	h := w.Header()
	transports.SetHeaders(h, "Access-Control-Allow-Origin", origin, "Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}

// preflight answers an OPTIONS request for the headers tether's HTTP
// carriers send.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Tether-Token")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// headerValue is Header.Get for a key written in canonical form, as net/http
// stores a request's keys, without canonicalizing the key again: the
// polling paths read three or four headers of every request.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
