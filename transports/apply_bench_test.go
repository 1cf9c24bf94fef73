package transports

import (
	"context"
	"testing"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// BenchmarkEchoPath is the server's work on one native WebSocket echo
// outside the carrier's own I/O: decode the client's batch (its ack and
// its message), vet and apply it, run the app's echo inline, take the
// reply and frame it. Socket reads and writes are left out. AppendBatch
// is the carrier decoding into a reused frame slice.
func BenchmarkEchoPath(b *testing.B) {
	const n = 1 << 14 // messages per session; then the next session
	payload := []byte("T1779999999123456789.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	batches := make([][]byte, n)
	for i := range batches {
		seq := uint64(i)
		batches[i] = append(protocol.AppendText(append(protocol.AppendAck(nil, seq), '\n'), seq+1, payload), '\n')
	}
	for _, reuse := range []bool{false, true} {
		name := "DecodeBatch"
		if reuse {
			name = "AppendBatch"
		}
		b.Run(name, func(b *testing.B) {
			reg := session.NewRegistry(nil)
			defer reg.Shutdown(context.Background())
			var l *session.Link
			var rcv *session.Receiver
			open := func() {
				if rcv != nil {
					rcv.Detach()
					l.Session().Close(protocol.CloseNormal, "")
				}
				var err error
				if l, err = reg.Create(session.Request{}, protocol.WebSocket); err != nil {
					b.Fatal(err)
				}
				s := l.Session()
				s.OnMessage(func(m session.Message) { s.Send(m.Text()) })
				if rcv, err = l.Attach(protocol.WebSocket, 0); err != nil {
					b.Fatal(err)
				}
			}
			var out session.Batch
			var frames []protocol.Frame
			var buf []byte
			var err error
			ctx := context.Background()
			i := n
			b.ReportAllocs()
			for b.Loop() {
				if i == n {
					open()
					i = 0
				}
				if reuse {
					frames, err = protocol.AppendBatch(frames[:0], batches[i])
				} else {
					frames, err = protocol.DecodeBatch(batches[i])
				}
				if err == nil {
					err = check(frames, 1<<20)
				}
				if err == nil {
					err = apply(ctx, l, frames)
				}
				if err != nil {
					b.Fatal(err)
				}
				if !rcv.Next(&out, 64<<10) || len(out.Msgs) != 1 {
					b.Fatalf("no reply to message %d", i+1)
				}
				buf = Native{}.AppendBatch(buf[:0], &out)
				i++
			}
			rcv.Detach()
		})
	}
}
