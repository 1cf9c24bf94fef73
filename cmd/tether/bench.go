package main

import (
	"context"
	"os"

	"github.com/tether-rt/tether/bench"
)

// runBench is `tether bench`: load against a tether server or a reference
// server (see bench.Main and bench/compare.sh). A run that would hold more
// open files than one process may starts this executable again as
// workers (`tether bench -worker ...`), one per share of the connections.
func runBench(ctx context.Context, args []string, s stdio) int {
	self := []string{}
	if exe, err := os.Executable(); err == nil {
		self = []string{exe, "bench"}
	}
	return bench.Main(ctx, args, self, s.in, s.out, s.err)
}
