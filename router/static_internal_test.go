package router

import "testing"

// Two routers serve the client from one copy of its builds.
func TestClientAssetsShared(t *testing.T) {
	a, b := New(nil, nil), New(nil, nil)
	t.Cleanup(func() { a.Shutdown(t.Context()); b.Shutdown(t.Context()) })
	for name, x := range a.assets {
		y, ok := b.assets[name]
		if !ok || len(x.body) == 0 || &x.body[0] != &y.body[0] || x.etag != y.etag {
			t.Errorf("%s: each router holds its own copy", name)
		}
	}
	if len(a.assets) != 3 {
		t.Fatalf("%d builds, want 3", len(a.assets))
	}
}
