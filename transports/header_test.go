package transports

import (
	"net/http"
	"slices"
	"testing"
)

// SetHeaders sets every pair, and an Add to one key leaves the next key's
// value alone although the values share one allocation.
func TestSetHeaders(t *testing.T) {
	h := http.Header{}
	SetHeaders(h, "Content-Type", "text/plain", "Cache-Control", "no-store", "X-A", "a")
	h.Add("Content-Type", "extra")
	h.Add("Cache-Control", "more")
	want := http.Header{
		"Content-Type":  {"text/plain", "extra"},
		"Cache-Control": {"no-store", "more"},
		"X-A":           {"a"},
	}
	for k, v := range want {
		if !slices.Equal(h[k], v) {
			t.Errorf("%s = %q, want %q", k, h[k], v)
		}
	}
	if len(h) != len(want) {
		t.Errorf("header %v, want %v", h, want)
	}
	if n := testing.AllocsPerRun(100, func() {
		SetHeaders(http.Header{}, "Content-Type", "text/plain", "Cache-Control", "no-store")
	}); n > 2 { // the values, and the map's first group
		t.Errorf("SetHeaders made %v allocations, want at most 2", n)
	}
}
