package transports

import (
	"testing"
	"time"

	"github.com/tether-rt/tether/internal/leakcheck"
)

// TestMain fails the run when a goroutine of tether's outlives the tests:
// readers, writers, the flusher, the late watch and parked polls must all
// end once their connections and sessions do.
func TestMain(m *testing.M) { leakcheck.Main(m, 3*time.Second, "tether-rt/tether") }
