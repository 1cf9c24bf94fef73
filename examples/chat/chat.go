package main

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tether-rt/tether"
	"github.com/tether-rt/tether/hub"
)

// in is what a page sends: join a room under a name, or say something.
type in struct {
	Type string `json:"t"` // "join" or "say"
	Name string `json:"name,omitempty"`
	Room string `json:"room,omitempty"`
	Text string `json:"text,omitempty"`
}

// out is what the server sends to pages.
type out struct {
	Type   string   `json:"t"` // "msg", "system" or "presence"
	Room   string   `json:"room,omitempty"`
	From   string   `json:"from,omitempty"`
	Text   string   `json:"text,omitempty"`
	Time   string   `json:"time,omitempty"`
	Online []string `json:"online,omitempty"`
	Via    string   `json:"via,omitempty"` // the sender's transport
}

const (
	maxName = 32
	maxText = 2000
)

// chat keeps each Conn's name and room; the hub keeps the rooms.
type chat struct {
	hub *hub.Hub

	mu    sync.Mutex
	users map[*tether.Conn]*user
}

type user struct{ name, room string }

func newChat() *chat {
	return &chat{hub: hub.New(), users: make(map[*tether.Conn]*user)}
}

func (ch *chat) serve(c *tether.Conn) {
	c.OnMessage(func(m tether.Message) {
		var msg in
		if m.Binary || json.Unmarshal(m.Data, &msg) != nil {
			return // not ours; a chat page never sends this
		}
		switch msg.Type {
		case "join":
			ch.join(c, clean(msg.Name, maxName, "anonymous"), clean(msg.Room, maxName, "lobby"))
		case "say":
			ch.say(c, clean(msg.Text, maxText, ""))
		}
	})
	c.OnTransport(func(name string) {
		ch.mu.Lock()
		u := ch.users[c]
		ch.mu.Unlock()
		if u != nil {
			ch.send(u.room, out{Type: "system", Room: u.room, Text: u.name + " now uses " + name})
		}
	})
	c.OnClose(func(tether.CloseCode, string) { ch.leave(c) })
}

func (ch *chat) join(c *tether.Conn, name, room string) {
	ch.mu.Lock()
	old := ch.users[c]
	ch.users[c] = &user{name: name, room: room}
	ch.mu.Unlock()
	if old != nil && old.room != room {
		ch.hub.Leave(c, old.room)
		ch.send(old.room, out{Type: "system", Room: old.room, Text: old.name + " left"})
		ch.presence(old.room)
	}
	ch.hub.Join(c, room)
	switch {
	case old == nil || old.room != room:
		ch.send(room, out{Type: "system", Room: room, Text: name + " joined"})
	case old.name != name:
		ch.send(room, out{Type: "system", Room: room, Text: old.name + " is now " + name})
	}
	ch.presence(room)
}

func (ch *chat) say(c *tether.Conn, text string) {
	ch.mu.Lock()
	u := ch.users[c]
	ch.mu.Unlock()
	if u == nil || text == "" {
		return
	}
	ch.send(u.room, out{Type: "msg", Room: u.room, From: u.name, Text: text,
		Time: time.Now().UTC().Format(time.RFC3339), Via: c.Transport()})
}

func (ch *chat) leave(c *tether.Conn) {
	ch.mu.Lock()
	u := ch.users[c]
	delete(ch.users, c)
	ch.mu.Unlock()
	if u == nil {
		return
	}
	ch.hub.Leave(c, u.room)
	ch.send(u.room, out{Type: "system", Room: u.room, Text: u.name + " left"})
	ch.presence(u.room)
}

// presence tells a room who is in it.
func (ch *chat) presence(room string) {
	var names []string
	ch.mu.Lock()
	for _, c := range ch.hub.Members(room) {
		if u := ch.users[c]; u != nil {
			names = append(names, u.name)
		}
	}
	ch.mu.Unlock()
	slices.Sort(names)
	ch.send(room, out{Type: "presence", Room: room, Online: names})
}

func (ch *chat) send(room string, o out) {
	b, _ := json.Marshal(o)
	ch.hub.Broadcast(room, string(b))
}

// clean trims s, cuts it to max runes, and falls back to def when empty.
func clean(s string, max int, def string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	if s == "" {
		return def
	}
	return s
}
