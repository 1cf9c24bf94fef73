// Package tether is a real-time framework for Go web apps: one handler,
// one Conn per client, the same behaviour over WebSocket and every HTTP
// fallback, and reconnects that lose no message.
//
//	h := tether.New(func(c *tether.Conn) {
//		c.Send("Welcome")
//		c.OnMessage(func(m tether.Message) { c.Send("new message: " + m.Text()) })
//	}, nil)
//	http.Handle("/echo/", h)
//
// # Why sessions, not sockets
//
// A Conn is a session, not a network connection. Its messages are numbered
// and kept until the client acknowledges them, so when a WebSocket drops,
// a proxy cuts a long poll or the client falls back from one carrier to
// another, the client resumes the same Conn and nothing is lost or
// repeated. The app sees one Conn with a stable ID; Transport and
// OnTransport tell it which carrier moves the bytes now.
//
// # Carriers
//
// The native protocol (protocol/SPEC.md) runs over six carriers: websocket,
// streaming, eventsource, longpoll, jsonp and polling. The router serves
// them all under one prefix.
//
// # SockJS
//
// NewSockJS serves the same handler to sockjs-client 1.x and the libraries
// built on it, over every SockJS transport; docs/migrate-sockjs.md shows
// how to move a sockjs-node or sockjs-go server.
//
// # Origins and auth
//
// Browser requests from other origins are refused unless
// Options.AllowedOrigins or Options.CheckOrigin allows them, for WebSocket
// and HTTP carriers alike; Options.Authorize can refuse a handshake with
// 401 or 403 before any session exists.
//
// # Layers
//
// tether re-exports what the common case needs. The layers below are
// usable on their own: router (the http.Handler), transports (carriers),
// session (the logical connection) and protocol (the codec), and client is
// a Go client for tests, tools and services.
package tether
