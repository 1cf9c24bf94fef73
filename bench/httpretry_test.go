package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

const timeoutAnswer = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

// A server that gives up a kept-alive connection while it idles, by
// closing it or by saying so unasked (a 408), costs the next request a new
// connection, not an error, whatever its method: the client sees the
// connection given up before it writes, so the server cannot have taken
// the request. So with raw I/O or without.
func TestHTTPIdleConnectionGivenUpCostsANewConnection(t *testing.T) {
	for _, noRaw := range []bool{false, true} {
		testIdleGivenUp(t, noRaw)
	}
}

func testIdleGivenUp(t *testing.T, noRaw bool) {
	for _, tc := range []struct {
		name  string
		after func(c net.Conn) // once the answer was written
		glued bool             // the 408 goes in the answer's own write
	}{
		{"closed", func(c net.Conn) {}, false},
		{"408, then closed", func(c net.Conn) { io.WriteString(c, timeoutAnswer) }, false},
		{"408, left open", func(c net.Conn) { io.WriteString(c, timeoutAnswer); io.Copy(io.Discard, c) }, false},
		{"408 with the answer, left open", func(c net.Conn) { io.Copy(io.Discard, c) }, true},
	} {
		for _, method := range []string{"GET", "POST"} {
			var requests atomic.Int64
			srv := newScriptServer(t, func(i int, c net.Conn) {
				answerEach(func(int, *http.Request) (string, bool) {
					requests.Add(1)
					if tc.glued {
						return okAnswer + timeoutAnswer, true
					}
					return okAnswer, true
				})(i, c)
				tc.after(c)
			})
			e := srv.env(t)
			e.cfg.NoRawIO = noRaw
			h := e.newHConn()
			for i := range 4 {
				status, body, err := h.do(context.Background(), method, []byte("/x"), nil, []byte("m"))
				if err != nil || status != 200 || string(body) != "ok" {
					t.Fatalf("%s, %s %d (-no-raw-io %v): %d %q %v", tc.name, method, i, noRaw, status, body, err)
				}
				if h.probe == nil {
					t.Skip("the idle connection cannot be probed here")
				}
				waitGivenUp(h)
			}
			if n, r := srv.accepted.Load(), requests.Load(); n != 4 || r != 4 {
				t.Errorf("%s, %s (-no-raw-io %v): %d connections, %d requests read, want 4 and 4", tc.name, method, noRaw, n, r)
			}
		}
	}
}

// waitGivenUp waits until the client can see that the server gave up its
// connection (the close or the bytes are on their way over loopback), or
// for 5 s at most: a probe that never sees it fails the next request.
func waitGivenUp(h *hconn) {
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if h.resp.buffered() > 0 || h.probe.closed() {
			return
		}
	}
}

// A connection that ends without an answer after the request was written
// may have had it read: a POST is then an error, not sent twice; a GET
// goes again on a new connection.
func TestHTTPTakenPostIsNotSentAgain(t *testing.T) {
	for _, tc := range []struct {
		method          string
		ok              bool
		conns, requests int64
	}{
		{"POST", false, 1, 2},
		{"GET", true, 2, 3},
	} {
		var requests atomic.Int64
		srv := newScriptServer(t, func(i int, c net.Conn) {
			answerEach(func(n int, _ *http.Request) (string, bool) {
				requests.Add(1)
				if i == 0 && n == 1 {
					return "", true // read the second request, then die without answering
				}
				return okAnswer, false
			})(i, c)
		})
		h := srv.env(t).newHConn()
		if _, _, err := h.do(context.Background(), tc.method, []byte("/x"), nil, []byte("m")); err != nil {
			t.Fatal(err)
		}
		_, _, err := h.do(context.Background(), tc.method, []byte("/x"), nil, []byte("m"))
		if (err == nil) != tc.ok {
			t.Errorf("%s taken and unanswered: error %v, want an error: %v", tc.method, err, !tc.ok)
		}
		if n, r := srv.accepted.Load(), requests.Load(); n != tc.conns || r != tc.requests {
			t.Errorf("%s: %d connections, %d requests read, want %d and %d", tc.method, n, r, tc.conns, tc.requests)
		}
	}
}

// Which failures on a reused connection allow another try.
func TestRetryable(t *testing.T) {
	notSent := fmt.Errorf("POST /x: %w", &reuseError{errNotSent, io.ErrClosedPipe})
	stale := fmt.Errorf("x: %w", &reuseError{errStale, io.EOF})
	for _, tc := range []struct {
		method string
		err    error
		want   bool
	}{
		{"POST", notSent, true},
		{"GET", notSent, true},
		{"POST", stale, false},
		{"GET", stale, true},
		{"HEAD", stale, true},
		{"PUT", stale, false},
		{"GET", io.ErrUnexpectedEOF, false},
		{"GET", errors.New("other"), false},
	} {
		if got := retryable(tc.method, tc.err); got != tc.want {
			t.Errorf("%s after %v: %v, want %v", tc.method, tc.err, got, tc.want)
		}
	}
	if !errors.Is(stale, io.EOF) {
		t.Error("the cause is lost")
	}
}
