package router_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// TestShutdown: with a WebSocket and a held long-poll attached, Shutdown
// sends both c4202, runs OnClose with 4202, returns nil, and refuses new
// sessions afterwards.
func TestShutdown(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.HeartbeatInterval = time.Minute // the poll stays held
	opts.HeartbeatTimeout = time.Minute
	s := startServer(t, a.handler, opts)

	ws := s.openWS(t, protocol.Hello{})
	expectText(t, ws.Next(t), 1, "Welcome")
	lp := s.openLP(t, nil)
	expectText(t, lp.Next(t), 1, "Welcome")

	held := heldPoll(t, lp, 1)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.rt.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// Shutdown waited for OnClose and for the carriers to take the close.
	for _, id := range []string{ws.open.SID, lp.open.SID} {
		as := a.session(t, id)
		select {
		case <-as.closed:
		default:
			t.Fatalf("Shutdown returned before OnClose ran for %s", id)
		}
		if _, _, closes := as.snapshot(); !reflect.DeepEqual(closes, []string{"4202 server shutting down"}) {
			t.Fatalf("OnClose calls %q, want [4202 server shutting down]", closes)
		}
	}
	expectClose(t, ws.Next(t), protocol.CloseShutdown, "server shutting down")
	if code, _ := closeCode(t, ws.conn); code != int(protocol.CloseShutdown) {
		t.Fatalf("WebSocket close code %d, want 4202", code)
	}
	select {
	case body := <-held:
		if !isClose(body, protocol.CloseShutdown) {
			t.Fatalf("held poll answered %q, want c4202", body)
		}
	case <-time.After(wait):
		t.Fatal("the held poll was not answered")
	}

	resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: protocol.LongPoll}, nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("handshake after Shutdown answered %d %q, want 503", resp.StatusCode, body)
	}
	// A WebSocket is refused before the upgrade, or told 4202 after its
	// hello; either way no session is created.
	conn, resp, err := s.dialWS(nil)
	if err != nil {
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("WebSocket after Shutdown: %v", err)
		}
	} else {
		t.Cleanup(func() { conn.Close() })
		writeHello(t, conn, protocol.Hello{})
		if code, closes := closeCode(t, conn); code != int(protocol.CloseShutdown) || len(closes) != 1 {
			t.Fatalf("WebSocket after Shutdown: close %d, frames %v; want c4202", code, closes)
		}
	}
	if n := a.count(); n != 2 {
		t.Fatalf("the app saw %d sessions, want 2", n)
	}
	if n := s.rt.Sessions(); n != 0 {
		t.Fatalf("%d sessions held after Shutdown", n)
	}
}

// TestShutdownEmpty: Shutdown of a router without sessions returns at
// once, and may be called again.
func TestShutdownEmpty(t *testing.T) {
	s := startServer(t, newApp().handler, fastOpts())
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.rt.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown of an idle router: %v", err)
	}
	if err := s.rt.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}
