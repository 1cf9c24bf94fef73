package bench

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll collects every line of src, waiting for each.
func readAll(t *testing.T, l *lineReader, src io.Reader) ([]string, error) {
	t.Helper()
	l.reset(src)
	var lines []string
	for {
		line, ok, err := l.next(true)
		if err != nil {
			return lines, err
		}
		if !ok {
			t.Fatal("next(true) returned neither a line nor an error")
		}
		lines = append(lines, string(line))
	}
}

func TestLineReaderSplitsAcrossReads(t *testing.T) {
	in := "h\nm1:\"a\"\n\nm2:\"bc\"\r\nlast without newline"
	var l lineReader
	got, err := readAll(t, &l, iotest.OneByteReader(strings.NewReader(in)))
	if err != io.EOF {
		t.Fatalf("err = %v, want io.EOF", err)
	}
	want := []string{"h", `m1:"a"`, "", "m2:\"bc\"\r"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines = %q, want %q", got, want)
	}
}

func TestLineReaderNoWaitReturnsOnlyBufferedLines(t *testing.T) {
	var l lineReader
	l.reset(strings.NewReader("a\nb\npartial"))
	line, ok, err := l.next(true)
	if err != nil || !ok || string(line) != "a" {
		t.Fatalf("first line = %q %v %v", line, ok, err)
	}
	if line, ok, _ = l.next(false); !ok || string(line) != "b" {
		t.Fatalf("second line = %q %v", line, ok)
	}
	if line, ok, err = l.next(false); ok || err != nil {
		t.Fatalf("a partial line came back without waiting: %q %v %v", line, ok, err)
	}
}

func TestLineReaderGrowsForLongLinesAndKeepsItsBuffer(t *testing.T) {
	long := strings.Repeat("x", 3*streamBufMin)
	var l lineReader
	got, err := readAll(t, &l, strings.NewReader("a\n"+long+"\nb\n"))
	if err != io.EOF || len(got) != 3 || got[1] != long || got[2] != "b" {
		t.Fatalf("got %d lines, err %v", len(got), err)
	}
	grown := &l.buf[0]
	// The next answer reuses the grown buffer and starts clean.
	got, err = readAll(t, &l, strings.NewReader("c\n"))
	if err != io.EOF || len(got) != 1 || got[0] != "c" || &l.buf[0] != grown {
		t.Fatalf("after reset: %q %v, same buffer %v", got, err, &l.buf[0] == grown)
	}
}

func TestLineReaderRefusesLinesOverTheLimit(t *testing.T) {
	var l lineReader
	_, err := readAll(t, &l, bytes.NewReader(bytes.Repeat([]byte("y"), streamBufMax+1)))
	if !errors.Is(err, errLineTooLong) {
		t.Fatalf("err = %v, want errLineTooLong", err)
	}
}

func TestLineReaderDiscardSkipsBufferedAndUnread(t *testing.T) {
	src := strings.NewReader("a\n" + strings.Repeat("z", 100))
	var l lineReader
	l.reset(src)
	if _, ok, _ := l.next(true); !ok {
		t.Fatal("no first line")
	}
	l.discard(1 << 10)
	if src.Len() != 0 {
		t.Fatalf("%d bytes left unread", src.Len())
	}
}
