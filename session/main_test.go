package session

import (
	"testing"
	"time"

	"github.com/tether-rt/tether/internal/leakcheck"
)

// TestMain fails the run when a goroutine of this package outlives the
// tests: callback drains, timer expiries and the fake carriers must all end.
// The late watch (internal/latewatch) must stop once nothing is held.
func TestMain(m *testing.M) {
	leakcheck.Main(m, 2*time.Second, "tether-rt/tether/session", "tether-rt/tether/internal/latewatch")
}
