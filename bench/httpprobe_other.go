//go:build !linux

package bench

import "net"

// connProbe is Linux's only (httpprobe_linux.go); elsewhere nothing can
// be told of an idle connection, and a request that fails on one is sent
// again only when that is safe whether or not the server took it.
type connProbe struct{}

func newConnProbe(net.Conn) *connProbe { return nil }

func (*connProbe) closed() bool { return false }
