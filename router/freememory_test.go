package router

import (
	"context"
	"testing"
	"time"

	"github.com/tether-rt/tether/session"
)

// TestFreeMemoryIntervalReachesRegistry: both dialects hand
// FreeMemoryInterval to their registry, and leave its default alone.
func TestFreeMemoryIntervalReachesRegistry(t *testing.T) {
	for _, c := range []struct {
		set, want time.Duration
	}{{0, session.DefaultFreeMemoryInterval}, {-1, -1}, {time.Minute, time.Minute}} {
		rt := New(nil, &Options{FreeMemoryInterval: c.set})
		sj := NewSockJS("/s", nil, &SockJSOptions{FreeMemoryInterval: c.set})
		if got := rt.reg.Options().FreeMemoryInterval; got != c.want {
			t.Errorf("native, set %v: %v, want %v", c.set, got, c.want)
		}
		if got := sj.reg.Options().FreeMemoryInterval; got != c.want {
			t.Errorf("SockJS, set %v: %v, want %v", c.set, got, c.want)
		}
		rt.Shutdown(context.Background())
		sj.Shutdown(context.Background())
	}
}
