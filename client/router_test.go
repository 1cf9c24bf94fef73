package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

// TestPollingHurryAgainstRouter: the polling carrier against the real
// router, whose send answers stop at a byte bound of one reply: the
// replies that did not fit come on polls the answer's `h` hurried, not
// after the poll interval (an hour here; the wait is at most half the
// 60 s dead-peer timeout, past recv's 5 s), in order and once each. (A
// poll already on its way when a send carries may bring the carried reply
// again, SPEC.md §5; the Conn drops it by number. That the hurried poll's
// own ack counts the carried reply, TestPollingHurriedByCarry checks.)
func TestPollingHurryAgainstRouter(t *testing.T) {
	pad := strings.Repeat("x", 60)
	app := func(c *session.Session) {
		c.OnMessage(func(m session.Message) {
			for i := range 3 {
				c.Send(fmt.Sprintf("%s %d %s", m.Text(), i, pad))
			}
		})
	}
	rt := router.New(app, &router.Options{
		HeartbeatInterval: 30 * time.Second, PollInterval: time.Hour, MaxBatchBytes: 100,
		Logger: slog.New(slog.DiscardHandler),
	})
	srv := httptest.NewServer(rt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rt.Shutdown(ctx)
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, srv.URL+"/t", &Options{Transport: protocol.Polling})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close(protocol.CloseNormal, "") })

	for round, text := range []string{"a", "b"} {
		send(t, c, text)
		for i := range 3 {
			want := fmt.Sprintf("%s %d %s", text, i, pad)
			if m := recv(t, c); string(m.Data) != want || m.Seq != uint64(3*round+i+1) {
				t.Fatalf("got %d %.8q, want %d %.8q", m.Seq, m.Data, 3*round+i+1, want)
			}
		}
	}
}
