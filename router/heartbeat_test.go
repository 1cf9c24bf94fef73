package router_test

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
)

// TestLongPollHeartbeat: a held poll with nothing to carry is answered
// with a heartbeat once the heartbeat interval passes.
func TestLongPollHeartbeat(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openLP(t, nil)
	expectText(t, c.Next(t), 1, "Welcome")
	if _, body := c.mustPoll(t, 1); string(body) != "h\n" {
		t.Fatalf("idle poll answered %q, want a heartbeat", body)
	}
}

// TestLongPollHeldAfterClientSend: once the client has sent a message (and
// the send answer acknowledged it), polls are still held until there is
// something new for the client. An ack the client already has is not
// news: answering every poll at once with it turns long-polling into a
// busy loop.
func TestLongPollHeldAfterClientSend(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openLP(t, nil)
	expectText(t, c.Next(t), 1, "Welcome")
	c.SendText(t, "quiet") // acknowledged by the send answer; no reply
	a.session(t, c.open.SID).waitTexts(t, 1)
	// The first poll may carry the ack (SPEC.md §2.2); the others have
	// nothing new.
	if _, body := c.mustPoll(t, 1); string(body) != "h\n" && string(body) != "a1\n" {
		t.Fatalf("first poll after the send answered %q", body)
	}
	for i := range 3 {
		if _, body := c.mustPoll(t, 1); string(body) != "h\n" {
			t.Fatalf("poll %d after the first answered %q at once, want it held until the heartbeat", i+1, body)
		}
	}
}

// TestWebSocketHeartbeatsKeepAlive: an idle WebSocket whose client answers
// heartbeats stays open for many heartbeat timeouts.
func TestWebSocketHeartbeatsKeepAlive(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.HeartbeatInterval = 50 * time.Millisecond
	opts.HeartbeatTimeout = 250 * time.Millisecond
	s := startServer(t, a.handler, opts)
	c := s.openWS(t, protocol.Hello{})
	expectText(t, c.Next(t), 1, "Welcome")

	heartbeats := 0
	for end := time.Now().Add(5 * opts.HeartbeatTimeout); time.Now().Before(end); {
		frames, err := readWS(c.conn, wait)
		if err != nil {
			t.Fatalf("the idle WebSocket ended after %d heartbeats: %v", heartbeats, err)
		}
		for _, f := range frames {
			switch f.Type {
			case protocol.FrameHeartbeat:
				heartbeats++
				c.write(t, websocket.TextMessage, protocol.AppendAck(nil, c.last))
			default:
				t.Fatalf("unexpected frame on an idle WebSocket: %v", f)
			}
		}
	}
	if heartbeats < 2 {
		t.Fatalf("%d heartbeats over five heartbeat timeouts", heartbeats)
	}
	c.SendText(t, "still here")
	expectText(t, c.Next(t), 2, "new message: still here")
}

// TestWebSocketHeartbeatTimeout: a WebSocket client that sends nothing is
// closed with 4102 after the heartbeat timeout, and its session lives on
// for it to resume.
func TestWebSocketHeartbeatTimeout(t *testing.T) {
	a := newApp()
	opts := fastOpts()
	opts.HeartbeatInterval = 50 * time.Millisecond
	opts.HeartbeatTimeout = 200 * time.Millisecond
	s := startServer(t, a.handler, opts)
	c := s.openWS(t, protocol.Hello{})
	as := a.session(t, c.open.SID)
	readUntil(t, c, 1)
	if code, closes := closeCode(t, c.conn); code != int(protocol.CloseHeartbeatTimeout) {
		t.Fatalf("silent client's WebSocket closed with %d (%v), want 4102", code, closes)
	}
	select {
	case <-as.closed:
		t.Fatal("the session closed with its WebSocket")
	default:
	}
	r := s.openWS(t, protocol.Hello{SID: c.open.SID, Token: c.open.Token, Last: 1})
	if !r.open.Resumed {
		t.Fatalf("resume after the timeout answered %+v", r.open)
	}
	r.SendText(t, "back")
	expectText(t, r.Next(t), 2, "new message: back")
}
