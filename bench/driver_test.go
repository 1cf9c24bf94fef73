package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPayloadStamp(t *testing.T) {
	p := newPayload(64)
	if len(p) != 64 || p[0] != 'T' || p[20] != '.' {
		t.Fatalf("payload %q", p)
	}
	now := time.Unix(1_790_000_000, 123456789)
	stamp(p, now)
	got, ok := stampOf(p)
	if !ok || got != now.UnixNano() {
		t.Fatalf("stamp %d %v, want %d", got, ok, now.UnixNano())
	}
	if needsEscape(p) {
		t.Fatal("a payload needs escaping in JSON")
	}
	for _, bad := range []string{"", "hello", "T12345", "Tabcdefghijklmnopqrs.xx", string(endMarker)} {
		if _, ok := stampOf([]byte(bad)); ok {
			t.Errorf("%q read as a stamp", bad)
		}
	}
	if len(newPayload(3)) != minPayload {
		t.Error("a payload shorter than its stamp")
	}
}

func TestEachJSONString(t *testing.T) {
	var got []string
	n, err := eachJSONString([]byte(`["a","b\"c", "\u00e9\n",""]`), func(s []byte) { got = append(got, string(s)) })
	if err != nil || n != 4 {
		t.Fatalf("n %d err %v", n, err)
	}
	want := []string{"a", `b"c`, "é\n", ""}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, bad := range []string{`["a"`, `[1]`, `["a]`, `x`} {
		if _, err := eachJSONString([]byte(bad), func([]byte) {}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{"plain": `"plain"`, `q"`: `"q\""`, "<&>": `"\u003c\u0026\u003e"`} {
		if got := string(appendJSONString(nil, []byte(in))); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

// The native driver counts each message once, in order, and takes acks,
// heartbeats and replays for what they are.
func TestNativeBatch(t *testing.T) {
	c := &nativeConn{}
	var got []string
	fn := func(m []byte) { got = append(got, string(m)) }
	n, err := c.batch([]byte("a3\nm1:\"one\"\nh\nm2:\"t\\\"wo\"\n\nb3:AAE=\n"), fn)
	if err != nil || n != 3 {
		t.Fatalf("n %d err %v", n, err)
	}
	if strings.Join(got, "|") != `one|t"wo|` || c.in.Load() != 3 {
		t.Fatalf("got %q, in %d", got, c.in.Load())
	}
	// a replay after a carrier change: 2 and 3 again, then 4
	n, err = c.batch([]byte("m2:\"t\\\"wo\"\nm3:\"x\"\nm4:\"four\""), fn)
	if err != nil || n != 1 || c.in.Load() != 4 {
		t.Fatalf("replay: n %d err %v in %d", n, err, c.in.Load())
	}
	if _, err := c.batch([]byte("c4101:\"stream limit\"\n"), fn); err != errStreamOver {
		t.Fatalf("c4101: %v", err)
	}
	_, err = c.batch([]byte("c4200:\"session lost\"\n"), fn)
	var ce *ErrClosedByServer
	if !errors.As(err, &ce) || ce.Code != 4200 || ce.Reason != "session lost" {
		t.Fatalf("c4200: %v", err)
	}
	if _, err := c.batch([]byte("m9x\n"), fn); err == nil {
		t.Fatal("a malformed frame was accepted")
	}
}

func TestSockJSCloseFrame(t *testing.T) {
	err := sockjsClose([]byte(`[3000,"Go away!"]`))
	var ce *ErrClosedByServer
	if !errors.As(err, &ce) || ce.Code != 3000 || ce.Reason != "Go away!" {
		t.Fatalf("%v", err)
	}
}

func TestSocketIOEvent(t *testing.T) {
	c := newEIOConn(nil, "echo")
	var got []string
	fn := func(m []byte) { got = append(got, string(m)) }
	for _, p := range []string{`2["echo","T1"]`, `2["other","x"]`, `0{"sid":"a"}`, `2["echo",{"a":1}]`} {
		if _, err := c.sioEvent([]byte(p), fn); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if strings.Join(got, "|") != `T1|{"a":1}` {
		t.Fatalf("got %q", got)
	}
	if _, err := c.sioEvent([]byte("1"), fn); err == nil {
		t.Fatal("a disconnect packet was not an error")
	}
	if p := string(c.packet(nil, []byte("T1"))); p != `42["echo","T1"]` {
		t.Fatalf("packet %s", p)
	}
	if p := string(newEIOConn(nil, "").packet(nil, []byte("T1"))); p != "4T1" {
		t.Fatalf("engine.io packet %s", p)
	}
}

func TestParseRSSAndGoroutines(t *testing.T) {
	status := "Name:\tbenchserver\nVmPeak:\t 1000 kB\nVmRSS:\t   12345 kB\nThreads:\t7\n"
	if kib, err := parseRSS(status); err != nil || kib != 12345 {
		t.Fatalf("VmRSS %d %v", kib, err)
	}
	if _, err := parseRSS("Name: x\n"); err == nil {
		t.Fatal("no VmRSS accepted")
	}
	if n, err := parseGoroutines("goroutine profile: total 20007\n"); err != nil || n != 20007 {
		t.Fatalf("goroutines %d %v", n, err)
	}
	if _, err := parseGoroutines("<html>"); err == nil {
		t.Fatal("not a profile accepted")
	}
}

func TestBurstCommand(t *testing.T) {
	if got := string(burstCommand(100, 64)); got != "burst 100 64" {
		t.Fatalf("%q", got)
	}
}

// The native driver reads sequence numbers by the spec's rule: a server
// that sends 0, a leading zero or one past MaxSeq is caught, not taken.
func TestParseSeqFollowsSpec(t *testing.T) {
	for in, want := range map[string]bool{
		"1": true, "42": true, "9007199254740991": true,
		"": false, "0": false, "007": false, "9007199254740992": false, "1a": false, "-1": false,
	} {
		if _, ok := parseSeq([]byte(in)); ok != want {
			t.Errorf("parseSeq(%q) ok = %v, want %v", in, ok, want)
		}
	}
}
