package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/tether-rt/tether/protocol"
)

// streamBase is what the carriers that read one long answer across many
// receive calls share (streaming, eventsource): the answer itself, read
// line by line, and the handling of its deadline.
//
// The answer must outlive each receive call, whose context ends when the
// call returns, so it runs under the carrier's own context instead, and
// each receive arranges for its context (whose deadline is the dead-peer
// timeout) to abort the answer if it ends while the call waits.
type streamBase struct {
	httpBase
	life  context.Context // ends with close
	end   context.CancelFunc
	check func(*http.Response) error // refuses an answer of the wrong kind; nil accepts all

	// The current answer, or none. Only the receiving goroutine touches
	// these; close only ends life, which aborts the answer under it.
	abort context.CancelFunc
	body  io.ReadCloser
	lines *bufio.Reader
}

// streamBuffer is the read buffer of an answer; longer lines are still
// read whole, by pieces.
const streamBuffer = 64 << 10

func newStreamBase(name string, base *url.URL, o *Options) streamBase {
	life, end := context.WithCancel(context.Background())
	return streamBase{httpBase: newHTTPBase(name, base, o), life: life, end: end}
}

// receiveStream returns next's frames from the current answer, first
// opening one with the request open builds when none is open. next may end
// the answer (drop) when it has read all of it; an error drops it too.
func (s *streamBase) receiveStream(ctx context.Context, open func(context.Context) (*http.Request, error),
	next func() ([]protocol.Frame, error)) ([]protocol.Frame, error) {
	var actx context.Context
	if s.body == nil {
		actx, s.abort = context.WithCancel(s.life)
	}
	stop := context.AfterFunc(ctx, s.abort)
	frames, err := func() ([]protocol.Frame, error) {
		if s.body == nil {
			if err := s.start(actx, open); err != nil {
				return nil, err
			}
		}
		return next()
	}()
	if !stop() || err != nil {
		// ctx ended while the answer was read: it was aborted, and may
		// have lost a partial line.
		s.drop()
	}
	return frames, err
}

// start opens an answer; anything but a 200 is refused.
func (s *streamBase) start(ctx context.Context, open func(context.Context) (*http.Request, error)) error {
	req, err := open(ctx)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return &statusError{status: resp.StatusCode, reason: reason(body)}
	}
	if s.check != nil {
		if err := s.check(resp); err != nil {
			resp.Body.Close()
			return err
		}
	}
	s.body = resp.Body
	s.lines = bufio.NewReaderSize(resp.Body, streamBuffer)
	return nil
}

// drop ends the current answer, if any.
func (s *streamBase) drop() {
	if s.body != nil {
		s.body.Close()
		s.body, s.lines = nil, nil
	}
	if s.abort != nil {
		s.abort()
		s.abort = nil
	}
}

// line returns the next line of the answer without its end of line (LF or
// CRLF), as a copy. At the end of the answer it returns io.EOF, or
// io.ErrUnexpectedEOF after a partial line.
func (s *streamBase) line() ([]byte, error) {
	var out []byte
	for {
		part, err := s.lines.ReadSlice('\n')
		out = append(out, part...)
		switch {
		case err == nil:
			out = bytes.TrimSuffix(out[:len(out)-1], []byte("\r"))
			return out, nil
		case errors.Is(err, bufio.ErrBufferFull):
			if len(out) > maxBodyBytes {
				return nil, errors.New("tether: line over 32 MiB in a stream")
			}
		case err == io.EOF && len(out) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// lineBuffered reports whether a whole line is ready to be read without
// waiting, so that a receive call can take every frame a flush delivered.
func (s *streamBase) lineBuffered() bool {
	b, _ := s.lines.Peek(s.lines.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

// drain reads what is left of an answer that is over, up to a few bytes:
// reading its end means the server finished the request, so its receiver
// is detached and a new request will not be refused as a second receiver.
func (s *streamBase) drain() {
	io.Copy(io.Discard, io.LimitReader(s.lines, 4<<10))
	s.drop()
}

// close ends the current answer, whichever goroutine is reading it.
func (s *streamBase) close() { s.end() }
