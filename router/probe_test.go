package router_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/router"
	"github.com/tether-rt/tether/session"
)

// probeOpts makes the probe (a quarter of the dead-peer timeout) clearly
// shorter than the dead-peer timeout itself, so the tests can tell which
// one dropped a WebSocket.
func probeOpts() *router.Options {
	return &router.Options{
		HeartbeatInterval: 2 * time.Second,
		HeartbeatTimeout:  8 * time.Second,
		DisconnectDelay:   10 * time.Second,
		Logger:            quiet,
	}
}

// pollStatus polls the session once with a short timeout and tells whether
// the answer was the receiver-busy refusal.
func pollBusy(t *testing.T, s *server, o protocol.Open) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	hdr := http.Header{"X-Tether-Token": {o.Token}}
	resp, body, err := s.do(ctx, http.MethodGet, "/longpoll?sid="+o.SID+"&ack=0", hdr, nil)
	if err != nil {
		return false // held: the poll attached
	}
	return resp.StatusCode == http.StatusOK && isClose(body, protocol.CloseReceiverBusy)
}

// A WebSocket that went silent (a network change the server did not see)
// is pinged when its session refuses another receiver, and dropped when it
// does not answer, long before the dead-peer timeout: the client's resume
// gets through in seconds.
func TestBusyProbeDropsDeadWebSocket(t *testing.T) {
	s := startServer(t, nil, probeOpts())
	defer s.close()
	ws := s.openWS(t, protocol.Hello{}) // never read again: pings go unanswered
	if !pollBusy(t, s, ws.Open()) {
		t.Fatal("a poll while the WebSocket is attached was not refused with 4103")
	}
	start := time.Now()
	for pollBusy(t, s, ws.Open()) {
		if time.Since(start) > 6*time.Second {
			t.Fatal("the silent WebSocket still holds the session after 6 s; the dead-peer timeout is 8 s, the probe 2 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A live WebSocket answers the probe's ping and keeps its session: the
// first receiver keeps working, as SPEC.md §5 requires.
func TestBusyProbeKeepsLiveWebSocket(t *testing.T) {
	conns := make(chan *session.Session, 1)
	s := startServer(t, func(c *session.Session) { conns <- c }, probeOpts())
	defer s.close()
	ws := s.openWS(t, protocol.Hello{})
	conn := <-conns

	var mu sync.Mutex
	var got []string
	readerDone := make(chan struct{})
	go func() { // reading lets gorilla answer pings with pongs
		defer close(readerDone)
		for {
			ws.conn.SetReadDeadline(time.Now().Add(wait))
			typ, msg, err := ws.conn.ReadMessage()
			if err != nil {
				return
			}
			if typ == websocket.TextMessage {
				mu.Lock()
				got = append(got, string(msg))
				mu.Unlock()
			}
		}
	}()
	if !pollBusy(t, s, ws.Open()) {
		t.Fatal("a poll while the WebSocket is attached was not refused with 4103")
	}
	time.Sleep(3 * time.Second) // past the 2 s probe
	if !pollBusy(t, s, ws.Open()) {
		t.Fatal("the live WebSocket lost its session to the probe")
	}
	if err := conn.Send("still here"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for {
		mu.Lock()
		n := len(got)
		last := ""
		if n > 0 {
			last = got[n-1]
		}
		mu.Unlock()
		if last == "m1:\"still here\"\n" || last == "m1:\"still here\"" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live WebSocket did not receive the next message; got %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ws.conn.Close()
	<-readerDone
}
