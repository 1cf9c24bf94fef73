package router

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"html"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-rt/tether/transports"
)

// sockjsCacheSeconds is how long the cacheable answers (the iframe page,
// preflights) may be kept: one year, as sockjs-node.
const sockjsCacheSeconds = 365 * 24 * 60 * 60

func (s *SockJS) serveWelcome(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Write([]byte("Welcome to SockJS!\n"))
}

// serveInfo answers /info, which a client reads before it picks a
// transport, and times to estimate the round trip.
func (s *SockJS) serveInfo(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodOptions) || !s.checkOrigin(w, r) {
		return
	}
	h := w.Header()
	if r.Method == http.MethodOptions {
		if s.cfg.JSessionID != nil {
			s.cfg.JSessionID(w, r) // as sockjs-node, on this preflight only
		}
		sockjsCORS(h, r)
		sockjsPreflight(w, "OPTIONS, GET")
		return
	}
	sockjsCORS(h, r)
	setSockJSNoCache(h)
	h.Set("Content-Type", "application/json; charset=UTF-8")
	var e [4]byte
	rand.Read(e[:])
	body, _ := json.Marshal(struct {
		WebSocket    bool     `json:"websocket"`
		Origins      []string `json:"origins"`
		CookieNeeded bool     `json:"cookie_needed"`
		Entropy      uint32   `json:"entropy"`
	}{
		WebSocket: !s.cfg.DisableWebSocket,
		// Fixed by the protocol, and ignored by clients: the origin
		// policy is enforced by the server, not advertised.
		Origins:      []string{"*:*"},
		CookieNeeded: s.cfg.JSessionID != nil,
		Entropy:      binary.BigEndian.Uint32(e[:]),
	})
	w.Write(body)
}

// serveIframe answers the iframe page of the iframe-based transports: a
// page on the server's origin that loads sockjs-client from ClientURL and
// talks to the parent page by postMessage. Every version of the URL gets
// the same page, cacheable for a year and revalidated by ETag.
func (s *SockJS) serveIframe(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	h := w.Header()
	setSockJSCacheForYear(h)
	h.Set("Content-Type", s.iframe.contentType)
	h.Set("ETag", s.iframe.etag)
	if fa := s.frameAncestors(); fa != "" {
		h.Set("Content-Security-Policy", "frame-ancestors "+fa)
	}
	// ServeContent answers If-None-Match with a bare 304.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(s.iframe.body))
}

// frameAncestors lists who may frame the iframe page: requests from the
// page are same-origin, so if any site could frame it, any site could use
// the server through it, whatever the origin policy. Empty when every
// origin is allowed, or when CheckOrigin decides, which no header can say.
func (s *SockJS) frameAncestors() string {
	c := &s.cfg.base
	if c.anyOrigin || c.CheckOrigin != nil {
		return ""
	}
	fa := "'self'"
	for _, o := range c.AllowedOrigins {
		if o != "null" {
			fa += " " + o
		}
	}
	return fa
}

// sockjsIframe builds the iframe page for a client URL.
func sockjsIframe(clientURL string) asset {
	page := `<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
  <script src="` + html.EscapeString(clientURL) + `"></script>
  <script>
    document.domain = document.domain;
    SockJS.bootstrap_iframe();
  </script>
</head>
<body>
  <h2>Don't panic!</h2>
  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>
</body>
</html>`
	sum := sha256.Sum256([]byte(page))
	return asset{body: []byte(page), contentType: "text/html; charset=UTF-8",
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

// sockjsCORS sets the CORS headers of sockjs-node's XHR answers: the
// request's Origin echoed with credentials (the JSESSIONID cookie must
// travel), or * for a request without one, and the requested headers
// allowed. The origin policy has allowed the request already.
func sockjsCORS(h http.Header, r *http.Request) {
	if origin := headerValue(r.Header, "Origin"); origin != "" {
		transports.SetHeaders(h, "Access-Control-Allow-Origin", origin,
			"Access-Control-Allow-Credentials", "true", "Vary", "Origin")
	} else {
		transports.SetHeaders(h, "Access-Control-Allow-Origin", "*", "Vary", "Origin")
	}
	allowRequestedHeaders(h, r)
}

// xhrSessionHeaders is setSockJSNoCache and sockjsCORS in one SetHeaders:
// every xhr poll and send sets them, and one allocation for all their
// values is cheaper than one per header and call.
func xhrSessionHeaders(h http.Header, r *http.Request) {
	if origin := headerValue(r.Header, "Origin"); origin != "" {
		transports.SetHeaders(h, "Cache-Control", sockjsNoCache, "Access-Control-Allow-Origin", origin,
			"Access-Control-Allow-Credentials", "true", "Vary", "Origin")
	} else {
		transports.SetHeaders(h, "Cache-Control", sockjsNoCache, "Access-Control-Allow-Origin", "*",
			"Vary", "Origin")
	}
	allowRequestedHeaders(h, r)
}

// allowRequestedHeaders allows, as sockjs-node does, whatever headers the
// request asks to send.
func allowRequestedHeaders(h http.Header, r *http.Request) {
	if rh := headerValue(r.Header, "Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", rh)
	}
}

// eventSourceCORS is sockjsCORS as sockjs-node's eventsource answers: an
// Origin of null gets *, without credentials.
func eventSourceCORS(h http.Header, r *http.Request) {
	if origin := headerValue(r.Header, "Origin"); origin != "" && origin != "null" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	h.Set("Vary", "Origin")
}

// sockjsPreflight answers an OPTIONS request, cacheable for a year.
func sockjsPreflight(w http.ResponseWriter, methods string) {
	h := w.Header()
	setSockJSCacheForYear(h)
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Max-Age", strconv.Itoa(sockjsCacheSeconds))
	w.WriteHeader(http.StatusNoContent)
}

func setSockJSCacheForYear(h http.Header) {
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(sockjsCacheSeconds))
	h.Set("Expires", time.Now().Add(sockjsCacheSeconds*time.Second).UTC().Format(http.TimeFormat))
}

// setSockJSNoCache marks an answer never to be stored, in sockjs-node's
// words: no-transform besides the native dialect's directives.
func setSockJSNoCache(h http.Header) { transports.SetHeaders(h, "Cache-Control", sockjsNoCache) }

const sockjsNoCache = "no-store, no-cache, no-transform, must-revalidate, max-age=0"
