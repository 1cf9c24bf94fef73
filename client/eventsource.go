package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tether-rt/tether/protocol"
)

// eventSource receives server-sent events from GET /eventsource and sends
// with the shared HTTP send path (SPEC.md §5). It reads the stream the way
// a browser's EventSource does, so that `tether dial -transport
// eventsource` exercises what pages rely on:
//
//   - the token goes in the query, since EventSource cannot send headers;
//   - every event is one frame (`data: <frame>`); message events carry
//     `id: <seq>`; comments (the 2 KiB prelude) and `retry:` are skipped;
//   - at its byte limit the server simply ends the answer, and the carrier
//     reconnects to the same URL with `Last-Event-ID: <last id seen>`,
//     which the server takes as the ack when larger than the query's.
//
// Unlike a browser, it reconnects at once (the server's retry is 100 ms)
// and only after an answer that ended cleanly; a cut answer is a lost
// carrier, and the Conn resumes the session with a handshake.
type eventSource struct {
	streamBase
	url    *url.URL // fixed by the first receive, as a browser's is
	lastID string   // the last event id dispatched, kept across answers
	nextID string   // the id of the event being read
	data   []byte   // the data lines of the event being read, each + "\n"
	events int      // events dispatched from the current answer
}

var _ carrier = (*eventSource)(nil)

func newEventSource(base *url.URL, o *Options) *eventSource {
	e := &eventSource{streamBase: newStreamBase(protocol.EventSource, base, o)}
	e.check = checkEventStream
	return e
}

func (e *eventSource) receive(ctx context.Context, ack uint64) ([]protocol.Frame, error) {
	return e.receiveStream(ctx, func(ctx context.Context) (*http.Request, error) {
		if e.url == nil {
			e.url = endpoint(e.base, protocol.EventSource, false)
			e.url.RawQuery = url.Values{
				"sid": {e.sid}, "ack": {strconv.FormatUint(ack, 10)}, "token": {e.token},
			}.Encode()
		}
		req, err := e.request(ctx, http.MethodGet, e.url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Del(tokenHeader) // in the query, as a browser must
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Cache-Control", "no-cache")
		if e.lastID != "" {
			req.Header.Set("Last-Event-ID", e.lastID)
		}
		e.nextID, e.data, e.events = e.lastID, nil, 0
		return req, nil
	}, e.next)
}

// next reads lines until it has dispatched events and no whole line is
// left in the buffer.
func (e *eventSource) next() ([]protocol.Frame, error) {
	var frames []protocol.Frame
	for {
		line, err := e.line()
		if err == io.EOF {
			if e.events == 0 {
				return nil, errors.New("tether: the event stream ended without an event")
			}
			e.drop() // the next receive reconnects with Last-Event-ID
			return frames, nil
		}
		if err != nil {
			return nil, err
		}
		f, ok, err := e.parse(line)
		if err != nil {
			return nil, err
		}
		if ok {
			frames = append(frames, f)
		}
		if len(frames) > 0 && !e.lineBuffered() {
			return frames, nil
		}
	}
}

// parse takes one line of the stream (the WHATWG "event stream
// interpretation") and returns the frame of the event a blank line ends.
func (e *eventSource) parse(line []byte) (protocol.Frame, bool, error) {
	if len(line) == 0 {
		// Dispatch: the id is the last one even for an event without data.
		e.lastID = e.nextID
		data := e.data
		e.data = nil // frames may point into data
		if len(data) == 0 {
			return protocol.Frame{}, false, nil
		}
		e.events++
		f, err := protocol.DecodeFrame(data[:len(data)-1])
		return f, err == nil, err
	}
	if line[0] == ':' {
		return protocol.Frame{}, false, nil // a comment: the prelude
	}
	field, value, _ := bytes.Cut(line, []byte(":"))
	value = bytes.TrimPrefix(value, []byte(" "))
	switch string(field) {
	case "data":
		e.data = append(append(e.data, value...), '\n')
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			e.nextID = string(value)
		}
	}
	// retry: the server's hint is for browsers; event: is not used.
	return protocol.Frame{}, false, nil
}

// checkEventStream refuses an answer that is not text/event-stream, as a
// browser's EventSource does, whatever the body says: a server must answer
// even its refusals (c4200) as events for pages to see them.
func checkEventStream(resp *http.Response) error {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "text/event-stream" {
		return errors.New("tether: eventsource answered with Content-Type " + strconv.Quote(resp.Header.Get("Content-Type")))
	}
	return nil
}
