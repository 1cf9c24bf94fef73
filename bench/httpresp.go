package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Bounds of one answer. A head over maxHead or a body over maxBody is an
// error, not a truncation: a load generator that silently cut answers
// would count what it never checked.
const (
	respMaxHead = 64 << 10
	respMaxBody = 32 << 20
	respMaxLine = 4 << 10  // one chunk-size line
	respBufMin  = 4 << 10  // the read buffer's first size
	respBufKeep = 64 << 10 // a buffer grown past this is dropped after its answer
)

var (
	errHeadTooLarge = errors.New("http: response head over 64 KiB")
	errBodyTooLarge = errors.New("http: response body over the limit")
	errLineTooLarge = errors.New("http: chunk-size line over 4 KiB")
)

// respReader reads HTTP/1.1 answers from one connection into one reused
// buffer: the status, the three headers that frame a body or end a
// connection (Content-Length, Transfer-Encoding, Connection), and the
// body, de-chunked in place. Other headers are skipped unread.
type respReader struct {
	readBuf
	started int // bytes of the current answer received (0: none yet)

	maxBody int // 0: respMaxBody (tests set less)
}

// respHead is what read needs from a head.
type respHead struct {
	status    int
	length    int64 // Content-Length; -1 when absent
	chunked   bool
	close     bool // Connection: close
	keepAlive bool // Connection: keep-alive (HTTP/1.0)
	http10    bool
}

// reset points p at a new connection.
func (p *respReader) reset(src io.Reader) {
	p.src, p.r, p.w, p.started = src, 0, 0, 0
}

// buffered is how many bytes were received past the last answer: on a
// connection that carries one request at a time, bytes nobody asked for.
func (p *respReader) buffered() int { return p.w - p.r }

func (p *respReader) bodyLimit() int {
	if p.maxBody > 0 {
		return p.maxBody
	}
	return respMaxBody
}

// read reads one answer and returns its status, its body (valid until the
// next read) and whether the connection may carry another request.
// Interim answers (1xx but 101) are skipped.
func (p *respReader) read() (status int, body []byte, keep bool, err error) {
	switch {
	case p.r == p.w:
		p.r, p.w = 0, 0
		if len(p.buf) > respBufKeep {
			p.buf = nil
		}
	case p.r > 0:
		p.w = copy(p.buf, p.buf[p.r:p.w])
		p.r = 0
	}
	p.started = p.w
	for {
		h, err := p.head()
		if err != nil {
			return 0, nil, false, err
		}
		if h.status >= 100 && h.status < 200 && h.status != 101 {
			continue
		}
		keep = !h.close && (!h.http10 || h.keepAlive)
		switch {
		case h.status == 204 || h.status == 304 || h.status < 200:
			body = p.buf[p.r:p.r]
		case h.chunked:
			body, err = p.chunked()
			keep = keep && h.length < 0 // both framings: trust neither again
		case h.length >= 0:
			body, err = p.fixed(h.length)
		default:
			body, err = p.untilClose()
			keep = false
		}
		if err != nil {
			return 0, nil, false, err
		}
		return h.status, body, keep, nil
	}
}

// fill reads at least one more byte, first growing the buffer to want
// bytes when it is smaller, or doubling it when it is full. An answer
// that ends once begun is cut short: io.ErrUnexpectedEOF.
func (p *respReader) fill(want int) error {
	size := len(p.buf)
	if want > size || p.w == size {
		size = max(want, 2*size, respBufMin)
	}
	n, err := p.readMore(size)
	p.started += n
	if err == io.EOF && p.started > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

// line returns the line at pos without its line end (CRLF or LF) and the
// offset after it, reading more as needed; a line that does not end before
// offset limit is tooLong.
func (p *respReader) line(pos, limit int, tooLong error) (line []byte, next int, err error) {
	scanned := pos
	for {
		if i := bytes.IndexByte(p.buf[scanned:p.w], '\n'); i >= 0 {
			end := scanned + i
			next = end + 1
			if next > limit {
				return nil, 0, tooLong
			}
			if end > pos && p.buf[end-1] == '\r' {
				end--
			}
			return p.buf[pos:end], next, nil
		}
		scanned = p.w
		if p.w >= limit {
			return nil, 0, tooLong
		}
		if err := p.fill(0); err != nil {
			return nil, 0, err
		}
	}
}

// head reads a head and leaves p.r at the body.
func (p *respReader) head() (h respHead, err error) {
	start := p.r
	limit := start + respMaxHead
	line, next, err := p.line(start, limit, errHeadTooLarge)
	if err != nil {
		return h, err
	}
	if h.status, h.http10, err = parseStatusLine(line); err != nil {
		return h, err
	}
	h.length = -1
	for {
		line, next, err = p.line(next, limit, errHeadTooLarge)
		if err != nil {
			return h, err
		}
		if len(line) == 0 {
			break
		}
		if err := h.header(line); err != nil {
			return h, err
		}
	}
	p.r = next
	return h, nil
}

// header takes in one header line.
func (h *respHead) header(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		return fmt.Errorf("http: folded header line %.60q", line)
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 {
		return fmt.Errorf("http: malformed header line %.60q", line)
	}
	value = bytes.Trim(value, " \t")
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, ok := parseDecimal(value)
		if !ok {
			return fmt.Errorf("http: bad Content-Length %.40q", value)
		}
		if h.length >= 0 && n != h.length {
			return fmt.Errorf("http: conflicting Content-Length %d and %d", h.length, n)
		}
		h.length = n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		switch {
		case bytes.EqualFold(value, []byte("chunked")):
			h.chunked = true
		case bytes.EqualFold(value, []byte("identity")):
		default:
			return fmt.Errorf("http: unsupported Transfer-Encoding %.40q", value)
		}
	case bytes.EqualFold(name, []byte("Connection")):
		for len(value) > 0 {
			var tok []byte
			tok, value, _ = bytes.Cut(value, []byte(","))
			tok = bytes.Trim(tok, " \t")
			switch {
			case bytes.EqualFold(tok, []byte("close")):
				h.close = true
			case bytes.EqualFold(tok, []byte("keep-alive")):
				h.keepAlive = true
			}
		}
	}
	return nil
}

// parseStatusLine reads "HTTP/1.x NNN[ reason]".
func parseStatusLine(line []byte) (status int, http10 bool, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, false, fmt.Errorf("http: malformed status line %.60q", line)
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, false, fmt.Errorf("http: malformed status line %.60q", line)
		}
		status = status*10 + int(d-'0')
	}
	switch line[7] {
	case '0':
		http10 = true
	case '1':
	default:
		return 0, false, fmt.Errorf("http: unsupported version in %.60q", line)
	}
	if status < 100 {
		return 0, false, fmt.Errorf("http: malformed status line %.60q", line)
	}
	return status, http10, nil
}

// parseDecimal reads a Content-Length: decimal digits only (ParseUint
// refuses a sign), at most what an int64 holds. The conversion to string
// does not allocate: it stays on the stack, as strconv copies the text it
// keeps in an error (TestParseHelpersDoNotAllocate).
func parseDecimal(b []byte) (int64, bool) {
	n, err := strconv.ParseUint(string(b), 10, 63)
	return int64(n), err == nil
}

// fixed reads a body of n bytes.
func (p *respReader) fixed(n int64) ([]byte, error) {
	if n > int64(p.bodyLimit()) {
		return nil, fmt.Errorf("%w: Content-Length %d", errBodyTooLarge, n)
	}
	end := p.r + int(n)
	for p.w < end {
		if err := p.fill(end); err != nil {
			return nil, err
		}
	}
	body := p.buf[p.r:end]
	p.r = end
	return body, nil
}

// chunked reads a chunked body and decodes it in place: each chunk's
// data moves down over the size line before it, so the body ends up in
// one piece at the front and the buffer holds at most one chunk's
// framing beyond it. Chunk extensions and trailers are skipped.
func (p *respReader) chunked() ([]byte, error) {
	start, out, pos := p.r, p.r, p.r
	for {
		line, next, err := p.line(pos, pos+respMaxLine, errLineTooLarge)
		if err != nil {
			return nil, err
		}
		size, ok := parseChunkSize(line)
		if !ok {
			return nil, fmt.Errorf("http: bad chunk size line %.40q", line)
		}
		if size == 0 {
			limit := next + respMaxHead    // for all the trailers together
			for pos = next; ; pos = next { // trailers, up to the empty line
				if line, next, err = p.line(pos, limit, errHeadTooLarge); err != nil {
					return nil, err
				}
				if len(line) == 0 {
					p.r = next
					return p.buf[start:out], nil
				}
			}
		}
		if int64(out-start)+size > int64(p.bodyLimit()) {
			return nil, fmt.Errorf("%w: chunked body over %d bytes", errBodyTooLarge, p.bodyLimit())
		}
		// Drop the framing between the body so far and this chunk's data.
		p.w = out + copy(p.buf[out:], p.buf[next:p.w])
		end := out + int(size) + 2
		for p.w < end {
			if err := p.fill(end); err != nil {
				return nil, err
			}
		}
		if p.buf[end-2] != '\r' || p.buf[end-1] != '\n' {
			return nil, errors.New("http: chunk data not followed by CRLF")
		}
		out = end - 2
		pos = end
	}
}

// parseChunkSize reads a chunk-size line: hex digits, then optional
// extensions after ';'. It is at most 2^62-1, so that the body so far
// plus one chunk cannot overflow before the body limit is checked.
func parseChunkSize(line []byte) (int64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	n, err := strconv.ParseUint(string(bytes.Trim(line, " \t")), 16, 62)
	return int64(n), err == nil
}

// untilClose reads a body that ends with the connection.
func (p *respReader) untilClose() ([]byte, error) {
	for {
		if p.w-p.r > p.bodyLimit() {
			return nil, fmt.Errorf("%w: body over %d bytes", errBodyTooLarge, p.bodyLimit())
		}
		err := p.fill(0)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	body := p.buf[p.r:p.w]
	p.r = p.w
	return body, nil
}
