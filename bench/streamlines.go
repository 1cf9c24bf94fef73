package bench

import (
	"bytes"
	"errors"
	"io"
)

// Line buffer bounds of a stream reader: it starts small, so that many
// idle streaming sessions stay cheap, and grows only for a line that does
// not fit, up to the longest line a stream may carry.
const (
	streamBufMin = 64 << 10
	streamBufMax = 1 << 20
)

var errLineTooLong = errors.New("stream line over 1 MiB")

// lineReader splits a streaming answer into lines, one line being up to
// 1 MiB (a batch of many messages on one line): its buffer starts at 64
// KiB and grows only for such a line, where a bufio.Reader would need the
// largest size from the start, for every connection. It is reset onto the
// next answer with its buffer (a session re-opens its stream at every
// MaxStreamBytes).
type lineReader struct {
	readBuf
	scanned int // buf[r:scanned] holds no newline
}

// reset points l at src, dropping what was left of the previous answer.
func (l *lineReader) reset(src io.Reader) {
	l.src, l.r, l.w, l.scanned = src, 0, 0, 0
	if l.buf == nil {
		l.buf = make([]byte, streamBufMin)
	}
}

// next returns the next line without its newline, valid until the next
// call. With wait false it returns ok false instead of reading when no
// whole line is buffered. At the end of the answer it returns io.EOF (a
// last line without a newline is dropped: only a cut answer ends so).
func (l *lineReader) next(wait bool) (line []byte, ok bool, err error) {
	for {
		if i := bytes.IndexByte(l.buf[l.scanned:l.w], '\n'); i >= 0 {
			end := l.scanned + i
			line = l.buf[l.r:end]
			l.r, l.scanned = end+1, end+1
			return line, true, nil
		}
		l.scanned = l.w
		if !wait {
			return nil, false, nil
		}
		if err := l.fill(); err != nil {
			return nil, false, err
		}
	}
}

// fill reads once more, first making room: the partial line moves to the
// front, and the buffer doubles when the line fills it.
func (l *lineReader) fill() error {
	if l.r > 0 {
		n := copy(l.buf, l.buf[l.r:l.w])
		l.scanned -= l.r
		l.r, l.w = 0, n
	}
	size := len(l.buf)
	if l.w == size {
		if size >= streamBufMax {
			return errLineTooLong
		}
		size = min(2*size, streamBufMax)
	}
	_, err := l.readMore(size)
	return err
}

// discard drops what is buffered and reads on until n bytes in all are
// skipped or the answer ends.
func (l *lineReader) discard(n int64) {
	skipped := int64(l.w - l.r)
	l.r, l.w, l.scanned = 0, 0, 0
	if skipped < n {
		io.Copy(io.Discard, io.LimitReader(l.src, n-skipped))
	}
}
