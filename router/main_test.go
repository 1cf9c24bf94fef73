package router_test

import (
	"testing"
	"time"

	"github.com/tether-rt/tether/internal/leakcheck"
)

// TestMain fails the package when goroutines of this module outlive the
// tests: every test shuts its router down and closes its servers, so
// nothing of tether may still run (a leaked carrier, callback or timer).
func TestMain(m *testing.M) { leakcheck.Main(m, 3*time.Second, "tether-rt/tether") }
