// Package leakcheck fails a test binary whose goroutines outlive its tests.
//
// Whoever starts a goroutine stops it: that rule holds only if something
// checks it. Each package's TestMain calls Main with the stack frames that
// mark its goroutines; after the tests pass, Main waits briefly for those
// goroutines to end (an HTTP connection's reader ends a moment after its
// connection) and fails the run, printing their stacks, if any remain.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests, then fails the run if goroutines whose stacks hold
// any of marks are still running after wait. It does not return.
func Main(m *testing.M, wait time.Duration, marks ...string) {
	code := m.Run()
	if code == 0 {
		if err := Wait(wait, marks...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// Wait waits up to d for every goroutine holding any of marks to end, and
// returns an error listing the stacks of those that did not.
func Wait(d time.Duration, marks ...string) error {
	deadline := time.Now().Add(d)
	for {
		left := Goroutines(marks...)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d goroutines leaked by the tests:\n\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Goroutines returns the stacks of the live goroutines, other than the
// caller's, that hold any of marks.
func Goroutines(marks ...string) []string {
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
	// The first stack is the caller's own goroutine.
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue
		}
		for _, m := range marks {
			if strings.Contains(g, m) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
