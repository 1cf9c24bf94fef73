package bench

import "io"

// readBuf is the read buffer under both readers of answers, respReader
// (whole HTTP answers) and lineReader (a stream's lines): each decides
// when to compact or grow its buffer, and both read the same way.
type readBuf struct {
	src  io.Reader
	buf  []byte
	r, w int // unread bytes are buf[r:w]
}

// maxEmptyReads bounds the reads in a row that return nothing and no
// error, as bufio does, so that a broken reader fails instead of spinning.
const maxEmptyReads = 100

// readMore reads at least one byte into buf[w:], first growing the buffer
// to size bytes (keeping buf[:w]) when it is smaller, and returns how many
// came. The caller makes sure there is room.
func (b *readBuf) readMore(size int) (int, error) {
	if size > len(b.buf) {
		grown := make([]byte, size)
		copy(grown, b.buf[:b.w])
		b.buf = grown
	}
	for range maxEmptyReads {
		n, err := b.src.Read(b.buf[b.w:])
		b.w += n
		if n > 0 {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, io.ErrNoProgress
}
