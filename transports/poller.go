package transports

// pollTarget is what the poller (poller_linux.go) wakes when a socket
// that waits without a goroutine turns readable: a parked WebSocket
// (wsConn) or a parked poll (parkedPoll). readable runs on the poller's
// goroutine and must not wait.
type pollTarget interface{ readable() }
