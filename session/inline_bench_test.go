package session

import (
	"context"
	"testing"
)

// BenchmarkDeliver is the session's part of one WebSocket echo: a delivery
// run inline whose callback sends the text back, and the client's ack that
// frees it.
func BenchmarkDeliver(b *testing.B) {
	for _, bc := range []struct {
		name string
		echo bool
	}{{"noop", false}, {"echo", true}} {
		b.Run(bc.name, func(b *testing.B) {
			r := newRegistry(b, nil)
			l := create(b, r, "websocket")
			s := l.Session()
			s.OnMessage(func(m Message) {
				if bc.echo {
					s.Send(m.Text())
				}
			})
			ctx := context.Background()
			data := []byte("T1779999999123456789.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
			seq := uint64(0)
			b.ReportAllocs()
			for b.Loop() {
				seq++
				if ok, err := l.Deliver(ctx, 0, seq, false, data); !ok || err != nil {
					b.Fatal(ok, err)
				}
				l.Ack(seq)
			}
		})
	}
}
