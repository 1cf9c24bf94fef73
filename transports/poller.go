package transports

import "errors"

// pollTarget is what the poller (poller_linux.go) wakes when a socket
// that waits without a goroutine turns readable: a parked WebSocket
// (wsConn) or a parked poll (parkedPoll). readable runs on the poller's
// goroutine and must not wait.
type pollTarget interface{ readable() }

// errUnwatchable is the poller's refusal of a connection that it cannot
// watch, nor any other of its kind: one without a descriptor (a listener
// wrapped it), or whose descriptor epoll does not take, or any connection
// where there is no poller. A refusal for one connection only (closed
// meanwhile, the kernel's limit on watches reached) is another error.
var errUnwatchable = errors.New("tether: the poller cannot watch this kind of connection")
