// Package hub groups Conns into rooms and broadcasts to them, so an app
// does not keep its own "set of connected users".
//
// # Encoding once
//
// A broadcast becomes one session.Prepared shared by every receiver: each
// framing encodes the payload once, however many sessions it reaches.
//
// # Slow receivers
//
// Broadcast never waits for a receiver. Each Conn's Send only appends to
// its outbound log; a receiver that falls behind by more than its outbound
// bound is closed as a slow consumer, and the others are not delayed.
//
// # Across processes
//
// Every broadcast goes through a Broker. The default one delivers inside
// this process; a broker backed by Redis (or any pub/sub) publishes the
// Envelope to every process, each of which calls Hub.Deliver for its own
// members. Callers of Broadcast do not change.
//
// # Concurrency
//
// A Hub is safe for concurrent use. Conns leave every room by themselves
// when they close, through context.AfterFunc on the Conn's context, which
// costs no goroutine while the Conn lives.
package hub
