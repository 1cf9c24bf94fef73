package router_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

func newRand(t testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	return rand.New(rand.NewPCG(seed, 0))
}

// TestLongPollCutMidStream streams 500 numbered messages to a long-poll
// client that keeps losing answers: polls cancelled while held or while the
// answer is read, and answers read but never acknowledged. Re-polling with
// its last ack, it must get every message exactly once, in order.
func TestLongPollCutMidStream(t *testing.T) {
	const n = 500
	rng := newRand(t)
	var senders sync.WaitGroup
	defer senders.Wait()
	h := func(c *session.Session) {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for i := 1; i <= n; i++ {
				if c.Send(strconv.Itoa(i)) != nil {
					return
				}
				if i%5 == 0 {
					time.Sleep(500 * time.Microsecond)
				}
			}
		}()
	}
	opts := fastOpts()
	opts.HeartbeatInterval = 200 * time.Millisecond
	s := startServer(t, h, opts)
	c := s.openLP(t, nil)

	var got []int
	var last uint64
	counts := make(map[string]int)
	deadline := time.Now().Add(30 * time.Second)
	for last < n {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s only %d of %d messages arrived (polls %v)", last, n, counts)
		}
		ctx, cancel := context.WithCancel(context.Background())
		mode := rng.IntN(5)
		var body []byte
		var ok bool
		switch mode {
		case 0: // cut at a random moment: while held, or as the answer comes
			counts["cut"]++
			timer := time.AfterFunc(time.Duration(rng.IntN(2000))*time.Microsecond, cancel)
			_, body, ok = pollRaw(ctx, c, last, -1)
			timer.Stop()
			if ctx.Err() != nil {
				ok = false
			}
		case 1: // cut in the middle of the answer's body
			counts["mid-body"]++
			_, body, ok = pollRaw(ctx, c, last, rng.IntN(64))
			ok = false
		default:
			counts["full"]++
			_, body, ok = pollRaw(ctx, c, last, -1)
		}
		cancel()
		if !ok {
			continue
		}
		frames := mustDecode(t, body)
		if len(frames) == 1 && frames[0].Type == protocol.FrameClose && frames[0].Code == protocol.CloseReceiverBusy {
			// The server has not yet seen the end of a cut poll.
			counts["busy"]++
			time.Sleep(2 * time.Millisecond)
			continue
		}
		if rng.IntN(5) == 0 {
			counts["lost"]++
			continue // the answer is lost: re-poll with the same ack
		}
		for _, f := range frames {
			switch f.Type {
			case protocol.FrameText:
				if f.Seq != last+1 {
					t.Fatalf("message %d after %d: replay is not from ack+1", f.Seq, last)
				}
				v, err := strconv.Atoi(string(f.Data))
				if err != nil || uint64(v) != f.Seq {
					t.Fatalf("message %d carries %q", f.Seq, f.Data)
				}
				got = append(got, v)
				last = f.Seq
			case protocol.FrameHeartbeat, protocol.FrameAck:
			default:
				t.Fatalf("unexpected frame %q in %q", f.Type, body)
			}
		}
	}
	if len(got) != n {
		t.Fatalf("got %d messages, want %d", len(got), n)
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("message #%d is %d", i+1, v)
		}
	}
	t.Logf("polls: %v", counts)
}

// pollRaw polls once. With cut >= 0 it reads only cut bytes of the body and
// abandons the rest. ok reports a complete 200 answer.
func pollRaw(ctx context.Context, c *lpClient, ack uint64, cut int) (int, []byte, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		c.s.base+"/longpoll?sid="+c.open.SID+"&ack="+strconv.FormatUint(ack, 10), nil)
	if err != nil {
		return 0, nil, false
	}
	req.Header.Set("X-Tether-Token", c.open.Token)
	resp, err := c.s.hc.Do(req)
	if err != nil {
		return 0, nil, false
	}
	defer resp.Body.Close()
	var body []byte
	if cut >= 0 {
		body, err = io.ReadAll(io.LimitReader(resp.Body, int64(cut)))
		return resp.StatusCode, body, false
	}
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, body, err == nil && resp.StatusCode == http.StatusOK
}

// TestLongPollSendResent sends 300 numbered messages in batches whose
// answers are sometimes lost (ignored, or the request cut), so the client
// re-sends from its last known ack; it also sends gaps. The app must see
// each message exactly once, in order.
func TestLongPollSendResent(t *testing.T) {
	const n = 300
	rng := newRand(t)
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openLP(t, nil)
	as := a.session(t, c.open.SID)

	var acked, maxSent uint64
	counts := make(map[string]int)
	deadline := time.Now().Add(30 * time.Second)
	for acked < n {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s only %d of %d messages were acknowledged (sends %v)", acked, n, counts)
		}
		hi := min(acked+1+uint64(rng.IntN(8)), n)
		var batch []byte
		for i := acked + 1; i <= hi; i++ {
			batch = append(protocol.AppendText(batch, i, []byte(strconv.FormatUint(i, 10))), '\n')
		}
		maxSent = max(maxSent, hi)
		ctx, cancel := context.WithCancel(context.Background())
		switch mode := rng.IntN(6); mode {
		case 0: // the answer is lost
			counts["lost"]++
			c.send(ctx, batch)
		case 1: // the request is cut at a random moment
			counts["cut"]++
			timer := time.AfterFunc(time.Duration(rng.IntN(1000))*time.Microsecond, cancel)
			c.send(ctx, batch)
			timer.Stop()
		case 2: // a gap: a message beyond the next one is dropped, not acked
			counts["gap"]++
			gap := protocol.AppendText(nil, maxSent+2, []byte("gap"))
			resp, body, err := c.send(ctx, gap)
			if err != nil {
				t.Fatal(err)
			}
			frames := mustDecode(t, body)
			if resp.StatusCode != http.StatusOK || len(frames) != 1 || frames[0].Type != protocol.FrameAck || frames[0].Seq > maxSent {
				t.Fatalf("gap answered %d %q, want a<n> with n <= %d", resp.StatusCode, body, maxSent)
			}
		default:
			counts["ok"]++
			resp, body, err := c.send(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			frames := mustDecode(t, body)
			if resp.StatusCode != http.StatusOK || len(frames) != 1 || frames[0].Type != protocol.FrameAck {
				t.Fatalf("send answered %d %q, want a<n>", resp.StatusCode, body)
			}
			// Earlier sends whose answers were lost may have gone further.
			if frames[0].Seq < hi || frames[0].Seq > maxSent {
				t.Fatalf("send of %d..%d answered a%d (sent up to %d)", acked+1, hi, frames[0].Seq, maxSent)
			}
			acked = frames[0].Seq
		}
		cancel()
	}
	texts := as.waitTexts(t, n)
	// One more exchange: anything still in flight would show now.
	if status, body := c.mustSend(t, []byte("h\n")); status != http.StatusOK || string(body) != "a300\n" {
		t.Fatalf("final send answered %d %q, want a300", status, body)
	}
	_, texts, _ = as.snapshot()
	if len(texts) != n {
		t.Fatalf("OnMessage ran %d times, want %d", len(texts), n)
	}
	for i, s := range texts {
		if s != strconv.Itoa(i+1) {
			t.Fatalf("OnMessage #%d got %q", i+1, s)
		}
	}
	t.Logf("sends: %v", counts)
}

// startWatched is startServer, with no handler, on a server that signals
// each connection hijacked (a poll parked) on the channel it returns.
func startWatched(t *testing.T, opts *router.Options) (*server, <-chan struct{}) {
	t.Helper()
	rt := router.New(nil, opts)
	hijacked := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(rt)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateHijacked {
			hijacked <- struct{}{}
		}
	}
	srv.Start()
	s := &server{t: t, rt: rt, srv: srv, base: srv.URL + "/t", hc: srv.Client()}
	t.Cleanup(s.close)
	return s, hijacked
}

// TestLongPollParking: with Options.ParkAfter an idle poll is parked
// (hijacked from net/http) and Shutdown answers it with c4202 before it
// returns; with parking off, polls are never hijacked.
func TestLongPollParking(t *testing.T) {
	for _, tc := range []struct {
		name      string
		parkAfter time.Duration
	}{{"parked", time.Nanosecond}, {"off", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parkAfter > 0 && runtime.GOOS != "linux" {
				t.Skip("polls are parked on Linux only")
			}
			opts := fastOpts()
			opts.ParkAfter = tc.parkAfter
			if tc.parkAfter > 0 {
				opts.HeartbeatInterval = time.Hour // only Shutdown answers
			}
			s, hijacked := startWatched(t, opts)
			lp := s.openLP(t, nil)
			if tc.parkAfter < 0 {
				if frames, _ := lp.mustPoll(t, 0); len(frames) != 1 || frames[0].Type != protocol.FrameHeartbeat {
					t.Fatalf("poll answered %v, want a heartbeat", frames)
				}
				select {
				case <-hijacked:
					t.Fatal("a poll was parked with parking off")
				default:
				}
				return
			}
			held := heldPoll(t, lp, 0)
			<-hijacked
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			if err := s.rt.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			select {
			case body := <-held:
				if !isClose(body, protocol.CloseShutdown) {
					t.Fatalf("parked poll answered %q, want c4202", body)
				}
			case <-time.After(wait):
				t.Fatal("the parked poll was not answered")
			}
		})
	}
}
