package session

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run when a goroutine of this package outlives the
// tests: callback drains, timer expiries and the fake carriers must all end.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if stacks := waitNoLeaks(2 * time.Second); stacks != nil {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n\n%s\n", strings.Join(stacks, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// waitNoLeaks polls until no goroutine but the caller has a frame in this
// package, or until d passes, and then returns the stacks of those left.
func waitNoLeaks(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		left := packageGoroutines()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func packageGoroutines() []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "tether-rt/tether/session") {
			continue
		}
		if strings.Contains(g, "session.TestMain") || strings.Contains(g, "session.packageGoroutines") {
			continue // the goroutine doing the check
		}
		left = append(left, g)
	}
	return left
}
