package bench

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, args ...string) (Config, error, string) {
	t.Helper()
	var out strings.Builder
	c, err := ParseFlags(args, &out)
	return c, err, out.String()
}

func TestParseFlagsDefaults(t *testing.T) {
	c, err, _ := parse(t, "-target", "http://127.0.0.1:8100/echo")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Scenario: "echo", Target: "http://127.0.0.1:8100/echo", Proto: "tether", Transport: "websocket",
		Conns: 50, Duration: 10 * time.Second, Size: 64, Burst: 100, Event: "echo", Dials: 64,
		Timeout: 10 * time.Second, Sources: 249, MaxFiles: DefaultMaxFiles,
	}
	if c != want {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
}

func TestParseFlagsEverything(t *testing.T) {
	c, err, _ := parse(t, "-scenario", "broadcast", "-target", "http://127.0.0.1:8082/socket.io/",
		"-proto", "socketio", "-transport", "polling", "-c", "5000", "-d", "5s", "-size", "128",
		"-rate", "12.5", "-server-pid", "42", "-server-pprof", "http://127.0.0.1:6060", "-json",
		"-label", "bcast.socketio")
	if err != nil {
		t.Fatal(err)
	}
	if c.Scenario != "broadcast" || c.Proto != "socketio" || c.Transport != "polling" || c.Conns != 5000 ||
		c.Duration != 5*time.Second || c.Size != 128 || c.Rate != 12.5 || c.ServerPID != 42 ||
		c.PProf != "http://127.0.0.1:6060" || !c.JSON || c.Label != "bcast.socketio" {
		t.Fatalf("%+v", c)
	}
	if c.Event != "broadcast" {
		t.Fatalf("broadcast's default event is %q", c.Event)
	}
}

func TestParseFlagsTransportDefaultsPerProtocol(t *testing.T) {
	for proto, want := range map[string]string{"tether": "websocket", "sockjs": "websocket", "ws": "websocket", "engineio": "websocket", "socketio": "websocket"} {
		c, err, _ := parse(t, "-proto", proto, "-target", "http://127.0.0.1:1/")
		if err != nil || c.Transport != want {
			t.Errorf("%s: transport %q, err %v", proto, c.Transport, err)
		}
	}
}

func TestParseFlagsRefuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{}, "-target is required"},
		{[]string{"-target", "http://h/", "-scenario", "soak"}, `unknown scenario "soak"`},
		{[]string{"-target", "http://h/", "-proto", "mqtt"}, `unknown protocol "mqtt"`},
		{[]string{"-target", "http://h/", "-proto", "sockjs", "-transport", "longpoll"}, `sockjs has no transport "longpoll"`},
		{[]string{"-target", "http://h/", "-proto", "ws", "-transport", "polling"}, `ws has no transport "polling"`},
		{[]string{"-target", "http://h/", "-transport", "xhr-polling"}, `tether has no transport "xhr-polling"`},
		{[]string{"-target", "ftp://h/"}, "want an http(s) or ws(s) URL"},
		{[]string{"-target", "http:///echo"}, "has no host"},
		{[]string{"-target", "http://h/", "-c", "0"}, "-c must be at least 1"},
		{[]string{"-target", "http://h/", "-d", "0s"}, "-d must be positive"},
		{[]string{"-target", "http://h/", "-size", "8"}, "-size must be at least 21"},
		{[]string{"-target", "http://h/", "-rate", "-1"}, "-rate must not be negative"},
		{[]string{"-target", "http://h/", "-sources", "300"}, "-sources must be 1 to 249"},
		{[]string{"-target", "http://h/", "-label", "a b"}, "-label must not contain"},
		{[]string{"-target", "http://h/", "extra"}, `unexpected argument "extra"`},
	} {
		_, err, out := parse(t, tc.args...)
		if !IsUsage(err) {
			t.Errorf("%v: err %v, want a usage error", tc.args, err)
			continue
		}
		if !strings.Contains(out, tc.msg) {
			t.Errorf("%v: printed %q, want %q", tc.args, out, tc.msg)
		}
	}
	if _, err, _ := parse(t, "-c", "x"); err == nil || IsUsage(err) {
		t.Errorf("a malformed number: %v, want the flag package's error", err)
	}
}

func TestParseFlagsHelp(t *testing.T) {
	_, err, out := parse(t, "-h")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"usage: tether bench", "broadcast", "-server-pid", "engine.io"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if strings.Contains(out, "-worker\n") || strings.Contains(out, "-worker-index") || strings.Contains(out, "-source-base") {
		t.Errorf("help shows the worker flags:\n%s", out)
	}
}

func TestWorkerCount(t *testing.T) {
	for _, tc := range []struct {
		conns     int
		transport string
		maxFiles  int
		workers   int
		want      int
	}{
		{50, "websocket", DefaultMaxFiles, 0, 1},
		{10000, "websocket", DefaultMaxFiles, 0, 1},
		{18900, "websocket", DefaultMaxFiles, 0, 1},
		{18937, "websocket", DefaultMaxFiles, 0, 2}, // 18,937 + the publisher > 19,000 - 64
		{50000, "websocket", DefaultMaxFiles, 0, 3},
		{10000, "longpoll", DefaultMaxFiles, 0, 2},              // two sockets per HTTP session
		{10000, "longpoll-idle", DefaultMaxFiles, 0, 1},         // parked polls: one each
		{10000, "socketio/polling-idle", DefaultMaxFiles, 0, 2}, // a poll and the connect's send slot
		{10000, "socketio/websocket-idle", DefaultMaxFiles, 0, 1},
		{5000, "socketio/polling-churn", DefaultMaxFiles, 0, 1},
		{10000, "socketio/polling-churn", DefaultMaxFiles, 0, 2},
		{500, "websocket", 300, 0, 3},
		{50, "websocket", DefaultMaxFiles, 4, 4},
		{3, "websocket", DefaultMaxFiles, 8, 3}, // no worker without a connection
	} {
		c := Config{Scenario: "echo", Proto: "tether", Conns: tc.conns, Transport: tc.transport, MaxFiles: tc.maxFiles, Workers: tc.workers}
		if proto, tr, ok := strings.Cut(c.Transport, "/"); ok {
			c.Proto, c.Transport = proto, tr
		}
		for _, sc := range []string{"idle", "churn"} {
			if tr, ok := strings.CutSuffix(c.Transport, "-"+sc); ok {
				c.Scenario, c.Transport = sc, tr
			}
		}
		if got := c.workerCount(); got != tc.want {
			t.Errorf("%d %s conns, max %d files, -workers %d: %d workers, want %d",
				tc.conns, tc.transport, tc.maxFiles, tc.workers, got, tc.want)
		}
	}
}

// A worker's command line parses back into the same run with its share
// of the connections, the rate and the count.
func TestWorkerArgsParseBack(t *testing.T) {
	c, err, _ := parse(t, "-scenario", "churn", "-target", "http://127.0.0.1:8100/echo", "-transport", "longpoll",
		"-c", "101", "-d", "3s", "-rate", "100", "-count", "1000", "-abandon", "-dials", "30", "-no-raw-io", "-no-carry")
	if err != nil {
		t.Fatal(err)
	}
	var conns, count int
	var rate float64
	for i := range 3 {
		w, err := ParseFlags(c.workerArgs(i, 3), io.Discard)
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
		if !w.Worker || w.WorkerIndex != i || !w.JSON || w.Workers != 1 || !w.Abandon || !w.NoRawIO || !w.NoCarry ||
			w.Scenario != c.Scenario || w.Target != c.Target || w.Transport != c.Transport || w.Duration != c.Duration || w.Dials != 10 {
			t.Fatalf("worker %d: %+v", i, w)
		}
		conns += w.Conns
		count += w.Count
		rate += w.Rate
	}
	if conns != 101 || count != 1000 || rate < 99.999 || rate > 100.001 {
		t.Fatalf("shares add up to %d conns, %d cycles, %v msgs/s", conns, count, rate)
	}

	// A broadcast's rate is the one publisher's, in worker 0: not split.
	b, _, _ := parse(t, "-scenario", "broadcast", "-target", "http://h/broadcast", "-c", "40000", "-rate", "10")
	w, err := ParseFlags(b.workerArgs(1, 3), io.Discard)
	if err != nil || w.Rate != 10 || w.Conns != 13333 {
		t.Fatalf("broadcast worker: rate %v conns %d err %v", w.Rate, w.Conns, err)
	}
}

func TestShare(t *testing.T) {
	got := []int{share(10, 0, 3), share(10, 1, 3), share(10, 2, 3)}
	if got[0] != 4 || got[1] != 3 || got[2] != 3 {
		t.Fatalf("10 over 3: %v", got)
	}
}

func TestSourceAddressesRotateOverLoopback(t *testing.T) {
	seen := map[string]bool{}
	for i := range 500 {
		ip := sourceAddr(7, i, 249)
		if ip.To4()[0] != 127 || ip.To4()[3] < 2 || ip.To4()[3] > 250 {
			t.Fatalf("source %v outside 127.0.0.2-250", ip)
		}
		seen[ip.String()] = true
	}
	if len(seen) != 249 {
		t.Fatalf("%d distinct sources, want 249", len(seen))
	}
}
