// Command tether is the command-line companion of the tether framework.
//
//	tether <command> [arguments]
//
// Commands:
//
//	dial    open a session to a tether server, like wscat: stdin lines out, messages in
//	bench   drive load at a tether or reference server and report messages/s and latency
//
// Each command is a function in its own file, listed in commands(); `tether
// bench` and others go there the same way.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// stdio is a command's standard streams, passed in so tests can run
// commands in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// A command returns the process's exit status: 0 success, 1 failure,
// 2 usage error.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, s stdio) int
}

func commands() []command {
	return []command{
		{"dial", "open a session, send stdin lines, print messages received", runDial},
		{"bench", "drive load at a server; print messages/s, latency, errors (key=value or -json)", runBench},
	}
}

func main() {
	// The first interrupt asks the running command to finish cleanly
	// (dial closes its session with 1000); a second one kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, s stdio) int {
	if len(args) == 0 {
		usage(s.err)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(s.out)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], s)
		}
	}
	fmt.Fprintf(s.err, "tether: unknown command %q\n\n", args[0])
	usage(s.err)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: tether <command> [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'tether <command> -h' for a command's flags.")
}
