package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Result is what one run measured. Zero-valued optional figures are left
// out of the key=value line; JSON has every field but the omitempty ones.
type Result struct {
	Label     string  `json:"label,omitempty"`
	Scenario  string  `json:"scenario"`
	Proto     string  `json:"proto"`
	Transport string  `json:"transport"`
	Target    string  `json:"target"`
	Conns     int     `json:"conns"`
	Duration  float64 `json:"duration_s"` // the measured window, seconds
	Workers   int     `json:"workers"`
	Size      int     `json:"size"`
	Rate      float64 `json:"rate"`

	Msgs       int64   `json:"msgs"`       // round trips, deliveries, cycles or messages received
	MsgsPerSec float64 `json:"msgs_per_s"` // Msgs / Duration
	P50        float64 `json:"p50_ms"`     // latency percentiles, milliseconds
	P99        float64 `json:"p99_ms"`     //
	Max        float64 `json:"max_ms"`     //
	Mean       float64 `json:"mean_ms"`    //
	Errors     int64   `json:"errors"`     // failed connects, unexpected closes, timeouts
	Connected  int     `json:"connected"`  // sessions that opened
	Sent       int64   `json:"sent"`       // messages sent (broadcast: published)
	Delivered  int64   `json:"delivered"`  // broadcast: deliveries seen
	Expected   int64   `json:"expected"`   // broadcast: published × subscribers
	PollsP50   float64 `json:"msgs_per_poll_p50,omitempty"`
	PollsMean  float64 `json:"msgs_per_poll_mean,omitempty"`
	Polls      int64   `json:"polls,omitempty"` // burst: receive answers (poll responses, reads) carrying messages
	RSSBefore  int64   `json:"rss_before_kib,omitempty"`
	RSSAfter   int64   `json:"rss_after_kib,omitempty"`
	RSSSettled int64   `json:"rss_settled_kib,omitempty"` // churn -settle: RSS after the wait
	RSSPerConn float64 `json:"rss_per_session_kib,omitempty"`
	GoBefore   int     `json:"goroutines_before,omitempty"`
	GoAfter    int     `json:"goroutines_after,omitempty"`
	GoPerConn  float64 `json:"goroutines_per_session,omitempty"`
	Load1      float64 `json:"load1"` // the machine's 1-minute load average when the run started

	// CPU time over the measured window, seconds: the server's from
	// /proc/PID/stat (-server-pid), the load generator's from getrusage
	// (with worker processes, the workers' summed); and each per message,
	// microseconds. The server's are pointers because a server that used
	// no CPU measured 0, which JSON must show, while one not measured (no
	// -server-pid, or /proc failed) has no figure at all: nil. Nor has a
	// run without messages (idle) a server figure per message.
	ServerCPU       *float64 `json:"server_cpu_s,omitempty"`
	DriverCPU       float64  `json:"driver_cpu_s"`
	ServerCPUPerMsg *float64 `json:"server_cpu_us_per_msg,omitempty"`
	DriverCPUPerMsg float64  `json:"driver_cpu_us_per_msg"`
	Note            string   `json:"note,omitempty"`

	// Latency and PerPoll travel between worker processes so that the
	// parent can merge them; they are not printed.
	Latency *Histogram `json:"latency_hist,omitempty"`
	PerPoll *Histogram `json:"per_poll_hist,omitempty"`
	// Subs is a broadcast worker's subscriber count.
	Subs int `json:"subs,omitempty"`
}

// kv is one key=value pair of the output line.
type kv struct {
	key string
	val string
}

func ftoa(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }

// pairs returns the result's key=value pairs, in a fixed order.
func (r *Result) pairs() []kv {
	p := []kv{}
	add := func(k, v string) { p = append(p, kv{k, v}) }
	if r.Label != "" {
		add("label", r.Label)
	}
	add("scenario", r.Scenario)
	add("proto", r.Proto)
	add("transport", r.Transport)
	add("target", r.Target)
	add("conns", strconv.Itoa(r.Conns))
	add("connected", strconv.Itoa(r.Connected))
	add("duration", ftoa(r.Duration, 2)+"s")
	add("workers", strconv.Itoa(r.Workers))
	add("size", strconv.Itoa(r.Size))
	if r.Rate > 0 {
		add("rate", ftoa(r.Rate, 1))
	}
	add("msgs", strconv.FormatInt(r.Msgs, 10))
	add("msgs_per_s", ftoa(r.MsgsPerSec, 1))
	add("p50_ms", ftoa(r.P50, 3))
	add("p99_ms", ftoa(r.P99, 3))
	add("max_ms", ftoa(r.Max, 3))
	add("errors", strconv.FormatInt(r.Errors, 10))
	add("sent", strconv.FormatInt(r.Sent, 10))
	if r.Msgs > 0 {
		if r.ServerCPUPerMsg != nil {
			add("server_cpu_us_per_msg", ftoa(*r.ServerCPUPerMsg, 2))
		}
		add("driver_cpu_us_per_msg", ftoa(r.DriverCPUPerMsg, 2))
	}
	if r.Scenario == "broadcast" {
		add("delivered", strconv.FormatInt(r.Delivered, 10))
		add("expected", strconv.FormatInt(r.Expected, 10))
		add("loss", strconv.FormatInt(r.Expected-r.Delivered, 10))
	}
	if r.Polls > 0 {
		add("polls", strconv.FormatInt(r.Polls, 10))
		add("msgs_per_poll_p50", ftoa(r.PollsP50, 1))
		add("msgs_per_poll_mean", ftoa(r.PollsMean, 2))
	}
	if r.RSSBefore > 0 {
		add("rss_before_kib", strconv.FormatInt(r.RSSBefore, 10))
		add("rss_after_kib", strconv.FormatInt(r.RSSAfter, 10))
		if r.RSSSettled > 0 {
			add("rss_settled_kib", strconv.FormatInt(r.RSSSettled, 10))
		}
		add("rss_per_session_kib", ftoa(r.RSSPerConn, 2))
	}
	if r.GoBefore > 0 {
		add("goroutines_before", strconv.Itoa(r.GoBefore))
		add("goroutines_after", strconv.Itoa(r.GoAfter))
		add("goroutines_per_session", ftoa(r.GoPerConn, 2))
	}
	add("load1", ftoa(r.Load1, 2))
	if r.Note != "" {
		add("note", r.Note)
	}
	return p
}

// quoteIfNeeded quotes values with spaces, quotes or '=' so that a line
// splits on spaces unambiguously.
func quoteIfNeeded(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\n\"=\\") {
		return strconv.Quote(v)
	}
	return v
}

// KV returns the result as one key=value line, without newline.
func (r *Result) KV() string {
	var b strings.Builder
	for i, p := range r.pairs() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(quoteIfNeeded(p.val))
	}
	return b.String()
}

// Write prints the result as a key=value line, or as JSON.
func (r *Result) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintln(w, r.KV())
	return err
}

// ParseKV parses one key=value line as KV prints it.
func ParseKV(line string) (map[string]string, error) {
	m := map[string]string{}
	s := strings.TrimSpace(line)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsAny(s[:eq], " \t\"") {
			return nil, fmt.Errorf("malformed pair at %q", s)
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", key, err)
			}
			val, _ = strconv.Unquote(q)
			s = s[len(q):]
			if s != "" && s[0] != ' ' {
				return nil, fmt.Errorf("%s: junk after quoted value", key)
			}
		} else {
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		m[key] = val
		s = strings.TrimLeft(s, " ")
	}
	return m, nil
}

// ms converts nanoseconds to milliseconds.
func ms(ns int64) float64 { return float64(ns) / 1e6 }

// finish fills the derived figures from the histograms and counts.
func (r *Result) finish() {
	if r.Duration > 0 {
		r.MsgsPerSec = float64(r.Msgs) / r.Duration
	}
	if h := r.Latency; h != nil && h.Count() > 0 {
		r.P50, r.P99, r.Max, r.Mean = ms(h.Quantile(0.50)), ms(h.Quantile(0.99)), ms(h.Max()), h.Mean()/1e6
	}
	if h := r.PerPoll; h != nil && h.Count() > 0 {
		r.Polls = int64(h.Count())
		r.PollsP50 = float64(h.Quantile(0.5))
		r.PollsMean = h.Mean()
	}
	if r.RSSBefore > 0 && r.Connected > 0 {
		r.RSSPerConn = float64(r.RSSAfter-r.RSSBefore) / float64(r.Connected)
	}
	if r.GoBefore > 0 && r.Connected > 0 {
		r.GoPerConn = float64(r.GoAfter-r.GoBefore) / float64(r.Connected)
	}
	r.ServerCPUPerMsg = nil
	if r.ServerCPU != nil && r.Msgs > 0 { // no messages: no figure per message, as in KV
		v := round2(perMsg(*r.ServerCPU, r.Msgs))
		r.ServerCPUPerMsg = &v
	}
	r.DriverCPUPerMsg = round2(perMsg(r.DriverCPU, r.Msgs))
	r.P50, r.P99, r.Max, r.Mean = round3(r.P50), round3(r.P99), round3(r.Max), round3(r.Mean)
	r.MsgsPerSec = math.Round(r.MsgsPerSec*10) / 10
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// merge combines the results of worker processes into one: counts add,
// histograms merge, the window is the longest one.
func merge(parts []*Result) *Result {
	if len(parts) == 0 {
		return &Result{}
	}
	out := *parts[0]
	out.Latency, out.PerPoll = NewHistogram(), NewHistogram()
	out.Msgs, out.Errors, out.Connected, out.Sent, out.Delivered, out.Subs = 0, 0, 0, 0, 0, 0
	out.Conns, out.Duration, out.DriverCPU = 0, 0, 0
	var notes []string
	for _, p := range parts {
		out.Conns += p.Conns
		out.Connected += p.Connected
		out.Msgs += p.Msgs
		out.Errors += p.Errors
		out.Sent += p.Sent
		out.Delivered += p.Delivered
		out.Subs += p.Subs
		out.Duration = max(out.Duration, p.Duration)
		out.DriverCPU += p.DriverCPU
		out.Latency.Merge(p.Latency)
		out.PerPoll.Merge(p.PerPoll)
		if p.Note != "" && !contains(notes, p.Note) {
			notes = append(notes, p.Note)
		}
	}
	out.Workers = len(parts)
	out.Note = strings.Join(notes, "; ")
	return &out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// seconds is d in seconds.
func seconds(d time.Duration) float64 { return d.Seconds() }
