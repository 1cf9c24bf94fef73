package hub

import (
	"context"
	"sync"

	"github.com/tether-rt/tether/session"
)

// Conn is the session type the hub groups (the root package's Conn).
type Conn = session.Session

// Envelope is one broadcast as it travels through a Broker.
type Envelope struct {
	Room   string // "" with All set: everyone
	All    bool   // every Conn of the hub, in every room or none
	Except string // ID of a Conn that does not receive it, or ""
	Data   []byte
	Binary bool
}

// Broker carries envelopes to every process's hub. Publish must not wait
// for receivers; Deliver-side errors are the broker's to log.
type Broker interface {
	Publish(ctx context.Context, e Envelope) error
}

// Local is the in-process broker: it hands envelopes straight to its hub.
type Local struct{ h *Hub }

// Publish implements Broker.
func (l Local) Publish(_ context.Context, e Envelope) error {
	l.h.Deliver(e)
	return nil
}

// Hub holds rooms of Conns.
type Hub struct {
	broker Broker

	mu    sync.RWMutex
	rooms map[string]map[*Conn]struct{}
	conns map[*Conn]*member
}

type member struct {
	rooms map[string]struct{}
	stop  func() bool // cancels the leave-on-close hook
}

// New returns an empty hub that delivers in this process.
func New() *Hub {
	h := &Hub{rooms: make(map[string]map[*Conn]struct{}), conns: make(map[*Conn]*member)}
	h.broker = Local{h}
	return h
}

// NewWithBroker returns a hub whose broadcasts go through b, which must
// call Deliver on every process's hub (this one included).
func NewWithBroker(b Broker) *Hub {
	h := New()
	h.broker = b
	return h
}

// Join adds c to room. A Conn may be in many rooms; joining twice is a
// no-op. A closed Conn is not added.
func (h *Hub) Join(c *Conn, room string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.Context().Err() != nil {
		return
	}
	m := h.conns[c]
	if m == nil {
		m = &member{rooms: make(map[string]struct{})}
		m.stop = context.AfterFunc(c.Context(), func() { h.LeaveAll(c) })
		h.conns[c] = m
	}
	m.rooms[room] = struct{}{}
	r := h.rooms[room]
	if r == nil {
		r = make(map[*Conn]struct{})
		h.rooms[room] = r
	}
	r[c] = struct{}{}
}

// Leave removes c from room.
func (h *Hub) Leave(c *Conn, room string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leaveLocked(c, room)
	if m := h.conns[c]; m != nil && len(m.rooms) == 0 {
		m.stop()
		delete(h.conns, c)
	}
}

// LeaveAll removes c from every room; closed Conns do it by themselves.
func (h *Hub) LeaveAll(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.conns[c]
	if m == nil {
		return
	}
	for room := range m.rooms {
		h.leaveLocked(c, room)
	}
	m.stop()
	delete(h.conns, c)
}

func (h *Hub) leaveLocked(c *Conn, room string) {
	if m := h.conns[c]; m != nil {
		delete(m.rooms, room)
	}
	if r := h.rooms[room]; r != nil {
		delete(r, c)
		if len(r) == 0 {
			delete(h.rooms, room)
		}
	}
}

// Members returns the Conns in room, in no particular order.
func (h *Hub) Members(room string) []*Conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Conn, 0, len(h.rooms[room]))
	for c := range h.rooms[room] {
		out = append(out, c)
	}
	return out
}

// Rooms returns the rooms c is in.
func (h *Hub) Rooms(c *Conn) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []string
	if m := h.conns[c]; m != nil {
		for r := range m.rooms {
			out = append(out, r)
		}
	}
	return out
}

// Broadcast sends text to every Conn in room.
func (h *Hub) Broadcast(room, text string) error {
	return h.Publish(Envelope{Room: room, Data: []byte(text)})
}

// BroadcastExcept sends text to every Conn in room but except (which may
// be nil), typically the sender.
func (h *Hub) BroadcastExcept(room string, except *Conn, text string) error {
	e := Envelope{Room: room, Data: []byte(text)}
	if except != nil {
		e.Except = except.ID()
	}
	return h.Publish(e)
}

// BroadcastAll sends text to every Conn that joined any room.
func (h *Hub) BroadcastAll(text string) error {
	return h.Publish(Envelope{All: true, Data: []byte(text)})
}

// Publish sends an envelope through the broker.
func (h *Hub) Publish(e Envelope) error {
	return h.broker.Publish(context.Background(), e)
}

// Deliver sends an envelope to this process's members. Brokers call it;
// it returns without waiting for any receiver and reports how many Conns
// the message was queued for.
func (h *Hub) Deliver(e Envelope) int {
	p := session.NewPrepared(e.Data, e.Binary)
	h.mu.RLock()
	var targets []*Conn
	if e.All {
		targets = make([]*Conn, 0, len(h.conns))
		for c := range h.conns {
			targets = append(targets, c)
		}
	} else {
		targets = make([]*Conn, 0, len(h.rooms[e.Room]))
		for c := range h.rooms[e.Room] {
			targets = append(targets, c)
		}
	}
	h.mu.RUnlock()
	n := 0
	for _, c := range targets {
		if e.Except != "" && c.ID() == e.Except {
			continue
		}
		// A slow consumer's Send fails and closes that Conn only.
		if c.SendPrepared(p) == nil {
			n++
		}
	}
	return n
}
