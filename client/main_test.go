package client

import (
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/internal/leakcheck"
)

// TestMain fails the run if any goroutine of a Conn, a carrier, the fake
// server or an HTTP connection outlives the tests.
func TestMain(m *testing.M) { leakcheck.Main(m, 5*time.Second, leakMarks()...) }

// leakMarks returns stack frames that only live goroutines of a Conn, the
// fake server or their connections have.
func leakMarks() []string {
	return []string{
		"tether/client.(*Conn)",
		"tether/client.(*fake)",
		"net/http.(*persistConn)",
		"net/http.(*conn).serve",
		"gorilla/websocket",
	}
}

// noLeaks waits up to wait for the goroutines of leakMarks() to end: some,
// like an HTTP connection's reader, end a moment after their connection.
func noLeaks(wait time.Duration) error { return leakcheck.Wait(wait, leakMarks()...) }

// noConnGoroutines fails t if goroutines of a Conn are still running a
// moment after it ended.
func noConnGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		g := leakcheck.Goroutines("tether/client.(*Conn)")
		if len(g) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of a Conn left after it ended:\n%s", len(g), strings.Join(g, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
