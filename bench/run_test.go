package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether"
	"github.com/tether-rt/tether/hub"
)

// These run each driver for a fraction of a second against in-process
// servers: they check that sessions open, messages flow and the figures
// are filled, never how fast.

func benchServer(t *testing.T) string {
	t.Helper()
	echoApp := func(c *tether.Conn) {
		c.OnMessage(func(m tether.Message) {
			if n, size, ok := parseBurstForTest(m.Data); ok {
				p := newPayload(size)
				stamp(p, time.Now())
				for range n {
					c.Send(string(p))
				}
				return
			}
			c.Send(m.Text())
		})
	}
	echo := tether.New(echoApp, nil)
	sjEcho := tether.NewSockJS("/sockjs/echo", echoApp, nil)
	room := hub.New()
	bc := tether.New(func(c *tether.Conn) {
		room.Join(c, "all")
		c.OnMessage(func(m tether.Message) { room.Broadcast("all", m.Text()) })
	}, nil)
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.Handle("/echo/", echo)
	mux.Handle("/broadcast/", bc)
	mux.Handle("/sockjs/echo/", sjEcho)
	mux.HandleFunc("/raw", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, m, err := c.ReadMessage()
			if err != nil || c.WriteMessage(typ, m) != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

func parseBurstForTest(b []byte) (n, size int, ok bool) {
	var cmd string
	k, err := fmt.Sscanf(string(b), "%s %d %d", &cmd, &n, &size)
	return n, size, err == nil && k == 3 && cmd == "burst"
}

// runShort runs the bench for 150 ms on 3 connections (args may override
// both) and returns its result, errors included.
func runShort(t *testing.T, args ...string) *Result {
	t.Helper()
	cfg, err := ParseFlags(append([]string{"-d", "150ms", "-c", "3", "-timeout", "5s"}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// quick is runShort for a run that must have no error.
func quick(t *testing.T, args ...string) *Result {
	t.Helper()
	res := runShort(t, args...)
	if res.Errors != 0 {
		t.Fatalf("%d errors: %s", res.Errors, res.Note)
	}
	return res
}

func TestRunEchoOverEveryNativeCarrier(t *testing.T) {
	url := benchServer(t)
	for _, tr := range Protocols["tether"] {
		t.Run(tr, func(t *testing.T) {
			r := quick(t, "-target", url+"/echo", "-transport", tr)
			if r.Connected != 3 || r.Msgs == 0 || r.MsgsPerSec <= 0 || r.P50 <= 0 || r.Max < r.P99 || r.P99 < r.P50 {
				t.Fatalf("%s", r.KV())
			}
		})
	}
}

func TestRunRawWebSocketPaced(t *testing.T) {
	url := benchServer(t)
	r := quick(t, "-proto", "ws", "-target", "ws"+url[len("http"):]+"/raw", "-rate", "100")
	if r.Msgs == 0 || r.Sent == 0 {
		t.Fatalf("%s", r.KV())
	}
}

func TestRunBroadcastCountsEveryDelivery(t *testing.T) {
	url := benchServer(t)
	r := quick(t, "-scenario", "broadcast", "-target", url+"/broadcast", "-rate", "20")
	if r.Sent == 0 || r.Expected != r.Sent*3 || r.Delivered != r.Expected {
		t.Fatalf("%s", r.KV())
	}
}

func TestRunBurstOverLongPoll(t *testing.T) {
	url := benchServer(t)
	r := quick(t, "-scenario", "burst", "-burst", "20", "-transport", "longpoll", "-target", url+"/echo")
	if r.Polls == 0 || r.PollsP50 < 1 || r.Msgs == 0 {
		t.Fatalf("%s", r.KV())
	}
}

func TestRunChurnAndIdle(t *testing.T) {
	url := benchServer(t)
	r := quick(t, "-scenario", "churn", "-target", url+"/echo", "-count", "20")
	if r.Msgs != 20 || r.Connected != 20 {
		t.Fatalf("churn: %s", r.KV())
	}
	r = quick(t, "-scenario", "idle", "-target", url+"/echo", "-transport", "longpoll")
	if r.Connected != 3 {
		t.Fatalf("idle: %s", r.KV())
	}
}

func TestRunSockJSEveryTransport(t *testing.T) {
	url := benchServer(t)
	for _, tr := range Protocols["sockjs"] {
		t.Run(tr, func(t *testing.T) {
			r := quick(t, "-proto", "sockjs", "-target", url+"/sockjs/echo", "-transport", tr)
			if r.Connected != 3 || r.Msgs == 0 || r.P50 <= 0 {
				t.Fatalf("%s", r.KV())
			}
		})
	}
	r := quick(t, "-proto", "sockjs", "-scenario", "burst", "-burst", "20", "-transport", "xhr-polling", "-target", url+"/sockjs/echo")
	if r.Polls == 0 || r.Msgs == 0 {
		t.Fatalf("burst: %s", r.KV())
	}
}

// -no-raw-io runs the same drivers over net.Conn's reads and writes.
func TestRunWithoutRawIO(t *testing.T) {
	url := benchServer(t)
	for _, tr := range []string{"websocket", "longpoll", "streaming"} {
		r := quick(t, "-target", url+"/echo", "-transport", tr, "-no-raw-io")
		if r.Msgs == 0 {
			t.Fatalf("%s: %s", tr, r.KV())
		}
	}
}
