package hub_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-rt/tether/hub"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
	"github.com/tether-rt/tether/transports"
)

// wait bounds every wait of the tests.
const wait = 5 * time.Second

// newRegistry returns a registry shut down when the test ends, after the
// test's own cleanups (which end its carriers).
func newRegistry(t testing.TB, o session.Options) *session.Registry {
	t.Helper()
	o.Logger = slog.New(slog.DiscardHandler)
	r := session.NewRegistry(&o)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return r
}

// member is a real session with a fake carrier attached: it takes what
// the session hands it and acknowledges it, as a client that keeps up
// would; a stalled one attaches and never takes anything.
type member struct {
	c    *hub.Conn
	link *session.Link
	rcv  *session.Receiver
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	msgs    []session.Outgoing
	closes  []string // OnClose calls
	changed chan struct{}
}

func newMember(t testing.TB, reg *session.Registry, reads bool) *member {
	t.Helper()
	l, err := reg.Create(session.Request{}, "fake")
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := l.Attach("fake", 0)
	if err != nil {
		t.Fatal(err)
	}
	m := &member{c: l.Session(), link: l, rcv: rcv, stop: make(chan struct{}),
		done: make(chan struct{}), changed: make(chan struct{}, 1)}
	m.c.OnClose(func(code protocol.CloseCode, reason string) {
		m.mu.Lock()
		m.closes = append(m.closes, fmt.Sprintf("%d %s", code, reason))
		m.mu.Unlock()
	})
	if reads {
		go m.run(reg.Options().MaxBatchBytes)
	} else {
		close(m.done)
	}
	t.Cleanup(m.end)
	return m
}

func (m *member) run(max int) {
	defer close(m.done)
	var b session.Batch
	for {
		select {
		case <-m.stop:
			return
		case <-m.rcv.Ready():
		}
		for m.rcv.Next(&b, max) {
			m.mu.Lock()
			m.msgs = append(m.msgs, b.Msgs...) // Outgoing values; their Data never changes
			m.mu.Unlock()
			if n := len(b.Msgs); n > 0 {
				m.link.Ack(b.Msgs[n-1].Seq)
			}
			select {
			case m.changed <- struct{}{}:
			default:
			}
			if b.Close {
				return
			}
		}
	}
}

// end stops the carrier and detaches it; idempotent.
func (m *member) end() {
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	<-m.done
	m.rcv.Detach()
}

func (m *member) got() []session.Outgoing {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.msgs)
}

func (m *member) texts() []string {
	var out []string
	for _, o := range m.got() {
		out = append(out, string(o.Data))
	}
	return out
}

func (m *member) closeCalls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.closes)
}

// waitTexts waits until the member took n messages and returns their texts.
func (m *member) waitTexts(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.After(wait)
	for {
		if got := m.texts(); len(got) >= n {
			return got
		}
		select {
		case <-m.changed:
		case <-deadline:
			t.Fatalf("member %s took %q, want %d messages", m.c.ID(), m.texts(), n)
		}
	}
}

// waitFor polls cond until it holds, failing after wait.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func ids(conns []*hub.Conn) []string {
	var out []string
	for _, c := range conns {
		out = append(out, c.ID())
	}
	sort.Strings(out)
	return out
}

func idsOf(ms ...*member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.c.ID())
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestJoinLeave(t *testing.T) {
	reg := newRegistry(t, session.Options{})
	h := hub.New()
	a, b, c := newMember(t, reg, true), newMember(t, reg, true), newMember(t, reg, true)

	h.Join(a.c, "x")
	h.Join(a.c, "y")
	h.Join(a.c, "x") // twice: a no-op
	h.Join(b.c, "x")
	if got, want := ids(h.Members("x")), idsOf(a, b); !slices.Equal(got, want) {
		t.Fatalf("Members(x) = %v, want %v", got, want)
	}
	if got := ids(h.Members("y")); !slices.Equal(got, idsOf(a)) {
		t.Fatalf("Members(y) = %v", got)
	}
	if got := sorted(h.Rooms(a.c)); !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("Rooms(a) = %q", got)
	}
	if got := h.Rooms(c.c); len(got) != 0 {
		t.Fatalf("Rooms of a Conn that joined nothing = %q", got)
	}
	if got := h.Members("nobody"); len(got) != 0 {
		t.Fatalf("Members of an unknown room = %v", got)
	}

	h.Leave(a.c, "x")
	if got := ids(h.Members("x")); !slices.Equal(got, idsOf(b)) {
		t.Fatalf("after Leave(a, x): Members(x) = %v", got)
	}
	if got := h.Rooms(a.c); !slices.Equal(got, []string{"y"}) {
		t.Fatalf("after Leave(a, x): Rooms(a) = %q", got)
	}
	h.Leave(a.c, "x") // not in it: a no-op
	h.Leave(c.c, "x")

	h.Join(b.c, "z")
	h.LeaveAll(b.c)
	if got := h.Rooms(b.c); len(got) != 0 {
		t.Fatalf("after LeaveAll(b): Rooms(b) = %q", got)
	}
	if got := h.Members("x"); len(got) != 0 {
		t.Fatalf("after LeaveAll(b): Members(x) = %v", got)
	}
	h.LeaveAll(b.c) // again: a no-op

	// A Conn that left every room no longer gets BroadcastAll; one in a
	// room does.
	h.BroadcastAll("all")
	a.waitTexts(t, 1)
	time.Sleep(10 * time.Millisecond)
	if got := b.texts(); len(got) != 0 {
		t.Fatalf("a Conn in no room got %q", got)
	}
}

// TestClosedConnLeaves: a closed Conn leaves every room by itself, and a
// closed Conn cannot join.
func TestClosedConnLeaves(t *testing.T) {
	reg := newRegistry(t, session.Options{})
	h := hub.New()
	a, b := newMember(t, reg, true), newMember(t, reg, true)
	h.Join(a.c, "x")
	h.Join(a.c, "y")
	h.Join(b.c, "x")
	if err := a.c.Close(protocol.CloseNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the closed Conn to leave its rooms", func() bool {
		return len(h.Rooms(a.c)) == 0 && len(h.Members("y")) == 0 && len(h.Members("x")) == 1
	})
	if got := ids(h.Members("x")); !slices.Equal(got, idsOf(b)) {
		t.Fatalf("Members(x) = %v, want b only", got)
	}
	h.Join(a.c, "z")
	if got := h.Members("z"); len(got) != 0 {
		t.Fatal("a closed Conn joined a room")
	}
	// A Conn closed by its client (or lost) leaves too.
	h.Join(b.c, "y")
	b.link.PeerClose(protocol.CloseNormal, "client left")
	waitFor(t, "the peer-closed Conn to leave", func() bool { return len(h.Rooms(b.c)) == 0 })
	if got := h.Members("x"); len(got) != 0 {
		t.Fatalf("Members(x) = %v after everyone closed", ids(got))
	}
}

// TestBroadcastTargets: a room, everyone, everyone but the sender.
func TestBroadcastTargets(t *testing.T) {
	reg := newRegistry(t, session.Options{})
	h := hub.New()
	a, b, c, outsider := newMember(t, reg, true), newMember(t, reg, true), newMember(t, reg, true), newMember(t, reg, true)
	h.Join(a.c, "r")
	h.Join(b.c, "r")
	h.Join(c.c, "other")

	if err := h.Broadcast("r", "to r"); err != nil {
		t.Fatal(err)
	}
	if err := h.BroadcastAll("to all"); err != nil {
		t.Fatal(err)
	}
	if err := h.BroadcastExcept("r", a.c, "from a"); err != nil {
		t.Fatal(err)
	}
	if err := h.BroadcastExcept("r", nil, "except nobody"); err != nil {
		t.Fatal(err)
	}
	if err := h.Broadcast("empty", "to nobody"); err != nil {
		t.Fatal(err)
	}
	for m, want := range map[*member][]string{
		a: {"to r", "to all", "except nobody"},
		b: {"to r", "to all", "from a", "except nobody"},
		c: {"to all"},
	} {
		if got := m.waitTexts(t, len(want)); !slices.Equal(got, want) {
			t.Errorf("member got %q, want %q", got, want)
		}
	}
	// Deliver reports how many Conns it queued for.
	if n := h.Deliver(hub.Envelope{Room: "r", Except: b.c.ID(), Data: []byte("d")}); n != 1 {
		t.Errorf("Deliver to r except b = %d, want 1", n)
	}
	if n := h.Deliver(hub.Envelope{All: true, Data: []byte("d")}); n != 3 {
		t.Errorf("Deliver to all = %d, want 3", n)
	}
	time.Sleep(10 * time.Millisecond)
	if got := outsider.texts(); len(got) != 0 {
		t.Fatalf("a Conn in no room got %q", got)
	}
}

// TestBroadcastEncodedOnce: every member gets the same session.Prepared,
// so each framing encodes the payload once for all of them; the frames
// the native framing builds from it are those of a plain Send.
func TestBroadcastEncodedOnce(t *testing.T) {
	reg := newRegistry(t, session.Options{})
	h := hub.New()
	var ms []*member
	for range 5 {
		m := newMember(t, reg, true)
		h.Join(m.c, "r")
		ms = append(ms, m)
	}
	ms[0].c.Send("first") // the members' sequence numbers differ
	text := "héllo \"world\"\n</script> \u2028"
	if err := h.Broadcast("r", text); err != nil {
		t.Fatal(err)
	}
	if err := h.Publish(hub.Envelope{Room: "r", Data: []byte{0, 1, 0xff}, Binary: true}); err != nil {
		t.Fatal(err)
	}

	type framingKey struct{ name string }
	counts := map[*session.Prepared]int{}
	var prepared []*session.Prepared
	for i, m := range ms {
		n := 2
		if i == 0 {
			n = 3
		}
		m.waitTexts(t, n)
		got := m.got()[n-2:]
		for j, o := range got {
			if o.Prepared == nil {
				t.Fatalf("member %d: broadcast %d has no Prepared", i, j)
			}
			if len(prepared) <= j {
				prepared = append(prepared, o.Prepared)
			} else if o.Prepared != prepared[j] {
				t.Fatalf("member %d: broadcast %d has its own Prepared", i, j)
			}
			// A framing's encoding runs once for all members.
			o.Prepared.Encoded(framingKey{"counting"}, func(d []byte) []byte {
				counts[o.Prepared]++
				return protocol.AppendQuote(nil, d)
			})
			// The native frame is the one a plain Send would give.
			var want []byte
			if o.Binary {
				want = protocol.AppendBinary(nil, o.Seq, o.Data)
			} else {
				want = protocol.AppendText(nil, o.Seq, o.Data)
			}
			if frame := transports.AppendMessage(nil, o); string(frame) != string(want) {
				t.Fatalf("member %d: frame %q, want %q", i, frame, want)
			}
		}
		if !got[1].Binary || got[0].Binary || string(got[0].Data) != text {
			t.Fatalf("member %d got %+v", i, got)
		}
	}
	for p, n := range counts {
		if n != 1 {
			t.Errorf("broadcast %q encoded %d times for %d members", p.Data(), n, len(ms))
		}
	}
}

// TestBroadcastStalledMember: a room with a stalled member (its carrier
// never takes anything) and a small outbound bound. Broadcast never waits
// for it; it is closed with 4201 and leaves the room; the others get every
// message, in order.
func TestBroadcastStalledMember(t *testing.T) {
	reg := newRegistry(t, session.Options{MaxOutboundBytes: 2000})
	h := hub.New()
	var fast []*member
	for range 3 {
		m := newMember(t, reg, true)
		h.Join(m.c, "r")
		fast = append(fast, m)
	}
	stalled := newMember(t, reg, false)
	h.Join(stalled.c, "r")

	const n = 100 // about 6 kB: three times the stalled member's bound
	var want []string
	for i := 1; i <= n; i++ {
		text := fmt.Sprintf("message %03d %s", i, strings.Repeat(".", 48))
		want = append(want, text)
		returned := make(chan error, 1)
		go func() { returned <- h.Broadcast("r", text) }()
		select {
		case err := <-returned:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(wait):
			t.Fatalf("Broadcast %d waited for a receiver", i)
		}
		for _, m := range fast {
			m.waitTexts(t, i)
		}
	}
	for i, m := range fast {
		if got := m.texts(); !slices.Equal(got, want) {
			t.Fatalf("fast member %d got %d messages, want %d in order", i, len(got), n)
		}
		if c := m.closeCalls(); len(c) != 0 {
			t.Fatalf("fast member %d closed: %q", i, c)
		}
	}
	waitFor(t, "the stalled member's OnClose", func() bool { return len(stalled.closeCalls()) > 0 })
	if got := stalled.closeCalls(); len(got) != 1 || !strings.HasPrefix(got[0], "4201 ") {
		t.Fatalf("stalled member's OnClose calls %q, want 4201", got)
	}
	var ce *session.CloseError
	if err := stalled.c.Send("more"); !errors.As(err, &ce) || ce.Code != protocol.CloseSlowConsumer {
		t.Fatalf("Send to the stalled member = %v, want a 4201 CloseError", err)
	}
	waitFor(t, "the stalled member to leave the room", func() bool { return len(h.Members("r")) == len(fast) })
	if got := ids(h.Members("r")); !slices.Equal(got, idsOf(fast...)) {
		t.Fatalf("Members(r) = %v", got)
	}
}

// fakeBroker stands for a broker between processes (Redis pub/sub): it
// records every envelope and hands it to the hubs subscribed, or to none
// until told.
type fakeBroker struct {
	mu        sync.Mutex
	envelopes []hub.Envelope
	hubs      []*hub.Hub
	err       error
}

func (b *fakeBroker) Publish(_ context.Context, e hub.Envelope) error {
	b.mu.Lock()
	b.envelopes = append(b.envelopes, e)
	hubs, err := slices.Clone(b.hubs), b.err
	b.mu.Unlock()
	if err != nil {
		return err
	}
	for _, h := range hubs {
		h.Deliver(e)
	}
	return nil
}

func (b *fakeBroker) published() []hub.Envelope {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.envelopes)
}

// TestBroker: with a broker behind the hub, callers do not change: every
// broadcast reaches the broker as an Envelope, and delivering an Envelope
// (as the broker does in every process) reaches that process's members.
func TestBroker(t *testing.T) {
	reg := newRegistry(t, session.Options{})
	b := &fakeBroker{}
	h := hub.NewWithBroker(b)
	a, c := newMember(t, reg, true), newMember(t, reg, true)
	h.Join(a.c, "r")
	h.Join(c.c, "r")

	h.Broadcast("r", "one")
	h.BroadcastExcept("r", a.c, "two")
	h.BroadcastAll("three")
	want := []hub.Envelope{
		{Room: "r", Data: []byte("one")},
		{Room: "r", Except: a.c.ID(), Data: []byte("two")},
		{All: true, Data: []byte("three")},
	}
	got := b.published()
	if len(got) != len(want) {
		t.Fatalf("the broker got %+v", got)
	}
	for i := range want {
		if got[i].Room != want[i].Room || got[i].All != want[i].All || got[i].Except != want[i].Except ||
			string(got[i].Data) != string(want[i].Data) || got[i].Binary {
			t.Fatalf("envelope %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	time.Sleep(10 * time.Millisecond)
	if len(a.texts())+len(c.texts()) != 0 {
		t.Fatal("a broadcast was delivered without the broker")
	}
	// The broker delivers what it carried.
	for _, e := range got {
		h.Deliver(e)
	}
	if got := a.waitTexts(t, 2); !slices.Equal(got, []string{"one", "three"}) {
		t.Fatalf("a got %q", got)
	}
	if got := c.waitTexts(t, 3); !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Fatalf("c got %q", got)
	}

	// Two processes' hubs behind one broker: a broadcast in one reaches the
	// room's members in both, except the sender wherever it is.
	b2 := &fakeBroker{}
	h1, h2 := hub.NewWithBroker(b2), hub.NewWithBroker(b2)
	b2.hubs = []*hub.Hub{h1, h2}
	p1, p2, q2 := newMember(t, reg, true), newMember(t, reg, true), newMember(t, reg, true)
	h1.Join(p1.c, "room")
	h2.Join(p2.c, "room")
	h2.Join(q2.c, "room")
	h1.BroadcastExcept("room", p1.c, "from p1")
	h2.Broadcast("room", "to all in room")
	if got := p1.waitTexts(t, 1); !slices.Equal(got, []string{"to all in room"}) {
		t.Fatalf("p1 got %q", got)
	}
	for _, m := range []*member{p2, q2} {
		if got := m.waitTexts(t, 2); !slices.Equal(got, []string{"from p1", "to all in room"}) {
			t.Fatalf("a member of the other process got %q", got)
		}
	}

	// A broker's error reaches the caller.
	b.err = errors.New("broker down")
	if err := h.Broadcast("r", "lost"); err == nil || err.Error() != "broker down" {
		t.Fatalf("Broadcast through a failing broker = %v", err)
	}
}
