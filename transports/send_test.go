package transports

import (
	"errors"
	"strings"
	"testing"
)

// TestReadBody: a declared length sizes the read; an unknown or excessive
// one falls back to ReadLimited's bound; a body shorter than declared is
// an error.
func TestReadBody(t *testing.T) {
	cases := []struct {
		body    string
		size    int64
		want    string
		wantErr error
	}{
		{"hello", 5, "hello", nil},
		{"hello", -1, "hello", nil},
		{"", 0, "", nil},
		{"0123456789", -1, "", ErrBodyTooBig},
		{"0123456789", 10, "", ErrBodyTooBig},
	}
	for _, c := range cases {
		got, err := readBody(strings.NewReader(c.body), c.size, 8)
		if !errors.Is(err, c.wantErr) || string(got) != c.want {
			t.Errorf("readBody(%q, %d) = %q, %v; want %q, %v", c.body, c.size, got, err, c.want, c.wantErr)
		}
	}
	if b, err := readBody(strings.NewReader("abc"), 5, 8); err == nil {
		t.Errorf("a body shorter than declared read as %q", b)
	}
	if b, _ := readBody(strings.NewReader("abc"), 3, 8); cap(b) != 3 {
		t.Errorf("declared length 3 read into %d bytes of capacity", cap(b))
	}
}
