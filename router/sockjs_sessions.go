package router

import (
	"context"
	"sync"

	"github.com/tether-rt/tether/internal/expiry"
	"github.com/tether-rt/tether/internal/memtrim"
	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// sockjsSessions maps the session keys SockJS clients choose (the second
// path segment) to the sessions of the registry. The key is not the
// session's identity: Conn.ID stays the registry's uuid, and a key may
// name one session after another. An entry lives while its session does,
// and a closed session's entry as long as the session answers with its
// close frame (one disconnect delay), except that a session lost for the
// disconnect delay is forgotten at once, so the key can start a new one.
type sockjsSessions struct {
	reg *session.Registry
	// drops forgets the keys of closed sessions one disconnect delay after
	// the close: one timer for them all (internal/expiry says why).
	drops *expiry.Queue[*sockjsEntry]

	mu   sync.Mutex
	m    map[string]*sockjsEntry
	high memtrim.HighWater // most keys held since m was last rebuilt
}

type sockjsEntry struct {
	// ready is closed once the session exists and the app's handler has
	// run on it, or its creation failed (id is then empty): no request may
	// deliver to a session whose OnMessage is not set yet.
	ready     chan struct{}
	id, token string
	key       string
	drop      expiry.Entry[*sockjsEntry]
}

func newSockJSSessions(reg *session.Registry) *sockjsSessions {
	k := &sockjsSessions{reg: reg, m: make(map[string]*sockjsEntry)}
	k.drops = expiry.New(reg.Options().DisconnectDelay, func(e *sockjsEntry) { k.drop(e.key, e) })
	return k
}

// open returns the live session of key, or makes one with create and
// reports created. Concurrent requests for a new key make one session:
// the others wait for it.
func (k *sockjsSessions) open(key string, create func() (*session.Link, error)) (*session.Link, bool, error) {
	for {
		k.mu.Lock()
		e := k.m[key]
		if e == nil {
			e = &sockjsEntry{ready: make(chan struct{}), key: key}
			k.m[key] = e
			k.high.Grew(len(k.m))
			k.mu.Unlock()
			l, err := create()
			if err != nil {
				k.drop(key, e)
				close(e.ready)
				return nil, false, err
			}
			e.id, e.token = l.Session().ID(), l.Token()
			close(e.ready)
			k.watch(key, e, l)
			return l, true, nil
		}
		k.mu.Unlock()
		if l := k.live(key, e); l != nil {
			return l, false, nil
		}
		// That session is gone: make a new one under the same key.
	}
}

// find returns the live session of key, if any.
func (k *sockjsSessions) find(key string) (*session.Link, bool) {
	k.mu.Lock()
	e := k.m[key]
	k.mu.Unlock()
	if e == nil {
		return nil, false
	}
	l := k.live(key, e)
	return l, l != nil
}

// live waits for e to be ready and returns its session, or nil (and drops
// e) when it failed, was collected, or was lost for the disconnect delay.
func (k *sockjsSessions) live(key string, e *sockjsEntry) *session.Link {
	<-e.ready
	if e.id == "" {
		return nil
	}
	l, err := k.reg.Lookup(e.id, e.token)
	if err == nil {
		if code, _, closed := l.Closed(); !closed || code != protocol.CloseSessionLost {
			return l
		}
	}
	k.drop(key, e)
	return nil
}

// watch forgets the key when its session is gone: at once when it was
// lost for the disconnect delay, one disconnect delay after any other
// close, while the session answers with its close frame.
func (k *sockjsSessions) watch(key string, e *sockjsEntry, l *session.Link) {
	context.AfterFunc(l.Session().Context(), func() {
		if code, _, _ := l.Closed(); code == protocol.CloseSessionLost {
			k.drop(key, e)
			return
		}
		k.drops.Arm(&e.drop, e)
	})
}

// drop forgets key if it still names e.
func (k *sockjsSessions) drop(key string, e *sockjsEntry) {
	k.mu.Lock()
	if k.m[key] == e {
		delete(k.m, key)
		k.shrinkLocked()
	}
	k.mu.Unlock()
}

// shrinkLocked rebuilds the map at its size once it has shrunk enough
// (memtrim.HighWater says when): a Go map never gives its buckets back, so
// after a crowd of sessions expired it would stay sized for the crowd. The
// registry does the same with its sessions (session/shrink.go) and returns
// the freed memory to the OS.
func (k *sockjsSessions) shrinkLocked() {
	if k.high.Shrunk(len(k.m)) {
		k.m = memtrim.Rebuild(k.m, &k.high)
	}
}

// len returns the number of keys held.
func (k *sockjsSessions) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}
