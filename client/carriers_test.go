package client

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/transports"
)

// The tests of this file cover what one carrier does that the others do
// not: polling's pace, the ends of streaming and eventsource answers,
// jsonp's wrapping.

// echoMany sends n messages of about size bytes, in rounds of round, and
// checks that each comes back once, in order.
func echoMany(t *testing.T, c *Conn, n, size, round int) {
	t.Helper()
	pad := strings.Repeat("x", size)
	for i := 1; i <= n; i += round {
		for j := i; j < i+round && j <= n; j++ {
			send(t, c, fmt.Sprint(j, pad))
		}
		for j := i; j < i+round && j <= n; j++ {
			if m := recv(t, c); m.Seq != uint64(j) || string(m.Data) != fmt.Sprint(j, pad) {
				t.Fatalf("got %d %.20q, want %d", m.Seq, m.Data, j)
			}
		}
	}
}

// receivesOf returns the receive requests of one carrier, and the number
// of handshakes.
func receivesOf(f *fake, carrier string) ([]fakeReceive, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeReceive
	for _, r := range f.receives {
		if r.carrier == carrier {
			out = append(out, r)
		}
	}
	return out, f.opens
}

// TestStreamLimit has the server end its answers every kilobyte with
// c4101: the client must re-open the stream on the same session, with a
// growing ack, and never resume with a handshake.
func TestStreamLimit(t *testing.T) {
	f := newFake(t, func(f *fake) { f.maxStream = 1 << 10 })
	c := dial(t, f, Options{Transport: protocol.Streaming})
	echoMany(t, c, 100, 100, 3)
	rs, opens := receivesOf(f, protocol.Streaming)
	if opens != 1 {
		t.Errorf("%d handshakes, want 1: the stream limit is no reason to resume", opens)
	}
	if len(rs) < 5 {
		t.Fatalf("%d streams for 10 KiB at 1 KiB each", len(rs))
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].ack <= rs[i-1].ack {
			t.Errorf("stream %d re-opened with ack %d after %d", i, rs[i].ack, rs[i-1].ack)
		}
	}
}

// TestEventSourceReconnect has the server end its answers every kilobyte
// without a word, as it does at its byte limit: the client must reconnect
// to the same URL with Last-Event-ID, as a browser does, and lose nothing.
func TestEventSourceReconnect(t *testing.T) {
	f := newFake(t, func(f *fake) { f.maxStream = 1 << 10 })
	c := dial(t, f, Options{Transport: protocol.EventSource})
	echoMany(t, c, 100, 100, 3)
	rs, opens := receivesOf(f, protocol.EventSource)
	if opens != 1 {
		t.Errorf("%d handshakes, want 1: an answer that ends is no reason to resume", opens)
	}
	if len(rs) < 5 {
		t.Fatalf("%d answers for 10 KiB at 1 KiB each", len(rs))
	}
	if rs[0].lastEventID != "" {
		t.Errorf("first request sent Last-Event-ID %q", rs[0].lastEventID)
	}
	last := uint64(0)
	for i, r := range rs[1:] {
		id, err := protocol.ParseSeq(r.lastEventID)
		if err != nil || id <= last || r.ack != rs[0].ack {
			t.Errorf("reconnect %d: Last-Event-ID %q after %d, ack %d (first %d)", i+1, r.lastEventID, last, r.ack, rs[0].ack)
		}
		last = id
	}
}

// TestPollingPace checks both speeds of polling: at once after an answer
// with a message (the server may hold more), the suggested interval after
// an empty one.
func TestPollingPace(t *testing.T) {
	f := newFake(t, func(f *fake) {
		f.hb, f.poll, f.onePerPoll = 2*time.Second, 500*time.Millisecond, true
	})
	c := dial(t, f, Options{Transport: protocol.Polling})
	start := time.Now()
	echoMany(t, c, 6, 10, 6) // one message per answer
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("6 messages took %v: polls after messages must not wait", d)
	}
	before, _ := receivesOf(f, protocol.Polling)
	time.Sleep(1100 * time.Millisecond)
	after, _ := receivesOf(f, protocol.Polling)
	if n := len(after) - len(before); n < 1 || n > 3 {
		t.Errorf("%d polls in 1.1 s at a 500 ms interval", n)
	}
}

// TestUnwrapJSONP reads answers made by the server's own code, with every
// character it escapes, and refuses what is not a call of the callback.
func TestUnwrapJSONP(t *testing.T) {
	batch := []byte("m1:\"</script><!-- & \u2028\u2029 \\\" \\n\"\nh\n")
	got, err := unwrapJSONP(transports.JSONPBody("__tether.j7", batch), "__tether.j7")
	if err != nil || string(got) != string(batch) {
		t.Fatalf("got %q, %v; want %q", got, err, batch)
	}
	for _, body := range []string{
		`/**/__tether.j8("h\n");`,
		`/**/__tether.j7(h);`,
		`/**/__tether.j7("h\n"`,
		`alert(1)`,
	} {
		if _, err := unwrapJSONP([]byte(body), "__tether.j7"); err == nil {
			t.Errorf("%s: no error", body)
		}
	}
}
