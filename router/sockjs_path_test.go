package router

import (
	"regexp"
	"testing"
)

// TestSockJSSessionPath: the fast match of session URLs accepts exactly
// what the mux route's pattern accepts, with the same key and transport.
func TestSockJSSessionPath(t *testing.T) {
	for _, prefix := range []string{"/echo", "", "/a.b/c"} {
		s := &SockJS{prefix: prefix}
		route := regexp.MustCompile("^" + regexp.QuoteMeta(prefix) + `/([^/.]+)/([^/.]+)/([a-z_]+)/?$`)
		tails := []string{
			"/000/abc/xhr", "/000/abc/xhr/", "/000/abc/xhr//", "/000/abc/xhr_send", "/0/a/eventsource",
			"/000/abc/XHR", "/000/abc/xhr1", "/000/a.c/xhr", "/0.0/abc/xhr", "/000/abc/", "/000/abc",
			"/000//xhr", "//abc/xhr", "/000/abc/xhr/x", "/info", "/websocket", "", "/", "/000/a%2Fb/xhr",
			"/a/b/c/d", "x/000/abc/xhr", "/000/abc/websocket", "/ab c/d-e~f/jsonp",
		}
		for _, tail := range tails {
			path := prefix + tail
			key, name, ok := s.sessionPath(path)
			m := route.FindStringSubmatch(path)
			switch {
			case ok != (m != nil):
				t.Errorf("prefix %q, %q: fast match %v, route %v", prefix, path, ok, m != nil)
			case ok && (key != m[2] || name != m[3]):
				t.Errorf("prefix %q, %q: key %q name %q, route says %q %q", prefix, path, key, name, m[2], m[3])
			}
		}
	}
}
