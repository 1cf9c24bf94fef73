package bench

import (
	"fmt"
	"testing"

	"github.com/tether-rt/tether/protocol"
)

// The drivers' per-message work, apart from the WebSocket library they
// share with the raw driver: building a send and reading an answer. It
// must cost no allocation, or the instrument would load the machine more
// for one protocol than for another.

// echoAnswer is the server's answer to a tether/1 echo: the ack of the
// client's message and the message back.
func echoAnswer(seq uint64, payload []byte) []byte {
	b := append(protocol.AppendAck(nil, seq), '\n')
	return append(protocol.AppendText(b, seq, payload), '\n')
}

func TestDriversDoNotAllocatePerMessage(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	payload := newPayload(64)
	msgs := [][]byte{payload}
	got := 0
	fn := func([]byte) { got++ }

	nc := &nativeConn{}
	buf := make([]byte, 0, 256)
	seq := uint64(0)
	answers := make([][]byte, 202)
	for i := range answers {
		answers[i] = echoAnswer(uint64(i+1), payload)
	}
	sj := &sockjsConn{}
	sjAnswer := []byte(fmt.Sprintf("a[%q]", payload))
	for name, fn := range map[string]func(){
		"native send": func() { buf = nc.appendBatchLocked(buf[:0], msgs) },
		"native answer": func() {
			if n, err := nc.batch(answers[seq], fn); n != 1 || err != nil {
				t.Fatal(n, err)
			}
			seq++
		},
		"sockjs send": func() { buf = appendSockJSArray(buf[:0], msgs) },
		"sockjs answer": func() {
			if n, err := sj.frame(sjAnswer, fn); n != 1 || err != nil {
				t.Fatal(n, err)
			}
		},
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s allocates %.1f times per message, want 0", name, n)
		}
	}
}

func BenchmarkDriverNative(b *testing.B) {
	payload := newPayload(64)
	answers := make([][]byte, 1<<16)
	for i := range answers {
		answers[i] = echoAnswer(uint64(i+1), payload)
	}
	b.ReportAllocs()
	c := &nativeConn{}
	buf := make([]byte, 0, 256)
	msgs := [][]byte{payload}
	i := 0
	for b.Loop() {
		buf = c.appendBatchLocked(buf[:0], msgs)
		if i == len(answers) { // start a new session's numbering
			c, i = &nativeConn{}, 0
		}
		if _, err := c.batch(answers[i], func([]byte) {}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDriverSockJS(b *testing.B) {
	payload := newPayload(64)
	answer := []byte(fmt.Sprintf("a[%q]", payload))
	b.ReportAllocs()
	c := &sockjsConn{}
	buf := make([]byte, 0, 256)
	msgs := [][]byte{payload}
	for b.Loop() {
		buf = appendSockJSArray(buf[:0], msgs)
		if _, err := c.frame(answer, func([]byte) {}); err != nil {
			b.Fatal(err)
		}
	}
}
