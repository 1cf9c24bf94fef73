package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The four services are mounted as the official suite expects them.
func TestServices(t *testing.T) {
	js := filepath.Join(t.TempDir(), "sockjs.min.js")
	os.WriteFile(js, []byte("/* sockjs-client */"), 0o644)
	h, servers := newServer(js)
	srv := httptest.NewServer(h)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range servers {
			s.Shutdown(ctx)
		}
		srv.Close()
	}()
	do := func(method, path, origin string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	for _, tc := range []struct {
		method, path, origin string
		status               int
		body                 string // a part of it
	}{
		{"GET", "/", "", 200, `src="/sockjs.js"`},
		{"GET", "/sockjs.js", "", 200, "sockjs-client"},
		{"GET", "/echo", "", 200, "Welcome to SockJS!\n"},
		{"GET", "/echo/info", "https://anywhere.example", 200, `"websocket":true`},
		{"GET", "/echo/iframe.html", "", 200, `<script src="/sockjs.js">`},
		{"GET", "/disabled_websocket_echo/info", "", 200, `"websocket":false`},
		{"GET", "/cookie_needed_echo/info", "", 200, `"cookie_needed":true`},
		{"POST", "/close/0/a/xhr", "", 200, "o\n"},
		{"POST", "/close/0/a/xhr", "", 200, "c[3000,\"Go away!\"]\n"},
		{"GET", "/echo//xhr", "", 404, ""},
		{"GET", "/echo/a/a", "", 404, ""},
	} {
		status, _, body := do(tc.method, tc.path, tc.origin)
		if status != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, status, body, tc.status, tc.body)
		}
	}
	// /cookie_needed_echo sets the cookie sticky load balancers route by.
	status, hdr, body := do("POST", "/cookie_needed_echo/0/b/xhr", "")
	if status != 200 || body != "o\n" || !strings.HasPrefix(hdr.Get("Set-Cookie"), "JSESSIONID=dummy") {
		t.Errorf("cookie_needed_echo xhr: %d %q %v", status, body, hdr)
	}
}
