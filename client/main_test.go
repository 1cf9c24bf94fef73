package client

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if any goroutine of a Conn, a carrier, the fake
// server or an HTTP connection outlives the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := noLeaks(5 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

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

// goroutines returns the stacks of live goroutines holding any of marks.
func goroutines(marks ...string) []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, m := range marks {
			if strings.Contains(g, m) {
				found = append(found, g)
				break
			}
		}
	}
	return found
}

// noLeaks waits up to wait for the goroutines of leakMarks() to end: some,
// like an HTTP connection's reader, end a moment after their connection.
func noLeaks(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		g := goroutines(leakMarks()...)
		if len(g) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d leaked goroutines:\n%s", len(g), strings.Join(g, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noConnGoroutines fails t if goroutines of a Conn are still running a
// moment after it ended.
func noConnGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		g := goroutines("tether/client.(*Conn)")
		if len(g) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of a Conn left after it ended:\n%s", len(g), strings.Join(g, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
