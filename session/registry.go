package session

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tether-rt/tether/internal/expiry"
	"github.com/tether-rt/tether/internal/memtrim"
	"github.com/tether-rt/tether/protocol"
)

// Registry holds the live sessions of one server, and closed ones for their
// tombstone delay. It is safe for concurrent use.
type Registry struct {
	opts Options

	expiry *expiry.Queue[*Session] // disconnect delays

	mu       sync.RWMutex
	sessions map[string]*Session
	stopping bool
	shrink   shrinker // guarded by mu

	// wg counts the callback goroutines (drain); inline runs are not
	// counted. Shutdown also waits for box.running of the sessions it
	// closes, which covers a drain too, but not one of a session that left
	// the registry already: a session lost to its disconnect delay is
	// removed as it closes, while its OnClose is still to run, and only wg
	// lets Shutdown wait for that. It is one Add per drain, never per
	// inline message.
	wg sync.WaitGroup
}

// NewRegistry returns an empty registry; opts may be nil for defaults.
func NewRegistry(opts *Options) *Registry {
	r := &Registry{opts: opts.WithDefaults(), sessions: make(map[string]*Session),
		shrink: shrinker{release: memtrim.Process}}
	r.expiry = expiry.New(r.opts.DisconnectDelay, (*Session).expire)
	return r
}

// Options returns the registry's options, defaults filled in.
func (r *Registry) Options() *Options { return &r.opts }

// Len returns the number of sessions held, tombstones included.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.sessions)
}

// Stopping reports whether Shutdown was called: the registry creates no
// more sessions.
func (r *Registry) Stopping() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.stopping
}

// Create makes a new session that receives on the named carrier. It fails
// with ErrTooManySessions at MaxSessions and ErrShuttingDown after
// Shutdown. The new session starts its disconnect delay at once, so a
// client that never attaches does not keep it.
func (r *Registry) Create(req Request, transport string) (*Link, error) {
	s := &Session{
		id:        uuid.NewString(),
		token:     newToken(),
		reg:       r,
		req:       req,
		transport: transport,
	}
	s.link.s = s
	r.mu.Lock()
	switch {
	case r.stopping:
		r.mu.Unlock()
		return nil, ErrShuttingDown
	case len(r.sessions) >= r.opts.MaxSessions:
		r.mu.Unlock()
		return nil, ErrTooManySessions
	}
	r.sessions[s.id] = s
	r.shrink.Grew(len(r.sessions))
	r.mu.Unlock()
	s.mu.Lock()
	s.armLocked()
	s.mu.Unlock()
	r.opts.Logger.Debug("tether: session opened", "id", s.id, "transport", transport)
	return &s.link, nil
}

// newToken returns 128 random bits as unpadded base64url (22 characters).
func newToken() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Lookup finds a session by id and token. A wrong token and an unknown id
// both give ErrSessionLost, and the token comparison takes constant time,
// so neither the answer nor its timing says whether the id exists.
func (r *Registry) Lookup(id, token string) (*Link, error) {
	r.mu.RLock()
	s := r.sessions[id]
	r.mu.RUnlock()
	if s == nil || subtle.ConstantTimeCompare([]byte(s.token), []byte(token)) != 1 {
		if r.Stopping() {
			// Its session may have been closed and collected by Shutdown;
			// the client should hear "reconnect elsewhere", not "lost".
			return nil, ErrShuttingDown
		}
		return nil, ErrSessionLost
	}
	return &s.link, nil
}

func (r *Registry) remove(s *Session) {
	r.mu.Lock()
	if r.sessions[s.id] == s {
		delete(r.sessions, s.id)
		r.removedLocked()
	}
	r.mu.Unlock()
}

// Shutdown stops creating sessions, closes every session with
// CloseShutdown so its client reconnects elsewhere, and waits until every
// OnClose has run and every receiver has carried the close frame out and
// detached, or until ctx ends. Closed sessions are then collected.
func (r *Registry) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.stopping = true
	all := make([]*Session, 0, len(r.sessions))
	for _, s := range r.sessions {
		all = append(all, s)
	}
	r.mu.Unlock()
	for _, s := range all {
		s.mu.Lock()
		s.closeLocked(protocol.CloseShutdown, "server shutting down", false)
		s.mu.Unlock()
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		busy := false
		for _, s := range all {
			s.mu.Lock()
			// A callback running inline, on a carrier's goroutine, is not
			// in wg; it runs OnClose itself once the app returns.
			busy = busy || s.rcv != nil || s.box.running
			s.mu.Unlock()
		}
		if !busy {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, s := range all {
		s.mu.Lock()
		s.collected = true
		s.disarmLocked()
		s.mu.Unlock()
		r.remove(s)
	}
	return nil
}
