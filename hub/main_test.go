package hub_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package when goroutines of this module outlive the
// tests: every test shuts its registry down and ends its fake carriers,
// so nothing of tether may still run (a leaked carrier, callback, or a
// leave-on-close hook).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForLeaks(3 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by the tests:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitForLeaks waits up to d for every goroutine whose stack mentions this
// module to end, and returns the stacks of those that did not.
func waitForLeaks(d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		leaked := tetherGoroutines()
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tetherGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	// The first stack is this goroutine's (the test runner's main).
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || !strings.Contains(g, "tether-rt/tether") {
			continue
		}
		out = append(out, g)
	}
	return out
}
