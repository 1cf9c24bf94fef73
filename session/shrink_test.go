package session

import (
	"reflect"
	"testing"
	"time"

	"github.com/tether-rt/tether/internal/memtrim"
)

// expireNow runs s's expiry as its timer would once the disconnect delay
// passed: the session is closed as lost and collected.
func expireNow(s *Session) {
	s.reg.expiry.Stop(&s.exp)
	s.expire()
}

func createN(t *testing.T, r *Registry, n int) []*Session {
	t.Helper()
	out := make([]*Session, n)
	for i := range out {
		l, err := r.Create(Request{}, "longpoll")
		if err != nil {
			t.Fatal(err)
		}
		out[i] = l.Session()
	}
	return out
}

func shrinkState(r *Registry) (k shrinker, n int, m uintptr) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.shrink, len(r.sessions), uintptr(reflect.ValueOf(r.sessions).UnsafePointer())
}

// TestShrinkAfterMassExpiry: once half of the high-water mark has expired
// the registry rebuilds its map and returns memory to the OS, once.
func TestShrinkAfterMassExpiry(t *testing.T) {
	r := newRegistry(t, &Options{DisconnectDelay: time.Hour})
	freed := make(chan struct{}, 4)
	r.mu.Lock()
	r.shrink.release = &memtrim.Releaser{Free: func() { freed <- struct{}{} }}
	r.mu.Unlock()
	all := createN(t, r, 3000)
	_, _, before := shrinkState(r)

	for _, s := range all[:1499] {
		expireNow(s)
	}
	if k, n, _ := shrinkState(r); k.pending || k.shrinks != 0 || n != 1501 || k.High() != 3000 {
		t.Fatalf("above half the high-water mark: pending %v, shrinks %d, %d held, high %d",
			k.pending, k.shrinks, n, k.High())
	}
	expireNow(all[1499]) // half of 3000 gone
	select {
	case <-freed:
	case <-time.After(waitTimeout):
		t.Fatal("memory not released after half the sessions expired")
	}
	k, n, after := shrinkState(r)
	if k.shrinks != 1 || k.pending || n != 1500 || k.High() != 1500 || k.release.Releases() != 1 {
		t.Fatalf("after the shrink: %+v, %d held", k, n)
	}
	if after == before {
		t.Error("the session map was not rebuilt")
	}
	for _, s := range all[1500:] {
		if _, err := r.Lookup(s.ID(), s.token); err != nil {
			t.Fatalf("a live session was lost in the rebuild: %v", err)
		}
	}

	// Half of what is left, but fewer than memtrim.MinDrop: not worth it.
	for _, s := range all[1500:2250] {
		expireNow(s)
	}
	if k, _, _ := shrinkState(r); k.pending || k.shrinks != 1 {
		t.Fatalf("shrink scheduled for a drop of 750: %+v", k)
	}
	select {
	case <-freed:
		t.Fatal("released again below the threshold")
	default:
	}
}

// TestShrinkWaitsForInterval: a second release within FreeMemoryInterval
// is scheduled for when the interval has passed, not run at once.
func TestShrinkWaitsForInterval(t *testing.T) {
	r := newRegistry(t, &Options{DisconnectDelay: time.Hour, FreeMemoryInterval: time.Hour})
	freed := make(chan struct{}, 4)
	r.mu.Lock()
	r.shrink.release = &memtrim.Releaser{Free: func() { freed <- struct{}{} }}
	r.mu.Unlock()
	all := createN(t, r, 4096)
	for _, s := range all[:2048] {
		expireNow(s)
	}
	select {
	case <-freed:
	case <-time.After(waitTimeout):
		t.Fatal("first release not made")
	}
	for _, s := range all[2048:] {
		expireNow(s)
	}
	k, n, _ := shrinkState(r)
	if !k.pending || k.shrinks != 1 || n != 0 {
		t.Fatalf("second shrink not scheduled: %+v, %d held", k, n)
	}
	select {
	case <-freed:
		t.Fatal("released twice within FreeMemoryInterval")
	default:
	}
	// The clients come back before the interval passes: when the
	// scheduled shrink runs, there is nothing to shrink.
	createN(t, r, 1100)
	r.shrinkNow()
	if k, n, _ := shrinkState(r); k.pending || k.shrinks != 1 || n != 1100 {
		t.Fatalf("shrink after the sessions came back: %+v, %d held", k, n)
	}
	select {
	case <-freed:
		t.Fatal("released with the sessions back")
	default:
	}
}

// TestShrinkWithoutRelease: a negative FreeMemoryInterval keeps the map
// rebuild and never returns memory to the OS.
func TestShrinkWithoutRelease(t *testing.T) {
	if got := NewRegistry(nil).Options().FreeMemoryInterval; got != DefaultFreeMemoryInterval {
		t.Errorf("default FreeMemoryInterval = %v", got)
	}
	r := newRegistry(t, &Options{DisconnectDelay: time.Hour, FreeMemoryInterval: -1})
	if got := r.Options().FreeMemoryInterval; got != -1 {
		t.Fatalf("FreeMemoryInterval = %v, want -1 (off)", got)
	}
	r.mu.Lock()
	r.shrink.release = &memtrim.Releaser{Free: func() { t.Error("memory released with the release off") }}
	r.mu.Unlock()
	all := createN(t, r, 2048)
	for _, s := range all[:1024] {
		expireNow(s)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		if k, n, _ := shrinkState(r); k.shrinks == 1 && n == 1024 && !k.pending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("map not rebuilt")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNoShrinkInSteadyChurn: sessions that come and go in a balance,
// however many, never make the registry shrink or release memory.
func TestNoShrinkInSteadyChurn(t *testing.T) {
	r := newRegistry(t, &Options{DisconnectDelay: time.Hour})
	r.mu.Lock()
	r.shrink.release = &memtrim.Releaser{Free: func() { t.Error("memory released in a steady state") }}
	r.mu.Unlock()
	all := createN(t, r, 2048)
	for i := range 3 * memtrim.MinDrop {
		expireNow(all[i%len(all)])
		all[i%len(all)] = createN(t, r, 1)[0]
	}
	if k, n, _ := shrinkState(r); k.pending || k.shrinks != 0 || n != 2048 {
		t.Fatalf("steady churn: %+v, %d held", k, n)
	}
}
