package leakcheck

import (
	"strings"
	"testing"
	"time"
)

// parkedForLeakcheck is a named function so its frame marks the goroutine;
// not inlined, so the frame exists.
//
//go:noinline
func parkedForLeakcheck(started chan<- struct{}, stop <-chan struct{}) {
	close(started)
	<-stop
}

func TestWaitSeesALiveGoroutineAndItsEnd(t *testing.T) {
	started, stop, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() { parkedForLeakcheck(started, stop); close(done) }()
	<-started

	err := Wait(50*time.Millisecond, "parkedForLeakcheck")
	if err == nil || !strings.Contains(err.Error(), "parkedForLeakcheck") {
		t.Fatalf("Wait with a parked goroutine = %v, want its stack", err)
	}
	if got := Goroutines("no such frame anywhere"); len(got) != 0 {
		t.Fatalf("Goroutines matched %d stacks for an absent mark", len(got))
	}
	close(stop)
	<-done
	if err := Wait(time.Second, "parkedForLeakcheck"); err != nil {
		t.Fatalf("Wait after the goroutine ended: %v", err)
	}
}
