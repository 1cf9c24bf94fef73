package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Scenarios the tool runs.
var Scenarios = []string{"echo", "broadcast", "idle", "churn", "burst"}

// Protocols the tool speaks, and the transports each one offers (the
// first is the default).
var Protocols = map[string][]string{
	"tether":   {"websocket", "streaming", "eventsource", "longpoll", "jsonp", "polling"},
	"sockjs":   {"websocket", "xhr-polling"},
	"ws":       {"websocket"},
	"engineio": {"websocket", "polling"},
	"socketio": {"websocket", "polling"},
}

// protoNames lists Protocols' keys in a fixed order.
var protoNames = []string{"tether", "sockjs", "ws", "engineio", "socketio"}

// Config is one run, as the flags say.
type Config struct {
	Scenario  string
	Target    string
	Proto     string
	Transport string
	Conns     int
	Duration  time.Duration
	Size      int
	Rate      float64 // messages/s in all; 0: closed loop
	ServerPID int
	PProf     string // the server's pprof base URL, for goroutine counts
	JSON      bool
	Label     string

	Burst    int           // burst: messages per burst
	Event    string        // socketio: event name; default the scenario's
	Count    int           // churn: stop after this many cycles (0: duration only)
	Abandon  bool          // churn: leave sessions without closing them
	NoCarry  bool          // tether longpoll, polling: send without carry=1 (replies come on polls)
	Settle   time.Duration // churn -abandon: wait this long, then sample RSS again
	Dials    int           // concurrent connection attempts while setting up
	Timeout  time.Duration // per operation (dial, round trip)
	Sources  int           // source addresses to rotate over on loopback
	Workers  int           // 0: as many as open files need
	MaxFiles int           // open files one process may use

	// Set on a worker process by its parent.
	Worker      bool
	WorkerIndex int
	SourceBase  int // first source address offset of this worker

	// CPUProfile, when set, is a file for a CPU profile of this process
	// (the load generator's own cost per message; hidden).
	CPUProfile string
	// NoRawIO makes connections read and write through net.Conn instead
	// of raw system calls (httpraw_linux.go), to compare the two (hidden;
	// worker processes inherit it).
	NoRawIO bool
}

// DefaultMaxFiles is how many open files one bench process uses at most
// before the run is split over several processes (the limit here is
// 20,000 per process, minus room for the rest).
const DefaultMaxFiles = 19000

const benchUsage = `usage: tether bench -scenario NAME -target URL [flags]
       tether bench report [RESULTS-FILE]   (markdown tables of a compare.sh run)

Drives load at one server and prints one key=value line (or -json) with
messages/s, p50/p99/max latency in ms, errors and delivered/expected counts,
and the CPU time per message over the measured window: the load generator's
own (driver_cpu_us_per_msg) and, with -server-pid, the server's
(server_cpu_us_per_msg).

scenarios:
  echo       request/response on each connection; latency per round trip
  broadcast  one publisher, -c subscribers; latency from the payload's timestamp,
             delivered vs expected (zero-loss check)
  idle       hold -c sessions for -d; server RSS (and goroutines) per session
             (needs -server-pid; goroutines need -server-pprof)
  churn      connect/close cycles per second (-abandon: never close)
  burst      server-to-client bursts of -burst messages; messages per poll
             response (or per read), server-to-client messages/s. A tether
             target is asked with "burst N SIZE" (examples/benchserver answers
             it); other servers get the burst as one batch to echo

targets (-target):
  tether    http://HOST/echo, http://HOST/broadcast (a tether mount)
  sockjs    http://HOST/echo (a SockJS prefix)
  ws        ws://HOST/path (raw WebSocket; gorilla peer: /echo, /broadcast)
  engineio  http://HOST/engine.io/
  socketio  http://HOST/socket.io/ (events "echo" and "broadcast")

Sources rotate over 127.0.0.2-250 on a loopback target. A run that would hold
more than -max-files open files runs as several worker processes and says so
(workers=N).

flags:
`

// ParseFlags parses the bench command line. It returns flag.ErrHelp for
// -h, and a usage error (already printed to w) otherwise.
func ParseFlags(args []string, w io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		// The worker flags are the parent's business: not shown.
		show := flag.NewFlagSet("bench", flag.ContinueOnError)
		show.SetOutput(fs.Output())
		fs.VisitAll(func(f *flag.Flag) {
			if !hiddenFlags[f.Name] {
				show.Var(f.Value, f.Name, f.Usage)
			}
		})
		show.PrintDefaults()
	}
	fs.StringVar(&c.Scenario, "scenario", "echo", "one of "+strings.Join(Scenarios, ", "))
	fs.StringVar(&c.Target, "target", "", "server URL (see above)")
	fs.StringVar(&c.Proto, "proto", "tether", "one of "+strings.Join(protoNames, ", "))
	fs.StringVar(&c.Transport, "transport", "", "carrier; default the protocol's first (tether: "+
		strings.Join(Protocols["tether"], "|")+"; sockjs: websocket|xhr-polling; engineio, socketio: websocket|polling)")
	fs.IntVar(&c.Conns, "c", 50, "connections (sessions)")
	fs.DurationVar(&c.Duration, "d", 10*time.Second, "duration of the measurement (idle: how long sessions are held)")
	fs.IntVar(&c.Size, "size", 64, "payload bytes per message")
	fs.Float64Var(&c.Rate, "rate", 0, "messages/s in all (broadcast: published messages/s); 0: as fast as possible, closed loop")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "server process id, for its RSS and CPU time from /proc/PID")
	fs.StringVar(&c.PProf, "server-pprof", "", "server's pprof base URL (http://127.0.0.1:6060), for goroutine counts")
	fs.BoolVar(&c.JSON, "json", false, "print the result as JSON")
	fs.StringVar(&c.Label, "label", "", "label echoed in the output (compare.sh tags its runs)")
	fs.IntVar(&c.Burst, "burst", 100, "burst: messages per burst")
	fs.StringVar(&c.Event, "event", "", "socketio: event name (default: the scenario's: echo or broadcast)")
	fs.IntVar(&c.Count, "count", 0, "churn: stop after this many cycles (0: run for -d)")
	fs.BoolVar(&c.Abandon, "abandon", false, "churn: open sessions and leave them, never closing")
	fs.BoolVar(&c.NoCarry, "no-carry", false, "tether longpoll, polling: send without carry=1, so that replies come on polls, not on the send answers")
	fs.DurationVar(&c.Settle, "settle", 0, "churn: after the cycles, wait this long and sample the server's RSS again")
	fs.IntVar(&c.Dials, "dials", 64, "concurrent connection attempts while connecting")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per operation: connect, round trip, delivery")
	fs.IntVar(&c.Sources, "sources", 249, "source addresses 127.0.0.2 and up to rotate over when the target is on loopback (1: the default source)")
	fs.IntVar(&c.Workers, "workers", 0, "worker processes (0: as many as open files need)")
	fs.IntVar(&c.MaxFiles, "max-files", DefaultMaxFiles, "open files one process may use before the run is split over processes")
	fs.BoolVar(&c.Worker, "worker", false, "")
	fs.IntVar(&c.WorkerIndex, "worker-index", 0, "")
	fs.IntVar(&c.SourceBase, "source-base", 0, "")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "")
	fs.BoolVar(&c.NoRawIO, "no-raw-io", false, "")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(w, "tether bench: unexpected argument %q\n", fs.Arg(0))
		return c, errUsage
	}
	if err := c.validate(); err != nil {
		fmt.Fprintf(w, "tether bench: %v\n", err)
		return c, errUsage
	}
	return c, nil
}

// hiddenFlags are not shown: the parent sets the first three on its worker
// processes, and cpuprofile (the load generator's own CPU profile) and
// no-raw-io (net.Conn's reads and writes instead of raw system calls) are
// for work on the bench itself.
var hiddenFlags = map[string]bool{"worker": true, "worker-index": true, "source-base": true, "cpuprofile": true, "no-raw-io": true}

// errUsage is a command line that cannot run; the reason was printed.
var errUsage = errors.New("usage error")

// IsUsage reports whether err is a usage error from ParseFlags.
func IsUsage(err error) bool { return errors.Is(err, errUsage) }

func (c *Config) validate() error {
	if !slices.Contains(Scenarios, c.Scenario) {
		return fmt.Errorf("unknown scenario %q: want one of %s", c.Scenario, strings.Join(Scenarios, ", "))
	}
	ts, ok := Protocols[c.Proto]
	if !ok {
		return fmt.Errorf("unknown protocol %q: want one of %s", c.Proto, strings.Join(protoNames, ", "))
	}
	if c.Transport == "" {
		c.Transport = ts[0]
	}
	if !slices.Contains(ts, c.Transport) {
		return fmt.Errorf("protocol %s has no transport %q: want one of %s", c.Proto, c.Transport, strings.Join(ts, ", "))
	}
	if c.Target == "" {
		return errors.New("-target is required")
	}
	u, err := url.Parse(c.Target)
	if err != nil {
		return fmt.Errorf("-target: %v", err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("-target %q: want an http(s) or ws(s) URL", c.Target)
	}
	if u.Host == "" {
		return fmt.Errorf("-target %q has no host", c.Target)
	}
	switch {
	case c.Conns < 1:
		return errors.New("-c must be at least 1")
	case c.Scenario == "broadcast" && c.Conns < 1:
		return errors.New("broadcast needs at least one subscriber")
	case c.Duration <= 0:
		return errors.New("-d must be positive")
	case c.Size < minPayload:
		return fmt.Errorf("-size must be at least %d (the timestamp the payload carries)", minPayload)
	case c.Size > 1<<20:
		return errors.New("-size must be at most 1 MiB")
	case c.Rate < 0:
		return errors.New("-rate must not be negative")
	case c.Burst < 1:
		return errors.New("-burst must be at least 1")
	case c.Count < 0:
		return errors.New("-count must not be negative")
	case c.Dials < 1:
		return errors.New("-dials must be at least 1")
	case c.Timeout <= 0:
		return errors.New("-timeout must be positive")
	case c.Sources < 1 || c.Sources > 249:
		return errors.New("-sources must be 1 to 249")
	case c.Workers < 0:
		return errors.New("-workers must not be negative")
	case c.MaxFiles < 100:
		return errors.New("-max-files must be at least 100")
	case c.Label != "" && strings.ContainsAny(c.Label, " \t\n\"="):
		return errors.New("-label must not contain spaces, quotes or '='")
	}
	if c.Event == "" {
		c.Event = "echo"
		if c.Scenario == "broadcast" {
			c.Event = "broadcast"
		}
	}
	return nil
}

// filesPerConn is how many sockets one connection of c's transport holds
// at once in the bench process: one for WebSocket, two for HTTP carriers
// (a receive held open while a send goes), one for HTTP sessions that only
// receive (idle) or only open (churn), except Socket.IO's: its session
// posts its namespace connect at once and keeps that send connection.
func (c *Config) filesPerConn() int {
	switch {
	case c.Transport == "websocket":
		return 1
	case c.Proto == "socketio":
		return 2
	case c.Scenario == "idle" || c.Scenario == "churn":
		return 1
	}
	return 2
}

// workerCount is how many processes the run needs so that none holds more
// than MaxFiles open files, or Workers when set.
func (c *Config) workerCount() int {
	if c.Workers > 0 {
		return min(c.Workers, c.Conns)
	}
	const reserve = 64 // stdio, the HTTP transport's spare, the pprof probe
	per := c.MaxFiles - reserve
	need := c.Conns*c.filesPerConn() + 1 // + the broadcast publisher
	return max(1, (need+per-1)/per)
}

// workerArgs returns the command line of worker i of n: the same run with
// its share of the connections and of the rate.
func (c *Config) workerArgs(i, n int) []string {
	conns := share(c.Conns, i, n)
	args := []string{
		"-worker", "-worker-index", fmt.Sprint(i),
		"-scenario", c.Scenario, "-target", c.Target, "-proto", c.Proto, "-transport", c.Transport,
		"-c", fmt.Sprint(conns), "-d", c.Duration.String(), "-size", fmt.Sprint(c.Size),
		"-burst", fmt.Sprint(c.Burst), "-event", c.Event,
		"-dials", fmt.Sprint(max(1, c.Dials/n)), "-timeout", c.Timeout.String(),
		"-sources", fmt.Sprint(c.Sources), "-source-base", fmt.Sprint(i * 997),
		"-max-files", fmt.Sprint(c.MaxFiles), "-workers", "1", "-json",
	}
	rate := c.Rate
	if c.Scenario != "broadcast" { // the one publisher lives in worker 0
		rate = c.Rate * float64(conns) / float64(c.Conns)
	}
	args = append(args, "-rate", fmt.Sprint(rate))
	if c.Count > 0 {
		args = append(args, "-count", fmt.Sprint(share(c.Count, i, n)))
	}
	if c.Abandon {
		args = append(args, "-abandon")
	}
	if c.NoRawIO {
		args = append(args, "-no-raw-io")
	}
	if c.NoCarry {
		args = append(args, "-no-carry")
	}
	return args
}

// share splits total over n parts, the first ones one larger.
func share(total, i, n int) int {
	s := total / n
	if i < total%n {
		s++
	}
	return s
}
