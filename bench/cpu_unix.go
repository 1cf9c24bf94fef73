//go:build unix

package bench

import (
	"syscall"
	"time"
)

// selfCPU is this process's CPU time so far, user and system, from
// getrusage: exact to the microsecond, where /proc counts ticks.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
