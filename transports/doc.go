// Package transports moves frames between one HTTP exchange (or one
// WebSocket) and one session. Each carrier lives in its own file with the
// same shape: a type built from a Config, and a Serve method that runs one
// request to completion against a session.Link the router already found.
//
// Carriers know nothing of apps or URL layouts: the router authenticates,
// finds or creates the session and picks the carrier; the carrier attaches
// a receiver, writes what the session hands it through a Framer, feeds what
// the client sends into the session, and detaches when its request ends.
// Because every carrier goes through the same session.Link, a session is
// the same to the app whichever carrier moves its bytes, and a client may
// switch carriers mid-session without losing or repeating a message.
//
// # Dialects
//
// The SockJS carriers (sockjs_*.go) are these carriers with SockJS frames:
// the held poll, the stream and the WebSocket loops are shared, and what
// SockJS adds (an open frame for a new session, acknowledging on behalf of
// clients that never do, closing a session whose client abandoned a
// request) is in sockjs.go.
//
// # Goroutines
//
// An HTTP carrier uses only its request's goroutine, except a held poll
// that waits long: it is parked (park.go), hijacked from net/http and
// watched with no goroutine by a process-wide poller, and answered by
// whichever goroutine wakes it (a new one when the wake-up is an app's
// Send), which hands the connection back to its server. A WebSocket keeps
// none while idle (wsconn.go): Serve returns once the connection is set
// going; a reader runs while the client sends, and between messages the
// socket waits in the process's poller (poller_linux.go); what the app
// sends in answer to a message, the reader writes; what it sends from
// elsewhere (a broadcast), the process's flusher writes (wsflush.go),
// which never waits for a socket; and a writer goroutine runs only while
// a write has to wait for one. Timers keep the heartbeat and the dead-peer
// deadline.
//
// # Replies on the send answer
//
// A client of the polling carriers that asks with carry=1 (SPEC.md §5)
// gets the messages it has not acknowledged on the answer to its send,
// mostly the app's replies to that send's messages, which OnMessage logged
// before the answer was written (inline delivery). A request and its reply
// then take one HTTP exchange, not two, and the held poll, which the
// replies do not wake (session.Link.HoldWakes), stays parked.
//
// # Errors
//
// Request-level faults (bad query, malformed batch, oversize body) are
// answered with an HTTP status and a text reason; session-level answers
// (session lost, receiver busy, closed) are 200 with a close frame, so that
// script tags and EventSource, which cannot read error statuses, see them.
// protocol/SPEC.md §7–8 lists every answer.
package transports
