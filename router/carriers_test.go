package router_test

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/tether-rt/tether/protocol"
)

// carrierClient is what the table-driven tests need of a raw client.
type carrierClient interface {
	Open() protocol.Open
	SendText(t testing.TB, text string)
	SendBinary(t testing.TB, data []byte)
	SendClose(t testing.TB, code protocol.CloseCode, reason string)
	Next(t testing.TB) rframe
	Close()
}

var carriers = []struct {
	name string
	open func(t testing.TB, s *server) carrierClient
}{
	{protocol.WebSocket, func(t testing.TB, s *server) carrierClient { return s.openWS(t, protocol.Hello{}) }},
	{protocol.LongPoll, func(t testing.TB, s *server) carrierClient { return s.openLP(t, nil) }},
}

func expectText(t testing.TB, f rframe, seq uint64, text string) {
	t.Helper()
	if f.Type != protocol.FrameText || f.Seq != seq || string(f.Data) != text {
		t.Fatalf("got %v, want m%d:%q", f, seq, text)
	}
}

func expectClose(t testing.TB, f rframe, code protocol.CloseCode, reason string) {
	t.Helper()
	if f.Type != protocol.FrameClose || f.Code != code || f.Reason != reason {
		t.Fatalf("got %v, want c%d:%q", f, code, reason)
	}
}

// TestEchoOverCarriers runs the echo app over each carrier: greeting,
// text and binary echo, a server close and a client close. The app must
// see the same thing whichever carrier moved the bytes.
func TestEchoOverCarriers(t *testing.T) {
	views := make(map[string][]string)
	for _, cr := range carriers {
		t.Run(cr.name, func(t *testing.T) {
			a := newApp()
			// Registered before the server, so it runs after the server's
			// shutdown: no session may have seen OnClose twice.
			t.Cleanup(func() {
				a.mu.Lock()
				defer a.mu.Unlock()
				for _, s := range a.order {
					if len(s.closes) != 1 {
						t.Errorf("session %s: OnClose ran %d times: %q", s.id, len(s.closes), s.closes)
					}
				}
			})
			s := startServer(t, a.handler, fastOpts())

			// Session 1: the server closes it.
			c := cr.open(t, s)
			defer c.Close()
			o := c.Open()
			if o.Resumed || o.Ack != 0 || o.V != 1 {
				t.Fatalf("open frame %+v: want a new session", o)
			}
			as := a.session(t, o.SID)
			if as.transport != cr.name || as.c.Transport() != cr.name {
				t.Fatalf("Transport() = %q (in the handler %q), want %q", as.c.Transport(), as.transport, cr.name)
			}
			expectText(t, c.Next(t), 1, "Welcome")
			c.SendText(t, "hi")
			expectText(t, c.Next(t), 2, "new message: hi")

			bin := []byte{0, 1, 2, 0xff, '\n', ':', '"'}
			c.SendBinary(t, bin)
			f := c.Next(t)
			if f.Type != protocol.FrameBinary || f.Seq != 3 || !bytes.Equal(f.Data, bin) {
				t.Fatalf("binary echo: got %v, want b3:%x", f, bin)
			}
			if want := cr.name == protocol.WebSocket; f.wsBinary != want {
				t.Fatalf("binary echo came as a WebSocket binary message: %v, want %v", f.wsBinary, want)
			}

			c.SendText(t, "close me")
			expectText(t, c.Next(t), 4, "goodbye")
			expectClose(t, c.Next(t), 3001, "bye")
			if got := as.waitClosed(t); !reflect.DeepEqual(got, []string{"3001 bye"}) {
				t.Fatalf("OnClose calls %q, want [3001 bye]", got)
			}
			// Later requests on the closed session get its close frame.
			switch cc := c.(type) {
			case *wsClient:
				if code, _ := closeCode(t, cc.conn); code != 3001 {
					t.Fatalf("WebSocket close code %d, want 3001", code)
				}
			case *lpClient:
				if _, body := cc.mustPoll(t, cc.last); !isClose(body, 3001) {
					t.Fatalf("poll after the close: %q, want c3001", body)
				}
				if status, body := cc.mustSend(t, []byte("m5:\"late\"\n")); status != http.StatusOK || !bytes.Contains(body, []byte(`c3001:"bye"`)) {
					t.Fatalf("send after the close: %d %q, want c3001", status, body)
				}
			}
			if as.c.ID() != o.SID {
				t.Fatalf("ID() = %q, want %q", as.c.ID(), o.SID)
			}
			view, _, _ := as.snapshot()

			// Session 2: the client closes it.
			c2 := cr.open(t, s)
			defer c2.Close()
			as2 := a.session(t, c2.Open().SID)
			expectText(t, c2.Next(t), 1, "Welcome")
			c2.SendClose(t, 1000, "done")
			expectClose(t, c2.Next(t), 1000, "closed by client")
			if got := as2.waitClosed(t); !reflect.DeepEqual(got, []string{"1000 done"}) {
				t.Fatalf("OnClose calls %q, want [1000 done]", got)
			}
			view2, _, _ := as2.snapshot()
			views[cr.name] = append(view, view2...)
		})
	}
	want := []string{"text hi", fmt.Sprintf("binary %x", []byte{0, 1, 2, 0xff, '\n', ':', '"'}),
		"text close me", "close 3001 bye", "close 1000 done"}
	for name, v := range views {
		if !reflect.DeepEqual(v, want) {
			t.Errorf("%s: the app saw %q, want %q", name, v, want)
		}
	}
}
