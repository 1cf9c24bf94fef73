//go:build !linux

package transports

import "net"

// Without the Linux poller every WebSocket keeps a goroutine reading, and
// held polls stay on their goroutines.

type pollWatch struct{}

func pollerAvailable() bool { return false }

func pollArm(pollTarget, *pollWatch, net.Conn) bool { return false }

func pollWatchConn(pollTarget, *pollWatch, net.Conn) error { return errUnwatchable }

func connGone(net.Conn) bool { return false }

func pollForget(*pollWatch) {}

func pollPeek(*pollWatch) (readable, gone bool) { return false, false }

func pollable(net.Conn) bool { return false }
