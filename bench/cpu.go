package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Each run reports what a message cost in CPU, on the server and in the
// load generator: on one machine the two share the cores, so the
// throughput of either is bounded by the sum of both costs, and a figure
// per message says which side a ratio is really about.

// ReadProcCPU returns the CPU time (user and system, of every thread, the
// ended ones too) a process has used, from /proc/PID/stat. The kernel
// counts it in clock ticks (10 ms on Linux), fine enough over a window of
// seconds.
func ReadProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStat(string(b), clockTick())
}

// parseProcStat reads utime and stime, the 14th and 15th fields of a
// /proc/PID/stat line, counted from after the command name (which is in
// parentheses and may hold spaces and parentheses itself).
func parseProcStat(stat string, tick time.Duration) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("not a /proc/PID/stat line")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat line")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/PID/stat times %q %q", f[11], f[12])
	}
	return time.Duration(utime+stime) * tick, nil
}

// clockTick is the unit of /proc's CPU times: the kernel's USER_HZ, from
// the process's auxiliary vector (AT_CLKTCK), 100 per second when it
// cannot be read (its value on every common architecture).
func clockTick() time.Duration {
	if b, err := os.ReadFile("/proc/self/auxv"); err == nil {
		if hz := auxvValue(b, atClkTck); hz > 0 {
			return time.Second / time.Duration(hz)
		}
	}
	return 10 * time.Millisecond
}

const atClkTck = 17

// auxvValue returns the value of key in a 64-bit auxiliary vector (pairs
// of native-endian words, ended by a zero key), or 0.
func auxvValue(auxv []byte, key uint64) uint64 {
	for len(auxv) >= 16 {
		k := binary.NativeEndian.Uint64(auxv)
		v := binary.NativeEndian.Uint64(auxv[8:])
		if k == 0 {
			return 0
		}
		if k == key {
			return v
		}
		auxv = auxv[16:]
	}
	return 0
}

// procCPU measures another process's CPU time (the server's, from
// -server-pid) over a window. The load generator's own CPU needs no such
// window: selfCPU at both ends, subtracted, cannot fail.
type procCPU struct {
	pid   int
	start time.Duration
	ok    bool // start was read: the process existed and /proc served it
}

// startProcCPU opens a window on process pid; pid 0 measures nothing.
func startProcCPU(pid int) procCPU {
	w := procCPU{pid: pid}
	if pid > 0 {
		var err error
		w.start, err = ReadProcCPU(pid)
		w.ok = err == nil
	}
	return w
}

// stop returns the CPU time the process used since the window opened;
// ok is false when it could not be read at either end (no process given,
// or it is gone), so that a failure never reads as a measured zero.
func (w procCPU) stop() (used time.Duration, ok bool) {
	if !w.ok {
		return 0, false
	}
	end, err := ReadProcCPU(w.pid)
	if err != nil || end < w.start {
		return 0, false
	}
	return end - w.start, true
}

// perMsg is microseconds of CPU per message.
func perMsg(cpuSeconds float64, msgs int64) float64 {
	if msgs <= 0 {
		return 0
	}
	return cpuSeconds * 1e6 / float64(msgs)
}
