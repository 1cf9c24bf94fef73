package bench

import (
	"encoding/binary"
	"os"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses; utime 250, stime 75.
	line := "4242 (node (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 11 0 123 456 789\n"
	d, err := parseProcStat(line, 10*time.Millisecond)
	if err != nil || d != 3250*time.Millisecond {
		t.Fatalf("%v %v, want 3.25s", d, err)
	}
	for _, bad := range []string{"", "4242 node S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 x 75 0"} {
		if _, err := parseProcStat(bad, 10*time.Millisecond); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAuxvValue(t *testing.T) {
	var b []byte
	for _, kv := range [][2]uint64{{6, 4096}, {atClkTck, 250}, {25, 1}, {0, 0}, {atClkTck, 999}} {
		b = binary.NativeEndian.AppendUint64(b, kv[0])
		b = binary.NativeEndian.AppendUint64(b, kv[1])
	}
	if v := auxvValue(b, atClkTck); v != 250 {
		t.Errorf("AT_CLKTCK %d, want 250", v)
	}
	if v := auxvValue(b, 99); v != 0 {
		t.Errorf("an absent key read %d (past the vector's end?)", v)
	}
	if v := auxvValue(b[:20], atClkTck); v != 0 {
		t.Errorf("a cut vector read %d", v)
	}
}

// This process's CPU time reads the same way a server's does, and a
// window over work sees it.
func TestProcCPUOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	w := startProcCPU(os.Getpid())
	if !w.ok {
		t.Fatal("could not read this process's /proc/PID/stat")
	}
	self0 := selfCPU()
	var used, self time.Duration
	var ok bool
	x := 0
	deadline := time.Now().Add(30 * time.Second)
	for used == 0 || self == 0 { // work until both clocks moved (/proc's by a tick)
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s of work: /proc %v, getrusage %v; want both above zero", used, self)
		}
		for i := range 1_000_000 {
			x += i
		}
		used, ok = w.stop()
		self = selfCPU() - self0
		if !ok {
			t.Fatal("lost the process")
		}
	}
	_ = x
	if clockTick() <= 0 {
		t.Fatal("no clock tick")
	}
	if _, ok := startProcCPU(1 << 30).stop(); ok {
		t.Error("a process that does not exist measured")
	}
	if _, ok := startProcCPU(0).stop(); ok {
		t.Error("no process given, yet measured")
	}
}
