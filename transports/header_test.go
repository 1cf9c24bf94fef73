package transports

import (
	"net/http"
	"net/http/httptest"
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

// WriteAnswer writes every kind of answer with status 200 and the same
// headers: its type, never stored, never sniffed.
func TestWriteAnswer(t *testing.T) {
	for name, c := range map[string]struct {
		write func(w http.ResponseWriter)
		body  string
	}{
		"close": {func(w http.ResponseWriter) { WriteClose(w, Native{}, 4200, "gone") }, "c4200:\"gone\"\n"},
		"plain": {func(w http.ResponseWriter) { WriteAnswer(w, textPlain, []byte("a1\n")) }, "a1\n"},
	} {
		w := httptest.NewRecorder()
		c.write(w)
		h := w.Result().Header
		if w.Code != http.StatusOK || w.Body.String() != c.body {
			t.Errorf("%s: %d %q, want 200 %q", name, w.Code, w.Body, c.body)
		}
		if h.Get("Content-Type") != textPlain || h.Get("Cache-Control") != noStore {
			t.Errorf("%s: headers %v", name, h)
		}
		if got := h.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", name, got)
		}
	}
}
