package client

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/tether-rt/tether/protocol"
)

// A carrier is one attachment of a session to the server: one WebSocket,
// or the requests of one HTTP carrier. The Conn makes a new carrier for
// every attempt, so a carrier never has to be reused after close. Each
// carrier lives in its own file, because the session logic (numbering,
// acks, replay, resume) is the same for all of them and lives in the Conn.
//
// Concurrency: receive is called from one goroutine and send from another,
// possibly at the same time; close may be called at any time, from a third,
// and must unblock both.
type carrier interface {
	// handshake opens a session (h.SID empty) or resumes one, and returns
	// the server's open frame plus any frames that came with it. A refusal
	// is a *HandshakeError. The carrier fills in h.V and h.Transport.
	handshake(ctx context.Context, h protocol.Hello) (protocol.Open, []protocol.Frame, error)

	// receive waits for the next frames from the server. ack is the
	// client's cumulative ack, which HTTP carriers put in the request.
	// ctx's deadline is the dead-peer timeout.
	receive(ctx context.Context, ack uint64) ([]protocol.Frame, error)

	// send writes one batch and returns the frames of the server's answer
	// when the carrier has one (HTTP: a<in>, or a close frame; longpoll and
	// polling: then server messages too, SPEC.md §5). The Conn handles
	// them as it handles receive answers.
	send(ctx context.Context, batch []byte) ([]protocol.Frame, error)

	// close releases the carrier's connection.
	close()
}

// pauser is implemented by carriers that wait between receive requests
// (polling). The Conn reads the ack for the next request once the pause
// is over, so that the request counts what arrived meanwhile: messages a
// send answer carried, which the server would otherwise hand out again.
type pauser interface {
	carrier
	// pause waits before the next receive; ctx's deadline is the
	// dead-peer timeout of that receive.
	pause(ctx context.Context) error
}

// answerWatcher is implemented by carriers that act on a send answer
// after the Conn has handled its frames (polling hurries its next poll
// when the answer says more is waiting, SPEC.md §5).
type answerWatcher interface {
	carrier
	answered(frames []protocol.Frame)
}

// duplex is implemented by carriers whose send path is the receiving
// connection itself (WebSocket). The server hears nothing else from them,
// so the client must write at least once per heartbeat interval and acks
// travel as frames instead of in request queries (SPEC.md §3, §6).
type duplex interface {
	carrier
	duplex()
}

// batchBounder is implemented by carriers whose send body is larger than
// the batch it carries, so that their batches stay below the server's
// maxSend once encoded.
type batchBounder interface {
	carrier
	maxBatch(maxSend int) int
}

// Transports returns the carriers this package implements, in the order
// a caller should prefer them: WebSocket, then the HTTP carriers that keep
// the token in a header (streaming before the polls, which cost a request
// per batch), then those that must put it in the URL, where logs and
// caches may see it (SPEC.md §5).
func Transports() []string {
	return []string{
		protocol.WebSocket, protocol.Streaming, protocol.LongPoll, protocol.Polling,
		protocol.EventSource, protocol.JSONP,
	}
}

// newCarrier makes a fresh carrier named name for the mount at base.
func newCarrier(name string, base *url.URL, o *Options) (carrier, error) {
	switch name {
	case protocol.WebSocket:
		return newWebSocket(base, o), nil
	case protocol.LongPoll:
		return newLongPoll(base, o), nil
	case protocol.Polling:
		return newPolling(base, o), nil
	case protocol.Streaming:
		return newStreaming(base, o), nil
	case protocol.EventSource:
		return newEventSource(base, o), nil
	case protocol.JSONP:
		return newJSONP(base, o), nil
	}
	return nil, fmt.Errorf("tether: unknown transport %q (SPEC.md §5 names %s)",
		name, strings.Join(protocol.Carriers, ", "))
}

// parseBase checks the mount URL. ws and wss are accepted for convenience
// and mapped to http and https, which the HTTP carriers need.
func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("tether: bad URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("tether: URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("tether: URL %q has no host", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	u.Fragment = ""
	return u, nil
}

// endpoint returns base/name. The mount's query is kept only when
// keepQuery says so: it belongs to the opening request (the app may read
// an auth token from it), not to every poll.
func endpoint(base *url.URL, name string, keepQuery bool) *url.URL {
	u := *base
	u.Path = base.Path + "/" + name
	if !keepQuery {
		u.RawQuery = ""
	}
	return &u
}
