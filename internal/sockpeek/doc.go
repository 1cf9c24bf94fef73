// Package sockpeek looks at a socket without waiting and without taking
// anything from it: whether bytes or the peer's close wait there. Both the
// server (a parked poll's or WebSocket's peer, transports) and the load
// generator (a kept-alive connection the server gave up, bench) need to
// know without a read that would consume what they are not ready for.
// Linux only; elsewhere callers do without.
package sockpeek
