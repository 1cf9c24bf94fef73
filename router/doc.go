// Package router is tether's http.Handler: it owns the URL layout of each
// dialect (the native one, Router, and SockJS, SockJS), the handshake,
// the origin and CORS policy, the Authorize hook, serving the bundled
// browser client, and shutdown.
//
// It knows nothing of frame bytes (package protocol does) nor of how a
// carrier moves them (package transports); it finds or creates the
// session a request names and hands the request to the right carrier.
//
// # Mounting
//
// A Router routes on the last segment of the path, so it can be mounted
// under any prefix with any mux: http.ServeMux (`mux.Handle("/chat/", r)`),
// gorilla/mux (`PathPrefix("/chat/").Handler(r)`) or http.StripPrefix.
// Under the prefix it serves websocket, handshake, send, the five HTTP
// receive paths named after their carriers, and tether.js, tether.min.js
// and tether.mjs (protocol/SPEC.md §5).
//
// # Checks, in order
//
// Every request is checked for its method (405), then its origin (403),
// then, on handshakes and WebSocket upgrades only, by Authorize (401 or
// 403), before any session is touched. Requests without an Origin header
// come from programs, not browsers, and are allowed: the origin check
// exists to stop other sites' pages from riding a user's cookies.
//
// # Tokens
//
// Receive and send requests name a session by id and prove it with the
// session's token, in a header wherever the client can set one, and in
// the query only for eventsource and jsonp, where nothing else is
// possible. A wrong token and an unknown id get the same answer.
//
// # SockJS
//
// NewSockJS serves the SockJS protocol for sockjs-client on the same
// sessions and with the same Handler. SockJS clients choose their session
// key and have no token: the key is mapped to a session (whose ID stays a
// server uuid) for as long as the session lives, and the origin policy,
// not a secret, is what keeps other sites out. Its defaults are
// sockjs-node's (5 s disconnect delay, 128 KiB response limit) except for
// origins, where it follows the framework. docs/migrate-sockjs.md maps
// sockjs-node's and sockjs-go's options to SockJSOptions.
package router
