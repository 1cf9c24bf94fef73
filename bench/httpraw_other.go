//go:build !linux

package bench

import "net"

// Raw system calls are used on Linux only; elsewhere the connection's own
// Read and Write serve.

func withRawIO(c net.Conn) net.Conn { return c }
