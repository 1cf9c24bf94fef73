package router_test

import (
	"reflect"
	"testing"

	"github.com/tether-rt/tether/protocol"
)

// readUntil reads WebSocket messages, acknowledging nothing, until message
// seq arrived, and returns the messages read.
func readUntil(t testing.TB, c *wsClient, seq uint64) []rframe {
	t.Helper()
	var got []rframe
	for c.last < seq {
		frames, err := readWS(c.conn, wait)
		if err != nil {
			t.Fatalf("waiting for message %d: %v", seq, err)
		}
		for _, f := range frames {
			switch f.Type {
			case protocol.FrameText, protocol.FrameBinary:
				if f.Seq != c.last+1 {
					t.Fatalf("message %d after %d", f.Seq, c.last)
				}
				c.last = f.Seq
				got = append(got, f)
			case protocol.FrameClose:
				t.Fatalf("closed while waiting for message %d: %v", seq, f)
			}
		}
	}
	return got
}

func texts(frames []rframe) []string {
	var out []string
	for _, f := range frames {
		out = append(out, string(f.Data))
	}
	return out
}

// TestWebSocketResume drops a WebSocket's TCP connection without a close
// and without acknowledging, and resumes with the last message the client
// kept: the new WebSocket replays exactly the rest, and nothing the client
// sent is delivered twice.
func TestWebSocketResume(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openWS(t, protocol.Hello{})
	as := a.session(t, c.open.SID)
	c.SendText(t, "hi")      // server replies with 2
	c.SendText(t, "burst 5") // server replies with 3..7
	readUntil(t, c, 7)

	// The client kept 1..4; 5..7 were lost with the connection.
	c.conn.NetConn().Close()
	r := s.openWS(t, protocol.Hello{SID: c.open.SID, Token: c.open.Token, Last: 4})
	if !r.open.Resumed || r.open.SID != c.open.SID || r.open.Token != c.open.Token {
		t.Fatalf("resume answered %+v, want the same session, resumed", r.open)
	}
	if r.open.Ack != 2 {
		t.Fatalf("resume's ack = %d, want 2 (the client messages accepted)", r.open.Ack)
	}
	if got, want := texts(readUntil(t, r, 7)), []string{"b3", "b4", "b5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("replay %q, want %q", got, want)
	}
	// Nothing else was replayed: the next message is the answer to this.
	r.out = r.open.Ack
	r.SendText(t, "after")
	expectText(t, r.Next(t), 8, "new message: after")
	if _, got, _ := as.snapshot(); !reflect.DeepEqual(got, []string{"hi", "burst 5", "after"}) {
		t.Fatalf("OnMessage saw %q", got)
	}
}

// TestWebSocketResumeResend drops a WebSocket right after sending, and
// re-sends from the ack of the resume's open frame, as a client must: the
// app sees each message once.
func TestWebSocketResumeResend(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openWS(t, protocol.Hello{})
	as := a.session(t, c.open.SID)
	c.SendText(t, "one")
	c.SendText(t, "two")
	readUntil(t, c, 3) // Welcome, and the answers to one and two
	c.conn.NetConn().Close()

	r := s.openWS(t, protocol.Hello{SID: c.open.SID, Token: c.open.Token, Last: 3})
	if r.open.Ack != 2 {
		t.Fatalf("resume's ack = %d, want 2", r.open.Ack)
	}
	// A client that did not see the ack re-sends 1 and 2, then 3.
	r.write(t, 1, []byte("m1:\"one\"\nm2:\"two\"\nm3:\"three\""))
	r.out = 3
	expectText(t, r.Next(t), 4, "new message: three")
	if got := as.waitTexts(t, 3); !reflect.DeepEqual(got, []string{"one", "two", "three"}) {
		t.Fatalf("OnMessage saw %q", got)
	}
}

// TestResumeAcrossCarriers moves a session from a dropped WebSocket to
// long-polling: the poll replays what the WebSocket lost, and the app sees
// the same session on its new carrier.
func TestResumeAcrossCarriers(t *testing.T) {
	a := newApp()
	s := startServer(t, a.handler, fastOpts())
	c := s.openWS(t, protocol.Hello{})
	as := a.session(t, c.open.SID)
	c.SendText(t, "burst 3") // 2..4
	readUntil(t, c, 4)
	c.conn.NetConn().Close()

	// A resume handshake over HTTP, then polls from the client's ack.
	resp, body := s.handshake(t, protocol.Hello{V: 1, Transport: protocol.LongPoll,
		SID: c.open.SID, Token: c.open.Token, Last: 2}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("resume handshake: %d %q", resp.StatusCode, body)
	}
	o := decodeOpen(t, body)
	if !o.Resumed || o.SID != c.open.SID || o.Ack != 1 {
		t.Fatalf("resume handshake answered %+v", o)
	}
	lp := &lpClient{s: s, open: o, last: 2, out: o.Ack}
	var got []string
	for len(got) < 2 {
		f := lp.Next(t)
		got = append(got, string(f.Data))
	}
	if !reflect.DeepEqual(got, []string{"b2", "b3"}) {
		t.Fatalf("replay over longpoll %q, want [b2 b3]", got)
	}
	if tr := as.c.Transport(); tr != protocol.LongPoll {
		t.Fatalf("Transport() = %q after the move, want longpoll", tr)
	}
	lp.SendText(t, "moved")
	expectText(t, lp.Next(t), 5, "new message: moved")
	if _, texts, _ := as.snapshot(); !reflect.DeepEqual(texts, []string{"burst 3", "moved"}) {
		t.Fatalf("OnMessage saw %q", texts)
	}
}
