package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The report turns the results of one compare.sh run into the markdown
// tables of BENCHMARKS.md. Each run is a key=value line whose label is
// "<row>.<server>"; a line "# <command>" before it is the command that
// produced it.

// metric is one column of a row's table.
type metric struct {
	key   string // the result key
	title string
	prec  int
}

// check is one target: subject's figure against base's (a ratio), or
// against a fixed limit when base is "".
type check struct {
	text    string  // what the issue asks, as it says it
	subject string  // server of the figure checked
	key     string  // result key
	base    string  // server compared with; "" for a fixed limit
	baseKey string  // base's key when it differs (same line: a ratio of two keys)
	atLeast bool    // subject ≥ factor × base (throughput); else ≤ (latency, memory)
	factor  float64 // the ratio asked for, or the fixed limit
}

// row is one line of the targets table.
type row struct {
	id      string
	title   string
	target  string
	servers []string // the first is tether's run
	metrics []metric // the first is the one the ratio column uses
	checks  []check
}

var (
	mMsgs    = metric{"msgs_per_s", "msgs/s", 0}
	mP50     = metric{"p50_ms", "p50 ms", 2}
	mP99     = metric{"p99_ms", "p99 ms", 2}
	mMax     = metric{"max_ms", "max ms", 2}
	mErr     = metric{"errors", "errors", 0}
	mRSS     = metric{"rss_per_session_kib", "KiB/session", 2}
	mGor     = metric{"goroutines_per_session", "goroutines/session", 2}
	mConn    = metric{"connected", "sessions", 0}
	mLoss    = metric{"loss", "lost", 0}
	mDeliv   = metric{"delivered", "delivered", 0}
	mPerPoll = metric{"msgs_per_poll_p50", "msgs/poll p50", 1}
	mPollAvg = metric{"msgs_per_poll_mean", "msgs/poll mean", 1}
	mBefore  = metric{"rss_before_kib", "RSS before KiB", 0}
	mAfter   = metric{"rss_after_kib", "RSS after KiB", 0}
	mSettled = metric{"rss_settled_kib", "RSS settled KiB", 0}
	mLoad    = metric{"load1", "load", 1}
	mSrvCPU  = metric{"server_cpu_us_per_msg", "server µs/msg", 1}
	mDrvCPU  = metric{"driver_cpu_us_per_msg", "driver µs/msg", 1}
)

// Rows is the targets table, in its order, plus churn, which has
// no target but is a scenario of its own.
var Rows = []row{
	{
		id: "wsecho", title: "WebSocket echo, 50 connections, 64 B",
		target:  "at least 0.90x raw gorilla messages/s, p99 at most 1.5x its p99; at least 1.15x sockjs-go",
		servers: []string{"tether", "gorilla", "sockjs-go", "ws", "sockjs-node", "socketio", "engineio"},
		metrics: []metric{mMsgs, mP50, mP99, mMax, mSrvCPU, mDrvCPU, mErr, mLoad},
		checks: []check{
			{text: "msgs/s ≥ 0.90× gorilla", subject: "tether", key: "msgs_per_s", base: "gorilla", atLeast: true, factor: 0.90},
			{text: "p99 ≤ 1.5× gorilla", subject: "tether", key: "p99_ms", base: "gorilla", factor: 1.5},
			{text: "msgs/s ≥ 1.15× sockjs-go", subject: "tether", key: "msgs_per_s", base: "sockjs-go", atLeast: true, factor: 1.15},
		},
	},
	{
		id: "idle", title: "idle WebSocket sessions, 10,000",
		target:  "at most 8 KiB server RSS per session and at most 2 goroutines per session (sockjs-go holds about 23 KiB)",
		servers: []string{"tether", "gorilla", "sockjs-go", "ws", "sockjs-node", "socketio"},
		metrics: []metric{mRSS, mGor, mConn, mBefore, mAfter, mErr, mLoad},
		checks: []check{
			{text: "RSS ≤ 8 KiB/session", subject: "tether", key: "rss_per_session_kib", factor: 8},
			{text: "goroutines ≤ 2/session", subject: "tether", key: "goroutines_per_session", factor: 2},
		},
	},
	{
		id: "bcast", title: "broadcast to 5,000 WebSocket subscribers",
		target:  "p99 delivery latency at most 1.2x the raw gorilla hub, zero loss",
		servers: []string{"tether", "gorilla", "sockjs-go", "sockjs-node", "socketio"},
		metrics: []metric{mP99, mP50, mMax, mDeliv, mLoss, mMsgs, mSrvCPU, mDrvCPU, mErr, mLoad},
		checks: []check{
			{text: "p99 ≤ 1.2× gorilla", subject: "tether", key: "p99_ms", base: "gorilla", factor: 1.2},
			{text: "zero loss", subject: "tether", key: "loss", factor: 0},
		},
	},
	{
		// tether-nocarry: without carry=1, each reply on a poll (no check).
		id: "lpecho", title: "long-polling echo, 50 sessions",
		target:  "at least 2x sockjs-node xhr-polling and engine.io polling messages/s",
		servers: []string{"tether", "tether-nocarry", "sockjs-node", "engineio", "sockjs-go", "socketio"},
		metrics: []metric{mMsgs, mP50, mP99, mSrvCPU, mDrvCPU, mErr, mLoad},
		checks: []check{
			{text: "msgs/s ≥ 2× sockjs-node", subject: "tether", key: "msgs_per_s", base: "sockjs-node", atLeast: true, factor: 2},
			{text: "msgs/s ≥ 2× engine.io", subject: "tether", key: "msgs_per_s", base: "engineio", atLeast: true, factor: 2},
		},
	},
	{
		id: "lpburst", title: "server-to-client burst over long-polling",
		target:  "median at least 10 messages per poll response",
		servers: []string{"tether", "sockjs-node", "engineio", "sockjs-go"},
		metrics: []metric{mPerPoll, mPollAvg, mMsgs, mP99, mSrvCPU, mDrvCPU, mErr, mLoad},
		checks: []check{
			{text: "median ≥ 10 msgs/poll", subject: "tether", key: "msgs_per_poll_p50", atLeast: true, factor: 10},
		},
	},
	{
		id: "s2c", title: "http-streaming and eventsource, server to client",
		target:  "at least 0.7x tether's own WebSocket throughput",
		servers: []string{"tether-websocket", "tether-streaming", "tether-eventsource"},
		metrics: []metric{mMsgs, mP50, mP99, mPollAvg, mSrvCPU, mDrvCPU, mErr, mLoad},
		checks: []check{
			{text: "streaming ≥ 0.7× websocket", subject: "tether-streaming", key: "msgs_per_s", base: "tether-websocket", atLeast: true, factor: 0.7},
			{text: "eventsource ≥ 0.7× websocket", subject: "tether-eventsource", key: "msgs_per_s", base: "tether-websocket", atLeast: true, factor: 0.7},
		},
	},
	{
		id: "parked", title: "10,000 parked long-polls",
		target:  "at most 16 KiB per session; after 100,000 abandoned sessions RSS returns within 10% of its baseline",
		servers: []string{"tether", "sockjs-node", "engineio", "sockjs-go", "socketio"},
		metrics: []metric{mRSS, mGor, mConn, mBefore, mAfter, mErr, mLoad},
		checks: []check{
			{text: "RSS ≤ 16 KiB/session", subject: "tether", key: "rss_per_session_kib", factor: 16},
		},
	},
	{
		id: "abandon", title: "100,000 abandoned long-polling sessions",
		target:  "after 100,000 abandoned sessions RSS returns within 10% of its baseline",
		servers: []string{"tether"},
		metrics: []metric{mConn, mMsgs, mBefore, mAfter, mSettled, mErr, mLoad},
		checks: []check{
			{text: "settled RSS ≤ 1.10× baseline", subject: "tether", key: "rss_settled_kib", base: "tether", baseKey: "rss_before_kib", factor: 1.10},
		},
	},
	{
		id: "sockjsws", title: "SockJS dialect: WebSocket echo, 50 connections",
		target:  "WebSocket echo at least 1.15x sockjs-go",
		servers: []string{"tether", "sockjs-go", "sockjs-node"},
		metrics: []metric{mMsgs, mP50, mP99, mSrvCPU, mDrvCPU, mErr, mLoad},
		checks: []check{
			{text: "msgs/s ≥ 1.15× sockjs-go", subject: "tether", key: "msgs_per_s", base: "sockjs-go", atLeast: true, factor: 1.15},
		},
	},
	{
		id: "sockjsxhr", title: "SockJS dialect: xhr-polling echo, 50 sessions",
		target:  "xhr-polling echo at least 2x sockjs-node",
		servers: []string{"tether", "sockjs-node", "sockjs-go"},
		metrics: []metric{mMsgs, mP50, mP99, mSrvCPU, mDrvCPU, mErr, mLoad},
		checks: []check{
			{text: "msgs/s ≥ 2× sockjs-node", subject: "tether", key: "msgs_per_s", base: "sockjs-node", atLeast: true, factor: 2},
		},
	},
	{
		id: "churn", title: "WebSocket connect/close churn, 50 at a time (no target)",
		servers: []string{"tether", "gorilla", "sockjs-go", "ws", "socketio"},
		metrics: []metric{mMsgs, mP50, mP99, mSrvCPU, mDrvCPU, mErr, mLoad},
	},
}

// run is one result line of the file, with the command before it.
type run struct {
	kv  map[string]string
	cmd string
}

// runs maps a label to every run of it: compare.sh runs the throughput
// rows in several rounds, interleaved across servers, so that other work
// on the machine skews every server alike; figures are their medians.
type runs map[string][]run

// readRuns reads a results file: "# command" lines, "! note" lines and
// key=value lines; anything else is skipped.
func readRuns(r io.Reader) (runs, []string, error) {
	rs := runs{}
	var notes []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	cmd := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "# "):
			cmd = strings.TrimPrefix(line, "# ")
		case strings.HasPrefix(line, "! "):
			notes = append(notes, strings.TrimPrefix(line, "! "))
		case strings.HasPrefix(line, "label="):
			kv, err := ParseKV(line)
			if err != nil {
				return nil, nil, fmt.Errorf("%q: %v", line, err)
			}
			rs[kv["label"]] = append(rs[kv["label"]], run{kv: kv, cmd: cmd})
			cmd = ""
		}
	}
	return rs, notes, sc.Err()
}

// Report writes the markdown tables of the runs in r.
func Report(r io.Reader, w io.Writer) error {
	rs, notes, err := readRuns(r)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	// The summary: one line per target.
	fmt.Fprintln(bw, "| scenario | target | check | tether | reference | ratio | met |")
	fmt.Fprintln(bw, "|---|---|---|---|---|---|---|")
	for _, rw := range Rows {
		for _, c := range rw.checks {
			sub, base, ratio, met := c.eval(rw.id, rs)
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s | %s |\n", rw.title, rw.target, c.text, sub, base, ratio, met)
		}
	}
	for _, rw := range Rows {
		fmt.Fprintf(bw, "\n### %s\n\n", rw.title)
		if rw.target != "" {
			fmt.Fprintf(bw, "Target: %s.\n\n", rw.target)
		}
		rounds := 0
		for _, s := range rw.servers {
			rounds = max(rounds, len(rs[rw.id+"."+s]))
		}
		if rounds > 1 {
			fmt.Fprintf(bw, "Medians of %d rounds, the servers interleaved in each.\n\n", rounds)
		}
		head := "| server |"
		sep := "|---|"
		for _, m := range rw.metrics {
			head += " " + m.title + " |"
			sep += "---:|"
		}
		base := rw.servers[0]
		head += " " + base + " ÷ server (" + rw.metrics[0].title + ") |"
		sep += "---:|"
		fmt.Fprintln(bw, head)
		fmt.Fprintln(bw, sep)
		var cmds, ns []string
		for _, s := range rw.servers {
			label := rw.id + "." + s
			line := "| " + s + " |"
			if len(rs[label]) == 0 {
				for range rw.metrics {
					line += " – |"
				}
				fmt.Fprintln(bw, line+" not run |")
				continue
			}
			for _, m := range rw.metrics {
				line += " " + cell(rs, label, m) + " |"
			}
			line += " " + ratioCell(rs, rw.id+"."+base, label, rw.metrics[0].key) + " |"
			fmt.Fprintln(bw, line)
			if c := rs[label][0].cmd; c != "" {
				cmds = append(cmds, c)
			}
			seen := map[string]bool{}
			for _, r := range rs[label] {
				if n := r.kv["note"]; n != "" && !seen[n] {
					seen[n] = true
					ns = append(ns, s+": "+n)
				}
			}
		}
		if len(ns) > 0 {
			fmt.Fprintln(bw)
			for _, n := range ns {
				fmt.Fprintf(bw, "- %s\n", n)
			}
		}
		if len(cmds) > 0 {
			fmt.Fprintln(bw, "\n```")
			for _, c := range cmds {
				fmt.Fprintln(bw, c)
			}
			fmt.Fprintln(bw, "```")
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(bw, "\n### Notes from the run")
		fmt.Fprintln(bw)
		for _, n := range notes {
			fmt.Fprintf(bw, "- %s\n", n)
		}
	}
	return bw.Flush()
}

// figure reads a number from the runs of a label: the median when the
// label ran more than once.
func figure(rs runs, label, key string) (float64, bool) {
	var vals []float64
	for _, r := range rs[label] {
		v, err := strconv.ParseFloat(strings.TrimSuffix(r.kv[key], "s"), 64)
		if err == nil {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return 0, false
	}
	return median(vals), true
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// cell formats a label's figure for a table.
func cell(rs runs, label string, m metric) string {
	if v, ok := figure(rs, label, m.key); ok {
		return fmtFigure(strconv.FormatFloat(v, 'f', -1, 64), m.prec)
	}
	if r := rs[label]; len(r) > 0 && r[0].kv[m.key] != "" {
		return r[0].kv[m.key]
	}
	return "–"
}

func ratioCell(rs runs, a, b, key string) string {
	x, ok1 := figure(rs, a, key)
	y, ok2 := figure(rs, b, key)
	if !ok1 || !ok2 || y == 0 {
		return "–"
	}
	return fmtRatio(x / y)
}

func fmtRatio(r float64) string {
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return "–"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

// fmtFigure formats a figure with thousands separators.
func fmtFigure(v string, prec int) string {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		if v == "" {
			return "–"
		}
		return v
	}
	s := strconv.FormatFloat(math.Abs(f), 'f', prec, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if f < 0 {
		out = "-" + out
	}
	return out
}

// eval returns the cells of a check: the subject's figure, the base's,
// the ratio and whether the target is met.
func (c check) eval(row string, rs runs) (sub, base, ratio, met string) {
	x, ok := figure(rs, row+"."+c.subject, c.key)
	if !ok {
		return c.subject + " not run", "–", "–", "not measured"
	}
	sub = c.subject + " " + strconv.FormatFloat(x, 'f', -1, 64)
	defer func() {
		if e, ok := figure(rs, row+"."+c.subject, "errors"); ok && e > 0 {
			met += " (" + strconv.FormatFloat(e, 'f', -1, 64) + " errors)"
		}
	}()
	if c.base == "" {
		ok := x <= c.factor
		if c.atLeast {
			ok = x >= c.factor
		}
		return sub, "limit " + strconv.FormatFloat(c.factor, 'f', -1, 64), "–", metWord(ok)
	}
	bk := c.key
	if c.baseKey != "" {
		bk = c.baseKey
	}
	y, ok := figure(rs, row+"."+c.base, bk)
	if !ok {
		return sub, c.base + " not run", "–", "not measured"
	}
	base = c.base + " " + strconv.FormatFloat(y, 'f', -1, 64)
	if c.baseKey != "" {
		sub = c.key + " " + strconv.FormatFloat(x, 'f', -1, 64)
		base = bk + " " + strconv.FormatFloat(y, 'f', -1, 64)
	}
	if y == 0 {
		return sub, base, "–", "not measured"
	}
	r := x / y
	good := r <= c.factor
	if c.atLeast {
		good = r >= c.factor
	}
	return sub, base, fmtRatio(r), metWord(good)
}

func metWord(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}
