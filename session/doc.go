// Package session holds tether's logical connections: what survives while
// carriers come and go.
//
// A Session numbers every message the app sends and keeps it in an outbound
// log until the client acknowledges it, so any carrier that attaches later
// (a reconnect, a fallback, an upgrade) is replayed what the client has not
// seen. It numbers what the client sends too, and hands each client message
// to the app exactly once, in order, however often the client re-sent it.
//
// The package knows nothing of HTTP or of frame bytes: carriers (package
// transports) move batches between the network and a Link, and dialects
// (package protocol) turn batches into bytes. Adding a dialect never touches
// this package.
//
// # Two faces
//
// *Session is the app's face (the Conn of the root package): Send, OnMessage,
// OnClose, Close, Context and what the opening request said. *Link is the
// carriers' face of the same session: Attach a receiver, Deliver client
// messages, Ack, close on a protocol error. Keeping them apart keeps carrier
// plumbing out of the app's API.
//
// # Concurrency
//
// Every method of Session and Link is safe for concurrent use. Send never
// blocks on the network: it appends to the log under a mutex and wakes the
// attached receiver, if any. App callbacks (OnMessage, OnTransport, OnClose)
// run one at a time, in order, on a goroutine the session starts only while
// it has callbacks to run, so an idle session costs no goroutine; a message
// that finds no callback running runs OnMessage on the goroutine that
// delivers it (Link.Deliver: a WebSocket's reader, a send request), which
// then waits for it. A send request whose answer carries the replies
// (Link.HoldWakes, Carry, ReleaseWakes; carry.go) keeps the receiver from
// being woken while its callbacks run (5 to 10 ms at most) and until its
// answer is flushed.
//
// # Bounds
//
// Unacknowledged outbound bytes are bounded (MaxOutboundBytes): a Send past
// the bound closes that session with CloseSlowConsumer and nobody else waits.
// Undelivered inbound bytes are bounded too (MaxInboundBytes): Deliver waits
// for the app to catch up, which pushes back on the client's carrier. The
// Registry bounds the number of live sessions.
//
// # Lifetime
//
// The registry's one expiry queue (internal/expiry) does the bookkeeping:
// while no receiver is attached a session waits out the disconnect delay in
// it, after which the session closes with CloseSessionLost and leaves the
// registry. The delay is the same for every session, so one timer serves
// them all, and a crowd of abandoned sessions leaves no timers behind. A session closed by the app or
// for a bound stays in the registry for one more disconnect delay as a
// tombstone, so a client that was between carriers still learns the real
// close code and gets the messages sent before the close; a tombstone whose
// callbacks still run then (OnClose among them) stays a delay longer each
// time, so that Registry.Shutdown finds it and waits for them.
package session
