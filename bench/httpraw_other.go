//go:build !linux

package bench

import (
	"io"
	"net"
)

// newRawIO has raw system calls on Linux only; elsewhere the connection's
// own Read and Write serve.
func newRawIO(net.Conn) io.ReadWriter { return nil }
