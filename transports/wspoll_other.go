//go:build !linux

package transports

import "net"

// Without the Linux poller every WebSocket keeps a goroutine reading.

func pollable(net.Conn) bool { return false }

func pollPark(*wsConn) bool { return false }

func pollHasData(*wsConn) bool { return false }

func pollForget(*wsConn) {}
