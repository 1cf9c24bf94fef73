package bench

import (
	"encoding/json"
	"strings"
	"testing"
)

func sampleResult() *Result {
	h := NewHistogram()
	for _, v := range []int64{1e6, 2e6, 3e6, 4e6, 100e6} {
		h.Record(v)
	}
	r := &Result{
		Label: "wsecho.tether", Scenario: "echo", Proto: "tether", Transport: "websocket",
		Target: "http://127.0.0.1:8100/echo", Conns: 50, Connected: 50, Duration: 2, Workers: 1, Size: 64,
		Msgs: 5, Sent: 5, Latency: h, PerPoll: NewHistogram(),
	}
	r.finish()
	return r
}

func TestFinishDerivesFigures(t *testing.T) {
	r := sampleResult()
	if r.MsgsPerSec != 2.5 {
		t.Errorf("msgs/s %v, want 2.5", r.MsgsPerSec)
	}
	if r.P50 < 2.98 || r.P50 > 3.02 || r.Max != 100 || r.P99 < 99 || r.P99 > 100 {
		t.Errorf("p50 %v p99 %v max %v", r.P50, r.P99, r.Max)
	}
	if r.Polls != 0 || r.RSSPerConn != 0 || r.GoPerConn != 0 {
		t.Errorf("figures from nothing: %+v", r)
	}
	idle := &Result{Connected: 1000, RSSBefore: 10000, RSSAfter: 18000, GoBefore: 7, GoAfter: 2007}
	idle.finish()
	if idle.RSSPerConn != 8 || idle.GoPerConn != 2 {
		t.Errorf("per session: %v KiB, %v goroutines", idle.RSSPerConn, idle.GoPerConn)
	}
}

func TestKVLine(t *testing.T) {
	r := sampleResult()
	line := r.KV()
	for _, want := range []string{
		"label=wsecho.tether scenario=echo proto=tether transport=websocket target=http://127.0.0.1:8100/echo conns=50 ",
		" msgs_per_s=2.5 ", " p50_ms=", " p99_ms=", " max_ms=100.000 ", " errors=0 ",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("line lacks %q:\n%s", want, line)
		}
	}
	for _, absent := range []string{"delivered=", "polls=", "rss_", "goroutines_", "note=", "hist"} {
		if strings.Contains(line, absent) {
			t.Errorf("line has %q though it does not apply:\n%s", absent, line)
		}
	}
	if strings.Contains(line, "\n") {
		t.Error("more than one line")
	}
}

func TestKVBroadcastAndNotes(t *testing.T) {
	r := &Result{Scenario: "broadcast", Delivered: 9990, Expected: 10000, Note: `3 worker processes; first error: "x" = y`}
	kv, err := ParseKV(r.KV())
	if err != nil {
		t.Fatal(err)
	}
	if kv["delivered"] != "9990" || kv["expected"] != "10000" || kv["loss"] != "10" {
		t.Errorf("broadcast counts: %v", kv)
	}
	if kv["note"] != r.Note {
		t.Errorf("note %q, want %q", kv["note"], r.Note)
	}
}

// Every pair KV prints parses back to the same value.
func TestKVRoundTrip(t *testing.T) {
	r := sampleResult()
	r.RSSBefore, r.RSSAfter, r.RSSPerConn = 1000, 2000, 20
	r.Note = "two words"
	kv, err := ParseKV(r.KV())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.pairs() {
		if kv[p.key] != p.val {
			t.Errorf("%s: %q, want %q", p.key, kv[p.key], p.val)
		}
	}
	if len(kv) != len(r.pairs()) {
		t.Errorf("%d keys, want %d", len(kv), len(r.pairs()))
	}
}

func TestParseKVRefuses(t *testing.T) {
	for _, in := range []string{
		"novalue",
		"=x",
		`a="unterminated`,
		`a="x"junk`,
		"a=1 a=2",
	} {
		if _, err := ParseKV(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if kv, err := ParseKV("  a=1   b=  "); err != nil || kv["a"] != "1" || kv["b"] != "" {
		t.Errorf("spaces: %v %v", kv, err)
	}
}

func TestWriteJSON(t *testing.T) {
	r := sampleResult()
	var b strings.Builder
	if err := r.Write(&b, true); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(b.String()), &m); err != nil {
		t.Fatalf("%v: %s", err, b.String())
	}
	for _, k := range []string{"scenario", "proto", "transport", "conns", "duration_s", "msgs_per_s", "p50_ms", "p99_ms", "max_ms", "errors", "delivered", "expected"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if m["msgs_per_s"].(float64) != 2.5 || m["label"] != "wsecho.tether" {
		t.Errorf("JSON figures: %v", m)
	}
}

// A worker's JSON result, histograms included, reads back whole: that
// is how the parent merges them.
func TestWorkerResultsMerge(t *testing.T) {
	var parts []*Result
	all := NewHistogram()
	for w := range 3 {
		h := NewHistogram()
		for i := range 1000 {
			v := int64((w+1)*1e6 + i*1000)
			h.Record(v)
			all.Record(v)
		}
		r := &Result{Scenario: "broadcast", Conns: 100, Connected: 99, Msgs: 1000, Errors: int64(w),
			Delivered: 1000, Subs: 99, Duration: 2 + float64(w)/10, Latency: h, PerPoll: NewHistogram(), Note: "same",
			DriverCPU: 0.25 * float64(w+1)}
		if w == 0 {
			r.Sent = 10
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, &back)
	}
	m := merge(parts)
	if m.Conns != 300 || m.Connected != 297 || m.Msgs != 3000 || m.Errors != 3 || m.Delivered != 3000 ||
		m.Subs != 297 || m.Sent != 10 || m.Workers != 3 || m.Duration != 2.2 || m.Note != "same" || m.DriverCPU != 1.5 {
		t.Fatalf("merged: %+v", m)
	}
	assertSameHist(t, m.Latency, all)
}

// CPU per message: the driver's always (when messages flowed), the
// server's only when it was measured, each the window's CPU time over the
// messages counted in it.
func TestCPUPerMessage(t *testing.T) {
	r := sampleResult() // 5 messages
	r.DriverCPU = 0.0001
	r.finish()
	kv, err := ParseKV(r.KV())
	if err != nil {
		t.Fatal(err)
	}
	if kv["driver_cpu_us_per_msg"] != "20.00" {
		t.Errorf("driver: %q, want 20.00", kv["driver_cpu_us_per_msg"])
	}
	if _, ok := kv["server_cpu_us_per_msg"]; ok {
		t.Error("a server figure without -server-pid")
	}
	r.ServerCPU = ptr(0.00025)
	r.finish()
	if kv, _ = ParseKV(r.KV()); kv["server_cpu_us_per_msg"] != "50.00" {
		t.Errorf("server: %q, want 50.00", kv["server_cpu_us_per_msg"])
	}
	// A server that used no CPU in the window is a figure, 0.
	r.ServerCPU = ptr(0.0)
	r.finish()
	if kv, _ = ParseKV(r.KV()); kv["server_cpu_us_per_msg"] != "0.00" {
		t.Errorf("idle server: %q, want 0.00", kv["server_cpu_us_per_msg"])
	}
	idle := &Result{Scenario: "idle", DriverCPU: 1, ServerCPU: ptr(1.0)}
	idle.finish()
	if line := idle.KV(); strings.Contains(line, "cpu_us_per_msg") {
		t.Errorf("per-message CPU with no messages: %s", line)
	}
}

func ptr[T any](v T) *T { return &v }

// jsonLine finishes r and returns its -json line, and that line decoded.
func jsonLine(t *testing.T, r *Result) (string, map[string]any) {
	t.Helper()
	r.finish()
	var b strings.Builder
	if err := r.Write(&b, true); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(b.String()), &m); err != nil {
		t.Fatal(err)
	}
	return b.String(), m
}

// In JSON, a server CPU figure that was measured appears even when it is
// 0 (a server idle over the window); one that was not measured does not
// appear, rather than read as 0. Either way it reads back the same.
func TestJSONServerCPU(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cpu      *float64
		present  bool
		cpuS     float64
		perMsgUS float64
	}{
		{"not measured", nil, false, 0, 0},
		{"measured zero", ptr(0.0), true, 0, 0},
		{"measured", ptr(0.00025), true, 0.00025, 50},
	} {
		r := sampleResult() // 5 messages
		r.ServerCPU = tc.cpu
		line, m := jsonLine(t, r)
		for key, want := range map[string]float64{"server_cpu_s": tc.cpuS, "server_cpu_us_per_msg": tc.perMsgUS} {
			v, ok := m[key]
			if ok != tc.present || (ok && v != want) {
				t.Errorf("%s: %s = %v (present %v), want %v (present %v)", tc.name, key, v, ok, want, tc.present)
			}
		}
		var back Result
		if err := json.Unmarshal([]byte(line), &back); err != nil {
			t.Fatal(err)
		}
		if (back.ServerCPU != nil) != tc.present || (back.ServerCPUPerMsg != nil) != tc.present {
			t.Errorf("%s: read back as %v, %v", tc.name, back.ServerCPU, back.ServerCPUPerMsg)
		}
	}
}

// A run without messages (idle) has no server CPU figure per message in
// JSON either, where a measured server CPU is shown: no messages is not a
// measured 0 µs per message (KV leaves both per-message figures out).
func TestJSONServerCPUWithoutMessages(t *testing.T) {
	_, m := jsonLine(t, &Result{Scenario: "idle", ServerCPU: ptr(1.5)})
	if v, ok := m["server_cpu_s"]; !ok || v != 1.5 {
		t.Errorf("server_cpu_s = %v (present %v), want 1.5", v, ok)
	}
	if v, ok := m["server_cpu_us_per_msg"]; ok {
		t.Errorf("server_cpu_us_per_msg = %v with no messages", v)
	}
}
