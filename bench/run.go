package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"time"
)

// Main runs `tether bench` with args and returns the exit status: 0 when
// the run completed (errors are reported in the result, not as a status),
// 1 when it could not run, 2 on a usage error. self is the command line
// that runs `tether bench` again (the executable and "bench"), used to
// start worker processes.
func Main(ctx context.Context, args []string, self []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "report" {
		return mainReport(args[1:], stdin, stdout, stderr)
	}
	cfg, err := ParseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if cfg.Worker {
		if err := runWorker(ctx, cfg, stdin, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "tether bench worker %d: %v\n", cfg.WorkerIndex, err)
			return 1
		}
		return 0
	}
	if cfg.CPUProfile != "" {
		stop, err := startCPUProfile(cfg.CPUProfile)
		if err != nil {
			fmt.Fprintf(stderr, "tether bench: %v\n", err)
			return 1
		}
		defer stop()
	}
	res, err := Run(ctx, cfg, self, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tether bench: %v\n", err)
		return 1
	}
	res.Latency, res.PerPoll, res.Subs = nil, nil, 0 // merged already; only workers pass them on
	if err := res.Write(stdout, cfg.JSON); err != nil {
		return 1
	}
	return 0
}

// startCPUProfile profiles this process into path until the returned
// stop is called: the load generator's own cost per message is part of
// what a run on one machine measures.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// mainReport is `tether bench report [FILE]`: the markdown tables of a
// compare.sh results file (stdin when no FILE).
func mainReport(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	in := stdin
	switch len(args) {
	case 0:
	case 1:
		f, err := os.Open(args[0])
		if err != nil {
			fmt.Fprintf(stderr, "tether bench report: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	default:
		fmt.Fprintln(stderr, "usage: tether bench report [RESULTS-FILE]")
		return 2
	}
	if err := Report(in, stdout); err != nil {
		fmt.Fprintf(stderr, "tether bench report: %v\n", err)
		return 1
	}
	return 0
}

// probe samples the server's RSS and goroutines, when it can.
type probe struct {
	pid   int
	pprof string
}

type sample struct {
	rss int64 // KiB
	gor int
}

func (p probe) take() sample {
	var s sample
	if p.pid > 0 {
		s.rss, _ = ReadRSS(p.pid)
	}
	if p.pprof != "" {
		s.gor, _ = Goroutines(p.pprof)
	}
	return s
}

// Run runs cfg in this process, or over several worker processes when
// one would hold more than MaxFiles open files, and returns the merged
// result.
func Run(ctx context.Context, cfg Config, self []string, log io.Writer) (*Result, error) {
	p := probe{cfg.ServerPID, cfg.PProf}
	n := cfg.workerCount()
	load := ReadLoad1()
	if n > 1 && len(self) == 0 {
		return nil, errors.New("this run needs worker processes, and no command to start them was given")
	}
	var res *Result
	var s samples
	var err error
	if n == 1 {
		res, s, err = runLocal(ctx, cfg, p, log)
	} else {
		if cfg.Workers > 0 {
			fmt.Fprintf(log, "tether bench: running %d worker processes (-workers)\n", n)
		} else {
			fmt.Fprintf(log, "tether bench: %d connections need about %d open files, over the %d one process may use: running %d worker processes\n",
				cfg.Conns, cfg.Conns*cfg.filesPerConn(), cfg.MaxFiles, n)
		}
		res, s, err = runWorkers(ctx, cfg, n, self, p, log)
	}
	if err != nil {
		return nil, err
	}
	res.Label, res.Conns, res.Load1 = cfg.Label, cfg.Conns, load
	if cfg.Scenario == "broadcast" {
		res.Expected = res.Sent * int64(res.Subs)
	}
	if s.before.rss > 0 && s.after.rss > 0 {
		res.RSSBefore, res.RSSAfter, res.RSSSettled = s.before.rss, s.after.rss, s.settled.rss
	}
	if s.before.gor > 0 && s.after.gor > 0 {
		res.GoBefore, res.GoAfter = s.before.gor, s.after.gor
	}
	if s.cpuOK {
		v := s.cpu.Seconds()
		res.ServerCPU = &v
	}
	if n > 1 {
		res.Note = joinNote(res.Note, fmt.Sprintf("%d worker processes (at most %d open files each)", n, cfg.MaxFiles))
	}
	res.finish()
	return res, nil
}

// phases are the steps of one process's runner, or of the parent lining
// up its workers.
type phases struct {
	setup    func() error
	run      func()
	teardown func()
}

// samples is what runPhases measured of the server: RSS and goroutines
// before the sessions exist, once they all exist (idle: after holding
// them for the duration; churn: after the cycles), and for churn -settle
// after the wait; and its CPU time over the measured window.
type samples struct {
	before, after, settled sample
	cpu                    time.Duration
	cpuOK                  bool
}

// runPhases runs ph and samples the server where the scenario says.
func runPhases(ctx context.Context, cfg Config, p probe, ph phases) (s samples, err error) {
	s.before = p.take()
	if err = ph.setup(); err != nil {
		ph.teardown()
		return
	}
	if cfg.Scenario == "idle" {
		select {
		case <-time.After(cfg.Duration):
		case <-ctx.Done():
		}
	}
	if cfg.Scenario != "churn" {
		s.after = p.take()
	}
	w := startProcCPU(p.pid)
	ph.run()
	s.cpu, s.cpuOK = w.stop()
	if cfg.Scenario == "churn" {
		s.after = p.take()
	}
	ph.teardown()
	if cfg.Scenario == "churn" && cfg.Settle > 0 {
		select {
		case <-time.After(cfg.Settle):
		case <-ctx.Done():
		}
		s.settled = p.take()
	}
	return
}

func runLocal(ctx context.Context, cfg Config, p probe, log io.Writer) (*Result, samples, error) {
	r, err := newRunner(cfg, log)
	if err != nil {
		return nil, samples{}, err
	}
	s, err := runPhases(ctx, cfg, p, phases{
		setup:    func() error { return r.setup(ctx) },
		run:      func() { r.run(ctx) },
		teardown: r.teardown,
	})
	if err != nil {
		return nil, s, err
	}
	return r.result(), s, nil
}

// The worker protocol, over the worker's stdin and stdout: the worker
// connects its sessions and prints "ready"; the parent, once every worker
// is ready, writes "go"; the worker measures, closes, and prints its
// result as one JSON line.
const (
	lineReady = "ready"
	lineGo    = "go"
)

func runWorker(ctx context.Context, cfg Config, stdin io.Reader, stdout, stderr io.Writer) error {
	r, err := newRunner(cfg, stderr)
	if err != nil {
		return err
	}
	if err := r.setup(ctx); err != nil {
		r.teardown()
		return err
	}
	fmt.Fprintln(stdout, lineReady)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != lineGo {
		r.teardown()
		return errors.New("the parent went away before the start")
	}
	r.run(ctx)
	// The result goes out before the teardown, so that the parent's
	// window (the server's CPU time) ends with the workers' windows and
	// not after every session closed.
	err = r.result().Write(stdout, true)
	r.teardown()
	return err
}

type worker struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	ready chan error
}

func runWorkers(ctx context.Context, cfg Config, n int, self []string, p probe, log io.Writer) (*Result, samples, error) {
	ws := make([]*worker, n)
	var parts []*Result
	var mu sync.Mutex
	var wg sync.WaitGroup
	kill := func() {
		for _, w := range ws {
			if w != nil && w.cmd.Process != nil {
				w.cmd.Process.Kill()
			}
		}
	}
	start := func() error {
		for i := range n {
			args := append(append([]string{}, self[1:]...), cfg.workerArgs(i, n)...)
			cmd := exec.CommandContext(ctx, self[0], args...)
			cmd.Stderr = log
			in, err := cmd.StdinPipe()
			if err != nil {
				return err
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				return err
			}
			if err := cmd.Start(); err != nil {
				return err
			}
			w := &worker{cmd: cmd, in: in, out: bufio.NewReader(out), ready: make(chan error, 1)}
			ws[i] = w
			go func() {
				line, err := w.out.ReadString('\n')
				if err == nil && strings.TrimSpace(line) != lineReady {
					err = fmt.Errorf("worker said %q", line)
				}
				w.ready <- err
			}()
		}
		for i, w := range ws {
			if err := <-w.ready; err != nil {
				return fmt.Errorf("worker %d: %v", i, err)
			}
		}
		return nil
	}
	s, err := runPhases(ctx, cfg, p, phases{
		setup: start,
		run: func() {
			for i, w := range ws {
				wg.Add(1)
				go func() {
					defer wg.Done()
					line, err := w.out.ReadString('\n')
					var r Result
					if err == nil {
						err = json.Unmarshal([]byte(line), &r)
					}
					if err != nil {
						fmt.Fprintf(log, "tether bench: worker %d gave no result: %v\n", i, err)
						return
					}
					mu.Lock()
					parts = append(parts, &r)
					mu.Unlock()
				}()
				fmt.Fprintln(w.in, lineGo)
			}
			wg.Wait()
		},
		teardown: func() {
			for _, w := range ws {
				if w != nil {
					w.in.Close()
				}
			}
			done := make(chan struct{})
			go func() {
				for _, w := range ws {
					if w != nil {
						w.cmd.Wait()
					}
				}
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				kill()
				<-done
			}
		},
	})
	if err != nil {
		return nil, s, err
	}
	if len(parts) != n {
		return nil, s, fmt.Errorf("%d of %d workers reported", len(parts), n)
	}
	res := merge(parts)
	// Only worker 0 published; every worker's subscribers expected it all.
	res.Sent = 0
	for _, p := range parts {
		if cfg.Scenario != "broadcast" || p.Sent > 0 {
			res.Sent += p.Sent
		}
	}
	return res, s, nil
}

// ReadLoad1 returns the 1-minute load average from /proc/loadavg, or 0:
// other work on the machine skews every figure, so each run says how busy
// the machine was.
func ReadLoad1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	fmt.Sscanf(string(b), "%g", &l)
	return l
}

// ReadRSS returns a process's resident set size in KiB, from
// /proc/PID/status.
func ReadRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseRSS(string(b))
}

func parseRSS(status string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("VmRSS %q: %v", v, err)
			}
			return kib, nil
		}
	}
	return 0, errors.New("no VmRSS line")
}
