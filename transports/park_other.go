//go:build !linux

package transports

// Without the Linux poller, held polls stay on their goroutines.

type pollWatch struct{}

func pollerAvailable() bool { return false }

func pollWatchConn(*parkedPoll) bool { return false }

func pollForgetConn(*pollWatch) {}

func pollPeerGone(*pollWatch) bool { return false }
