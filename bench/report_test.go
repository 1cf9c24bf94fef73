package bench

import (
	"strings"
	"testing"
)

const sampleResults = `# tether bench -label wsecho.tether -scenario echo -c 50 -target http://127.0.0.1:18100/echo
label=wsecho.tether scenario=echo proto=tether msgs_per_s=45000.0 p50_ms=1.000 p99_ms=6.000 max_ms=9.000 errors=0 server_cpu_us_per_msg=14.20 driver_cpu_us_per_msg=9.87
# tether bench -label wsecho.gorilla -proto ws -scenario echo -c 50 -target ws://127.0.0.1:18190/echo
label=wsecho.gorilla scenario=echo proto=ws msgs_per_s=50000.0 p50_ms=0.800 p99_ms=5.000 max_ms=8.000 errors=0
label=wsecho.sockjs-go scenario=echo proto=sockjs msgs_per_s=30000.0 p50_ms=1.500 p99_ms=9.000 max_ms=12.000 errors=0 note="first error: x"
label=idle.tether scenario=idle rss_per_session_kib=9.50 goroutines_per_session=1.00 connected=10000 errors=0
label=bcast.tether scenario=broadcast p99_ms=100.000 loss=0 delivered=50000 errors=2
label=bcast.gorilla scenario=broadcast p99_ms=50.000 loss=0 delivered=50000 errors=0
label=abandon.tether scenario=churn rss_before_kib=10000 rss_settled_kib=10500 errors=0
some stray output line
! machine: 2 cores
`

func TestReportChecks(t *testing.T) {
	var b strings.Builder
	if err := Report(strings.NewReader(sampleResults), &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| msgs/s ≥ 0.90× gorilla | tether 45000 | gorilla 50000 | 0.90× | met |",
		"| p99 ≤ 1.5× gorilla | tether 6 | gorilla 5 | 1.20× | met |",
		"| msgs/s ≥ 1.15× sockjs-go | tether 45000 | sockjs-go 30000 | 1.50× | met |",
		"| RSS ≤ 8 KiB/session | tether 9.5 | limit 8 | – | **not met** |",
		"| goroutines ≤ 2/session | tether 1 | limit 2 | – | met |",
		"| p99 ≤ 1.2× gorilla | tether 100 | gorilla 50 | 2.00× | **not met** (2 errors) |",
		"| settled RSS ≤ 1.10× baseline | rss_settled_kib 10500 | rss_before_kib 10000 | 1.05× | met |",
		"| msgs/s ≥ 2× sockjs-node | tether not run | – | – | not measured |",
		"| server | msgs/s | p50 ms | p99 ms | max ms | server µs/msg | driver µs/msg | errors | load | tether ÷ server (msgs/s) |",
		"| tether | 45,000 | 1.00 | 6.00 | 9.00 | 14.2 | 9.9 | 0 | – | 1.00× |",
		"| gorilla | 50,000 | 0.80 | 5.00 | 8.00 | – | – | 0 | – | 0.90× |",
		"| ws | – | – | – | – | – | – | – | – | not run |",
		"- sockjs-go: first error: x",
		"tether bench -label wsecho.gorilla -proto ws -scenario echo -c 50 -target ws://127.0.0.1:18190/echo",
		"- machine: 2 cores",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestReportRefusesMalformedLines(t *testing.T) {
	if err := Report(strings.NewReader(`label=x a="open`+"\n"), &strings.Builder{}); err == nil {
		t.Fatal("a malformed result line was accepted")
	}
}

func TestFmtFigure(t *testing.T) {
	for in, want := range map[string]string{
		"1234567.8": "1,234,568", "999": "999", "-1234.6": "-1,235", "": "–", "n/a": "n/a", "0": "0",
	} {
		if got := fmtFigure(in, 0); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if got := fmtFigure("1234.567", 2); got != "1,234.57" {
		t.Errorf("two places: %q", got)
	}
}

// A label run in several rounds reports the median of each figure.
func TestReportMediansOfRounds(t *testing.T) {
	in := `label=wsecho.tether msgs_per_s=100 p99_ms=9 errors=0
label=wsecho.gorilla msgs_per_s=300 p99_ms=1 errors=0
label=wsecho.tether msgs_per_s=120 p99_ms=1 errors=0
label=wsecho.gorilla msgs_per_s=100 p99_ms=2 errors=0
label=wsecho.tether msgs_per_s=500 p99_ms=2 errors=0
label=wsecho.gorilla msgs_per_s=200 p99_ms=3 errors=0
`
	var b strings.Builder
	if err := Report(strings.NewReader(in), &b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| msgs/s ≥ 0.90× gorilla | tether 120 | gorilla 200 | 0.60× | **not met** |",
		"| p99 ≤ 1.5× gorilla | tether 2 | gorilla 2 | 1.00× | met |",
		"Medians of 3 rounds",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of an even count: %v", got)
	}
}
