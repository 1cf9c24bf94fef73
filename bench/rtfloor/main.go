// Command rtfloor measures what the Go runtime itself keeps resident after
// a crowd of small objects was allocated, dropped, collected and returned
// to the OS (debug.FreeOSMemory): no net/http, no tether. It is the floor
// under the "100,000 abandoned sessions" row of BENCHMARKS.md: span
// structures (MSpanSys) and GC metadata (GCSys) grow with the peak heap
// and are never given back, so RSS cannot return all the way to its
// baseline after any large, short-lived heap.
//
//	go run ./bench/rtfloor -n 100000 -objs 3 -size 400
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 100000, "sessions")
	objs := flag.Int("objs", 3, "objects per session")
	size := flag.Int("size", 400, "bytes per object (each also holds pointers)")
	flag.Parse()

	debug.FreeOSMemory()
	before := rssKiB()
	report("before", before)

	keep := make([][]*node, *n)
	for i := range keep {
		for range *objs {
			keep[i] = append(keep[i], &node{data: make([]byte, *size)})
		}
		_ = make([]byte, 2048) // garbage, as a request leaves behind
	}
	peak := rssKiB()
	report("peak", peak)

	keep = nil
	debug.FreeOSMemory()
	time.Sleep(time.Second)
	after := rssKiB()
	report("after", after)
	fmt.Printf("after/before %.2fx; growth %d KiB = %.1f%% of the peak's growth\n",
		float64(after)/float64(before), after-before, 100*float64(after-before)/float64(peak-before))
}

// node is a small object with pointers, as a session's parts are.
type node struct {
	next *node
	data []byte
}

func report(at string, rss int) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%-6s rss=%d KiB heap_inuse=%d KiB mspan_sys=%d KiB gc_sys=%d KiB other_sys=%d KiB\n",
		at, rss, ms.HeapInuse>>10, ms.MSpanSys>>10, ms.GCSys>>10, ms.OtherSys>>10)
}

// rssKiB is this process's resident set (VmRSS), as tether bench reads a
// server's.
func rssKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	return 0
}
