package router_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
)

// TestMounting serves the router under a prefix of http.ServeMux,
// gorilla/mux and http.StripPrefix, and runs both carriers through each.
func TestMounting(t *testing.T) {
	mounts := []struct {
		name   string
		prefix string
		mount  func(rt *router.Router) http.Handler
	}{
		{"ServeMux", "/echo", func(rt *router.Router) http.Handler {
			m := http.NewServeMux()
			m.Handle("/echo/", rt)
			m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "other", http.StatusTeapot) })
			return m
		}},
		{"gorilla/mux", "/rt", func(rt *router.Router) http.Handler {
			r := mux.NewRouter()
			r.PathPrefix("/rt/").Handler(rt)
			r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "other", http.StatusTeapot) })
			return r
		}},
		{"StripPrefix", "/a/b", func(rt *router.Router) http.Handler {
			return http.StripPrefix("/a/b", rt)
		}},
	}
	for _, m := range mounts {
		t.Run(m.name, func(t *testing.T) {
			a := newApp()
			rt := router.New(a.handler, fastOpts())
			s := startMounted(t, rt, m.mount(rt), m.prefix)
			for _, cr := range carriers {
				c := cr.open(t, s)
				expectText(t, c.Next(t), 1, "Welcome")
				c.SendText(t, "mounted")
				expectText(t, c.Next(t), 2, "new message: mounted")
				if tr := a.session(t, c.Open().SID).c.Transport(); tr != cr.name {
					t.Fatalf("Transport() = %q, want %q", tr, cr.name)
				}
				c.Close()
			}
			if m.name != "StripPrefix" {
				// Paths outside the mount do not reach the router.
				resp, err := s.hc.Post(s.srv.URL+"/elsewhere/handshake", "application/json",
					strings.NewReader(`{"v":1,"transport":"longpoll"}`))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusTeapot {
					t.Fatalf("a path outside the mount answered %d", resp.StatusCode)
				}
			}
		})
	}
}

// TestRequestInfo: the handler sees the opening request's headers, query
// and cookies, and its client address: the TCP peer unless that is a
// trusted proxy, then the right-most untrusted X-Forwarded-For hop.
func TestRequestInfo(t *testing.T) {
	const xff = "203.0.113.9, 198.51.100.7, 127.0.0.1"
	hdr := func() http.Header {
		return http.Header{
			"X-Forwarded-For": {xff},
			"X-App":           {"yes"},
			"Cookie":          {"flavor=mint; other=1"},
		}
	}
	for _, tc := range []struct {
		name    string
		proxies []string
		want    string
	}{
		{"no trusted proxies", nil, "127.0.0.1"},
		{"trusted loopback", []string{"127.0.0.1"}, "198.51.100.7"},
		{"trusted prefixes", []string{"127.0.0.0/8", "198.51.100.0/24"}, "203.0.113.9"},
		{"trusted elsewhere", []string{"10.0.0.1"}, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp()
			opts := fastOpts()
			opts.TrustedProxies = tc.proxies
			s := startServer(t, a.handler, opts)
			check := func(carrier string, id string) {
				t.Helper()
				c := a.session(t, id).c
				if got := c.RemoteAddr(); got != tc.want {
					t.Errorf("%s: RemoteAddr() = %q, want %q", carrier, got, tc.want)
				}
				if c.Header().Get("X-App") != "yes" || c.Query().Get("room") != "42" {
					t.Errorf("%s: header %v, query %v", carrier, c.Header(), c.Query())
				}
				if ck := c.Cookie("flavor"); ck == nil || ck.Value != "mint" {
					t.Errorf("%s: Cookie(flavor) = %v", carrier, ck)
				}
				if c.Cookie("missing") != nil {
					t.Errorf("%s: Cookie(missing) is not nil", carrier)
				}
			}

			h := hdr()
			h.Set("Content-Type", "application/json")
			resp, body := s.mustDo(t, http.MethodPost, "/handshake?room=42", h, []byte(`{"v":1,"transport":"longpoll"}`))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("handshake: %d %q", resp.StatusCode, body)
			}
			check(protocol.LongPoll, decodeOpen(t, body).SID)

			d := websocket.Dialer{HandshakeTimeout: wait}
			conn, resp, err := d.Dial(s.wsURL()+"?room=42", hdr())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			resp.Body.Close()
			t.Cleanup(func() { conn.Close() })
			writeHello(t, conn, protocol.Hello{})
			frames, err := readWS(conn, wait)
			if err != nil || frames[0].Type != protocol.FrameOpen {
				t.Fatalf("hello answered %v %v", frames, err)
			}
			o, _ := protocol.DecodeOpen(frames[0].Data)
			check(protocol.WebSocket, o.SID)
		})
	}
}

// TestTrustedProxiesMalformed: a malformed hop in X-Forwarded-For stops
// the walk at the trusted peer rather than believing anything left of it.
func TestTrustedProxiesMalformed(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.TrustedProxies = []string{"127.0.0.1"}
	s := startServer(t, a.handler, opts)
	h := http.Header{"X-Forwarded-For": {"203.0.113.9, not-an-ip"}}
	h.Add("X-Forwarded-For", "127.0.0.1")
	resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: protocol.LongPoll}, h)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("handshake: %d %q", resp.StatusCode, body)
	}
	if got := a.session(t, decodeOpen(t, body).SID).c.RemoteAddr(); got != "127.0.0.1" {
		t.Fatalf("RemoteAddr() = %q, want the peer", got)
	}
}

// TestNewPanicsOnBadOptions: options that cannot work stop the server
// from starting.
func TestNewPanicsOnBadOptions(t *testing.T) {
	for name, o := range map[string]*router.Options{
		"proxy":     {TrustedProxies: []string{"not an address"}},
		"transport": {Transports: []string{"pigeon"}},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "tether") {
					t.Errorf("%s: New did not panic (%v)", name, r)
				}
			}()
			router.New(nil, o)
		}()
	}
}
