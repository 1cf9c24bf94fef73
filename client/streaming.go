package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tether-rt/tether/protocol"
)

// streaming receives on one chunked GET /streaming answer, a batch per
// flush, for proxies that break WebSocket but pass a long answer through
// (SPEC.md §5). Sends use the shared HTTP send path.
//
// The answer starts with 2 KiB of `h` lines (browsers hold back the first
// bytes of an answer) and carries `h` every heartbeat interval after that;
// all of them only prove the stream alive, so a receive reports at most one.
// At the server's byte limit the answer ends with c4101: that is not the
// end of the carrier, only of one answer, and the next receive opens a new
// one on the same session with the ack it has by then. The server trims
// its log to that ack and goes on, so no handshake is needed.
type streaming struct {
	streamBase
}

var _ carrier = (*streaming)(nil)

func newStreaming(base *url.URL, o *Options) *streaming {
	return &streaming{streamBase: newStreamBase(protocol.Streaming, base, o)}
}

func (s *streaming) receive(ctx context.Context, ack uint64) ([]protocol.Frame, error) {
	return s.receiveStream(ctx, func(ctx context.Context) (*http.Request, error) {
		u := endpoint(s.base, protocol.Streaming, false)
		u.RawQuery = url.Values{"sid": {s.sid}, "ack": {strconv.FormatUint(ack, 10)}}.Encode()
		return s.request(ctx, http.MethodGet, u, nil)
	}, s.next)
}

// errStreamEnded is an answer that ended without a close frame: a proxy or
// the network cut it, and the session must be resumed.
var errStreamEnded = errors.New("tether: the stream ended without a close frame")

// next reads the lines a flush delivered: at least one, then every whole
// line already buffered.
func (s *streaming) next() ([]protocol.Frame, error) {
	var frames []protocol.Frame
	beat := false
	for {
		line, err := s.line()
		if err == io.EOF {
			err = errStreamEnded
		}
		if err != nil {
			return nil, err
		}
		if len(line) > 0 {
			f, err := protocol.DecodeFrame(line)
			if err != nil {
				return nil, err
			}
			switch {
			case f.Type == protocol.FrameHeartbeat:
				beat = true
			case f.Type == protocol.FrameClose && f.Code == protocol.CloseStreamLimit:
				s.drain()
				return withBeat(frames, true), nil
			default:
				frames = append(frames, f)
			}
		}
		if !s.lineBuffered() {
			return withBeat(frames, beat), nil
		}
	}
}

// withBeat adds one heartbeat to a receive that got nothing else but saw
// the stream alive, so the Conn counts it as progress.
func withBeat(frames []protocol.Frame, beat bool) []protocol.Frame {
	if beat && len(frames) == 0 {
		return []protocol.Frame{{Type: protocol.FrameHeartbeat}}
	}
	return frames
}
