package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether"
	"github.com/tether-rt/tether/client"
	"github.com/tether-rt/tether/hub"
)

// follow reports appended lines, holds back a line until its newline, and
// starts over when the file is truncated.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte("old line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- follow(ctx, path, 10*time.Millisecond, func(l string) { lines <- l }) }()
	defer func() { cancel(); <-done }()

	appendTo := func(s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-lines:
			if got != want {
				t.Fatalf("line %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no line, want %q", want)
		}
	}
	time.Sleep(50 * time.Millisecond) // let follow take the current end
	appendTo("first\nsec")
	expect("first")
	appendTo("ond\r\n")
	expect("second")
	if err := os.WriteFile(path, []byte("after truncation\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	expect("after truncation")
	select {
	case l := <-lines:
		t.Fatalf("unexpected line %q (the old content must not be re-sent)", l)
	case <-time.After(100 * time.Millisecond):
	}
}

// /push delivers GET, form and body messages to a connected page, and
// refuses empty pushes and other methods.
func TestPushEndpoint(t *testing.T) {
	pages := hub.New()
	mux := http.NewServeMux()
	mux.Handle("/events/", tether.New(func(c *tether.Conn) { pages.Join(c, everyone) }, nil))
	mux.HandleFunc("/push", func(w http.ResponseWriter, r *http.Request) { push(pages, w, r) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, srv.URL+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(tether.CloseNormal, "")

	check := func(status int, resp *http.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Fatalf("status %d, want %d", resp.StatusCode, status)
		}
	}
	get := func(url string) (*http.Response, error) { return http.Get(url) }
	resp, err := get(srv.URL + "/push?msg=one")
	check(http.StatusOK, resp, err)
	resp, err = http.PostForm(srv.URL+"/push", map[string][]string{"msg": {"two"}})
	check(http.StatusOK, resp, err)
	resp, err = http.Post(srv.URL+"/push", "text/plain", strings.NewReader("three\n"))
	check(http.StatusOK, resp, err)
	resp, err = get(srv.URL + "/push")
	check(http.StatusBadRequest, resp, err)
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/push", nil)
	resp, err = http.DefaultClient.Do(req)
	check(http.StatusMethodNotAllowed, resp, err)
	for _, want := range []string{"one", "two", "three"} {
		m, err := c.Recv(ctx)
		if err != nil || string(m.Data) != want {
			t.Fatalf("got %q, %v; want %q", m.Data, err, want)
		}
	}
}
