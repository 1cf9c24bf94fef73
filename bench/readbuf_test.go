package bench

import (
	"errors"
	"io"
	"testing"
)

// emptyReader returns nothing and no error, forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// A source that never returns a byte nor an error fails both readers
// instead of spinning them.
func TestReadersGiveUpOnNoProgress(t *testing.T) {
	var l lineReader
	l.reset(emptyReader{})
	if _, _, err := l.next(true); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("line reader: %v", err)
	}
	var p respReader
	p.reset(emptyReader{})
	if _, _, _, err := p.read(); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("answer reader: %v", err)
	}
}

// Growing keeps what was read and adds after it.
func TestReadMoreGrowsAndKeeps(t *testing.T) {
	b := readBuf{src: &chunks{parts: []string{"abc", "def"}}}
	if n, err := b.readMore(4); n != 3 || err != nil || len(b.buf) != 4 {
		t.Fatalf("first read: %d %v, buffer %d", n, err, len(b.buf))
	}
	if n, err := b.readMore(16); n != 3 || err != nil || len(b.buf) != 16 || string(b.buf[:b.w]) != "abcdef" {
		t.Fatalf("second read: %d %v, %q", n, err, b.buf[:b.w])
	}
	if _, err := b.readMore(16); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

// chunks returns its parts one per read, then io.EOF.
type chunks struct{ parts []string }

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	c.parts[0] = c.parts[0][n:]
	if c.parts[0] == "" {
		c.parts = c.parts[1:]
	}
	return n, nil
}
