package hub_test

import (
	"testing"
	"time"

	"github.com/tether-rt/tether/internal/leakcheck"
)

// TestMain fails the package when goroutines of this module outlive the
// tests: every test shuts its registry down and ends its fake carriers, so
// nothing of tether may still run (a carrier, a callback, or a
// leave-on-close hook).
func TestMain(m *testing.M) { leakcheck.Main(m, 3*time.Second, "tether-rt/tether") }
