package router

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/tether-rt/tether/session"
)

// TestSessionHeader: a session keeps the headers that describe its client,
// every value of them, in a copy of its own, and drops those that only
// described the opening request.
func TestSessionHeader(t *testing.T) {
	h := http.Header{
		"User-Agent":        {"ua"},
		"Origin":            {"https://app.example"},
		"Cookie":            {"a=1", "b=2"},
		"Authorization":     {"Bearer x"},
		"X-Forwarded-For":   {"192.0.2.1", "198.51.100.2"},
		"X-App":             {"yes"},
		"Accept-Language":   {"en"},
		"Connection":        {"keep-alive"},
		"Content-Type":      {"application/json"},
		"Content-Length":    {"30"},
		"Accept-Encoding":   {"gzip"},
		"Sec-Fetch-Mode":    {"cors"},
		"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="},
		"X-Tether-Token":    {"secret"},
	}
	want := http.Header{
		"User-Agent":      {"ua"},
		"Origin":          {"https://app.example"},
		"Cookie":          {"a=1", "b=2"},
		"Authorization":   {"Bearer x"},
		"X-Forwarded-For": {"192.0.2.1", "198.51.100.2"},
		"X-App":           {"yes"},
		"Accept-Language": {"en"},
	}
	got := sessionHeader(t, h)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("session header = %v, want %v", got, want)
	}
	h["Cookie"][0] = "changed"
	got.Add("X-App", "appended")
	if got.Get("Cookie") != "a=1" || len(h["X-App"]) != 1 || got.Values("Cookie")[1] != "b=2" {
		t.Errorf("the copy shares storage with the request: %v / %v", got, h)
	}
	if len(sessionHeader(t, http.Header{})) != 0 {
		t.Error("empty header not empty")
	}
}

// sessionHeader is the Header of a session opened by a request with h.
func sessionHeader(t *testing.T, h http.Header) http.Header {
	t.Helper()
	reg := session.NewRegistry(nil)
	defer reg.Shutdown(context.Background())
	r := httptest.NewRequest(http.MethodPost, "/t/handshake", nil)
	r.Header = h
	var c config
	l, err := reg.Create(c.sessionRequest(r), "longpoll")
	if err != nil {
		t.Fatal(err)
	}
	return l.Session().Header()
}
