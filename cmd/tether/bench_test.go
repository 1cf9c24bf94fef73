package main

import (
	"context"
	"strings"
	"testing"
)

func TestBenchIsACommand(t *testing.T) {
	var out strings.Builder
	if code := run(context.Background(), []string{"help"}, stdio{strings.NewReader(""), &out, &out}); code != 0 {
		t.Fatalf("help: %d", code)
	}
	if !strings.Contains(out.String(), "bench") {
		t.Fatalf("help does not list bench:\n%s", out.String())
	}
}

func TestBenchFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "-h"}, 0, "usage: tether bench"},
		{[]string{"bench"}, 2, "-target is required"},
		{[]string{"bench", "-target", "http://127.0.0.1:1/echo", "-scenario", "nope"}, 2, `unknown scenario "nope"`},
		{[]string{"bench", "-target", "http://127.0.0.1:1/echo", "-proto", "sockjs", "-transport", "jsonp"}, 2, `sockjs has no transport "jsonp"`},
		{[]string{"bench", "report", "/nonexistent/results.txt"}, 1, "no such file"},
	} {
		var out, errOut strings.Builder
		code := run(context.Background(), tc.args, stdio{strings.NewReader(""), &out, &errOut})
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
			t.Errorf("%v: exit %d (want %d), printed %q, want %q", tc.args, code, tc.code, out.String()+errOut.String(), tc.want)
		}
	}
}

func TestBenchReportFromStdin(t *testing.T) {
	in := "label=wsecho.tether scenario=echo msgs_per_s=10.0 p99_ms=1.000 errors=0\n" +
		"label=wsecho.gorilla scenario=echo msgs_per_s=20.0 p99_ms=1.000 errors=0\n"
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"bench", "report"}, stdio{strings.NewReader(in), &out, &errOut}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "| msgs/s ≥ 0.90× gorilla | tether 10 | gorilla 20 | 0.50× | **not met** |") {
		t.Fatalf("report:\n%s", out.String())
	}
}

// A run that cannot reach its server still completes and reports the
// failed connections as errors, not as a crash.
func TestBenchUnreachableServer(t *testing.T) {
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"bench", "-target", "http://127.0.0.1:1/echo", "-c", "2", "-d", "100ms", "-timeout", "1s"},
		stdio{strings.NewReader(""), &out, &errOut})
	if code != 1 || !strings.Contains(errOut.String(), "no session opened") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}
