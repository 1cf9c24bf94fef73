package router

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tether-rt/tether/internal/memtrim"
	"github.com/tether-rt/tether/session"
)

func newTestKeys(t *testing.T, delay time.Duration) (*sockjsSessions, func() (*session.Link, error)) {
	reg := session.NewRegistry(&session.Options{DisconnectDelay: delay})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reg.Shutdown(ctx)
	})
	return newSockJSSessions(reg), func() (*session.Link, error) { return reg.Create(session.Request{}, "test") }
}

func waitKeys(t *testing.T, k *sockjsSessions, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for k.len() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d keys held, want %d", k.len(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A key is forgotten as soon as its session is lost, so the key can open
// a new session; an app-closed session's key answers for one more delay.
func TestSockJSKeysLifetime(t *testing.T) {
	const delay = 100 * time.Millisecond
	k, create := newTestKeys(t, delay)
	l, created, err := k.open("lost", create)
	if err != nil || !created {
		t.Fatalf("open: %v, %v", created, err)
	}
	if f, ok := k.find("lost"); !ok || f.Session() != l.Session() {
		t.Fatal("find does not return the session")
	}
	<-l.Session().Context().Done() // lost after the delay
	waitKeys(t, k, 0)
	if _, ok := k.find("lost"); ok {
		t.Fatal("a lost session is still found")
	}
	l2, created, _ := k.open("lost", create)
	if !created || l2.Session() == l.Session() {
		t.Fatal("the key did not open a new session")
	}

	c, _, _ := k.open("closed", create)
	c.Session().Close(3000, "Go away!")
	time.Sleep(delay / 2)
	if f, ok := k.find("closed"); !ok || f.Session() != c.Session() {
		t.Fatal("a closed session's key stopped answering before the delay")
	}
	waitKeys(t, k, 0) // "lost" lost its second session meanwhile
	if _, ok := k.find("closed"); ok {
		t.Fatal("a closed session is found after its delay")
	}
}

func TestSockJSKeysOneSessionPerKey(t *testing.T) {
	k, create := newTestKeys(t, time.Second)
	var mu sync.Mutex
	made := 0
	slow := func() (*session.Link, error) {
		time.Sleep(20 * time.Millisecond) // the app's handler runs here
		mu.Lock()
		made++
		mu.Unlock()
		return create()
	}
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, _, err := k.open("k", slow)
			if err == nil {
				ids[i] = l.Session().ID()
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("sessions %v, want one", ids)
		}
	}
	if made != 1 {
		t.Fatalf("%d sessions made", made)
	}
}

func TestSockJSKeysFailedCreate(t *testing.T) {
	k, create := newTestKeys(t, time.Second)
	boom := errors.New("boom")
	if _, _, err := k.open("k", func() (*session.Link, error) { return nil, boom }); err != boom {
		t.Fatalf("error %v", err)
	}
	if k.len() != 0 {
		t.Fatal("a failed creation left its key")
	}
	if _, ok := k.find("k"); ok {
		t.Fatal("found a session that was never made")
	}
	if _, created, err := k.open("k", create); err != nil || !created {
		t.Fatalf("open after a failure: %v, %v", created, err)
	}
}

// TestSockJSKeysShrink: once half of the most keys held are dropped, the
// key map is rebuilt at its live size; the keys left still find their
// sessions.
func TestSockJSKeysShrink(t *testing.T) {
	k, create := newTestKeys(t, time.Hour)
	keys := make([]string, 2*memtrim.MinDrop)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
		if _, _, err := k.open(keys[i], create); err != nil {
			t.Fatal(err)
		}
	}
	drop := func(key string) {
		k.mu.Lock()
		e := k.m[key]
		k.mu.Unlock()
		k.drop(key, e)
	}
	for _, key := range keys[:memtrim.MinDrop-1] {
		drop(key)
	}
	if k.high.High() != 2*memtrim.MinDrop {
		t.Fatalf("rebuilt early: high %d with %d keys", k.high.High(), k.len())
	}
	drop(keys[memtrim.MinDrop-1])
	if k.high.High() != memtrim.MinDrop || k.len() != memtrim.MinDrop {
		t.Fatalf("not rebuilt at half: high %d with %d keys", k.high.High(), k.len())
	}
	for _, key := range keys[memtrim.MinDrop:] {
		if _, ok := k.find(key); !ok {
			t.Fatalf("key %s lost in the rebuild", key)
		}
	}
}
