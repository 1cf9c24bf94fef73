package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tether-rt/tether"
	"github.com/tether-rt/tether/client"
)

// chatPage is one chat page: a Go client speaking to the real chat server.
type chatPage struct {
	t *testing.T
	c *client.Conn
}

func openPage(t *testing.T, url string) *chatPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, &client.Options{Transport: "longpoll"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(tether.CloseNormal, "") })
	return &chatPage{t: t, c: c}
}

func (p *chatPage) send(v in) {
	p.t.Helper()
	b, _ := json.Marshal(v)
	if err := p.c.Send(context.Background(), string(b)); err != nil {
		p.t.Fatal(err)
	}
}

// next reads the next message the page gets.
func (p *chatPage) next() out {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := p.c.Recv(ctx)
	if err != nil {
		p.t.Fatalf("waiting for a message: %v", err)
	}
	var o out
	if err := json.Unmarshal(m.Data, &o); err != nil {
		p.t.Fatalf("not chat JSON: %q", m.Data)
	}
	return o
}

// expect reads until a message of type typ whose text (or online list)
// contains want, skipping the others.
func (p *chatPage) expect(typ, want string) out {
	p.t.Helper()
	for {
		o := p.next()
		if o.Type == typ && (strings.Contains(o.Text, want) || strings.Contains(strings.Join(o.Online, ","), want)) {
			return o
		}
	}
}

func TestChatRoomsNamesAndPresence(t *testing.T) {
	ch := newChat()
	mux := http.NewServeMux()
	server := tether.New(ch.serve, nil)
	mux.Handle("/chat/", server)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close) // after the pages' cleanups, which end their held polls
	t.Cleanup(func() {
		// Before the HTTP server closes: a parked poll still being
		// answered hands its connection back to the server it left.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	})

	a, b := openPage(t, srv.URL+"/chat"), openPage(t, srv.URL+"/chat")
	a.send(in{Type: "join", Name: "alice", Room: "lobby"})
	a.expect("presence", "alice")
	b.send(in{Type: "join", Name: "  bob  ", Room: ""}) // trimmed; empty room is the lobby
	a.expect("system", "bob joined")
	a.expect("presence", "alice,bob")

	b.send(in{Type: "say", Text: "hi <alice>"})
	got := a.expect("msg", "hi <alice>")
	if got.From != "bob" || got.Room != "lobby" || got.Via != "longpoll" {
		t.Fatalf("message %+v", got)
	}
	if _, err := time.Parse(time.RFC3339, got.Time); err != nil {
		t.Fatalf("time %q: %v", got.Time, err)
	}

	b.send(in{Type: "join", Name: "robert", Room: "lobby"})
	a.expect("system", "bob is now robert")
	b.send(in{Type: "join", Name: "robert", Room: "kitchen"})
	a.expect("system", "robert left")
	a.expect("presence", "alice")
	b.send(in{Type: "say", Text: "only the kitchen hears this"})
	b.expect("msg", "only the kitchen")
	a.send(in{Type: "say", Text: "lobby only"})
	// Everything alice gets up to her own message is from the lobby: the
	// kitchen's message, sent before it, must not be among them.
	for {
		o := a.next()
		if o.Room != "lobby" || strings.Contains(o.Text, "kitchen") {
			t.Fatalf("alice, in the lobby, got %+v", o)
		}
		if o.Type == "msg" && o.Text == "lobby only" {
			break
		}
	}
}

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, def, want string }{
		{"  x ", "d", "x"},
		{"", "d", "d"},
		{strings.Repeat("é", 40), "", strings.Repeat("é", 32)},
	} {
		if got := clean(c.in, 32, c.def); got != c.want {
			t.Errorf("clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
