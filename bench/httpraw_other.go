//go:build !linux

package bench

import (
	"io"
	"net"
)

// Raw system calls are used on Linux only; elsewhere the connection's own
// Read and Write serve.

func newRawIO(net.Conn) io.ReadWriter { return nil }

func withRawIO(c net.Conn) net.Conn { return c }
