// Package client is a Go client for tether servers, speaking the native
// protocol tether/1 (protocol/SPEC.md). It is what `tether dial` uses, and
// what Go programs, bots and tests use to talk to a tether app the way the
// JS client does.
//
//	c, err := client.Dial(ctx, "http://127.0.0.1:8080/echo", nil)
//	if err != nil { ... }               // *HandshakeError if refused
//	defer c.Close(protocol.CloseNormal, "")
//	c.Send(ctx, "hello")
//	m, err := c.Recv(ctx)               // m.Data == []byte("hello") from an echo app
//
// # Carriers
//
// A session is carried by one carrier at a time, chosen with
// Options.Transport among the six of SPEC.md §5: "websocket" (the
// default), or an HTTP carrier for networks where WebSocket does not get
// through, all of which send with POST /send:
//
//   - "streaming": one long chunked answer, re-opened on the same session
//     each time the server ends it at its byte limit (c4101);
//   - "longpoll": a GET held until the server has something to say;
//   - "polling": a GET answered at once, repeated at the interval the
//     server suggests, at once after an answer with messages;
//   - "eventsource": server-sent events, read the way a browser does,
//     reconnecting with Last-Event-ID when the server ends an answer;
//   - "jsonp": script-tag GETs and form posts, the way a page without XHR
//     speaks.
//
// The longpoll and polling carriers also ask for the server's messages on
// their send answers (carry=1, SPEC.md §5): the reply to a message then
// comes with the answer to its send, in one HTTP exchange, and the Conn
// takes it as it takes a receive answer's messages. A polling send answer
// that ends with `h` stopped at the server's byte bound with more waiting,
// and the next poll goes at once rather than after the interval.
//
// The last two put the session token in URLs, as browsers must; prefer
// the others when logs or caches on the way matter (Transports lists them
// in that order). Each carrier is one file implementing the small carrier
// interface, because the session logic (numbering, acks, replay, resume)
// is the same for all of them and lives in the Conn.
//
// # Resume
//
// Carriers break: proxies cut idle or long requests, networks drop,
// servers end a carrier on purpose (4101 stream limit, 4102 heartbeat
// timeout). None of that ends the session on the server, which keeps it
// for its disconnect delay, so the Conn resumes it: it opens a new carrier
// and presents the session id, the secret token and the last message it
// received. The first attempt is immediate; further ones back off
// (Options.ReconnectDelay, MaxReconnectDelay, MaxAttempts). A carrier on
// which nothing arrives for the server's dead-peer timeout counts as lost,
// even if no error says so, since a dead TCP peer often says nothing.
//
// # Acknowledgements
//
// Both sides number their messages from 1 and keep them until the other
// side acknowledges them, which is what makes a resume lossless. The Conn
// keeps every message given to Send until the server's cumulative ack
// covers it and re-sends what lies above the ack of each new open frame;
// the server drops what it already has. In the other direction the Conn
// drops every message at or below the last one it received, so a server's
// replay never reaches Recv twice. Flush waits for the server's ack, which
// is the only proof that the app received a message.
//
// The client acks with ack= on every receive request (each poll, each
// re-opened stream) and a<n> at the front of every send batch on HTTP
// carriers; on WebSocket, which has no requests to ride
// on, it writes a<n> when 32 messages or 16 KiB are unacknowledged, when
// the server sends a heartbeat, and at least once per heartbeat interval,
// which also keeps the server from deciding the client is dead.
//
// # Close codes
//
// What the Conn does after a close code follows protocol.CloseCode.Action:
//
//   - 1000, 3000–3999 (the app's own), 4000–4099 (protocol or policy
//     violation): the session ended; Recv returns the remaining messages,
//     then a *CloseError with the code. Reconnecting would not help.
//   - 4100–4199: only the carrier ended; the Conn resumes at once and the
//     caller sees nothing.
//   - 4200–4999 (session lost, slow consumer, shutdown, too many
//     sessions): the session is gone with whatever it had not delivered.
//     The Conn does not open a new session by itself, because that would
//     hide a gap from the caller; Recv returns a *CloseError and the caller
//     decides whether to Dial again (a new session, numbered from 1).
//
// A refused handshake is a *HandshakeError with the HTTP status and the
// body's reason (SPEC.md §8), or with the close code when the server
// answered with a close frame.
//
// # Goroutines
//
// A Conn runs one goroutine, plus a reader and a writer while a carrier is
// attached. Close stops all of them before it returns, and so does the end
// of the session; a Conn that ended on its own needs no Close, though
// calling it is harmless.
package client
