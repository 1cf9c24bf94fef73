package session

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// TestKeptRequest: what KeepHeader and KeepQuery recorded reads back
// through the Session as the request said it (every value of every kept
// header, in order; the cookies; the query), and nothing is built before
// the first read.
func TestKeptRequest(t *testing.T) {
	h := http.Header{
		"User-Agent": {"ua"},
		"Cookie":     {"a=1; b=2", "c=3"},
		"X-Multi":    {"one", "two", "three"},
		"Connection": {"keep-alive"},
	}
	var req Request
	req.KeepHeader(h, func(name string) bool { return name == "Connection" })
	req.KeepQuery("token=t%20x&k=1&k=2")
	if req.Header != nil || req.Query != nil || req.Cookies != nil {
		t.Fatal("KeepHeader or KeepQuery built maps before any read")
	}
	reg := newRegistry(t, nil)
	l, err := reg.Create(req, "longpoll")
	if err != nil {
		t.Fatal(err)
	}
	s := l.Session()
	want := http.Header{"User-Agent": {"ua"}, "Cookie": {"a=1; b=2", "c=3"}, "X-Multi": {"one", "two", "three"}}
	if got := s.Header(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Header = %v, want %v", got, want)
	}
	if got, want := s.Query(), (url.Values{"token": {"t x"}, "k": {"1", "2"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Query = %v, want %v", got, want)
	}
	for name, value := range map[string]string{"a": "1", "b": "2", "c": "3"} {
		if c := s.Cookie(name); c == nil || c.Value != value {
			t.Errorf("Cookie(%s) = %v, want %s", name, c, value)
		}
	}
	if s.Request().Header["X-Multi"][2] != "three" || len(s.Request().Cookies) != 3 {
		t.Fatalf("Request() = %+v", s.Request())
	}
	h["X-Multi"][0] = "changed"
	if s.Header().Get("X-Multi") != "one" {
		t.Fatal("the session's header shares storage with the request's")
	}
	// A Request built by hand is read as it is.
	l2, _ := reg.Create(Request{Header: http.Header{"A": {"b"}}}, "longpoll")
	if l2.Session().Header().Get("A") != "b" || l2.Session().Query() != nil {
		t.Fatalf("hand-built request read as %+v", l2.Session().Request())
	}
}
