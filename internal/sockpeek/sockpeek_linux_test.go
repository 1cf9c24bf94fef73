package sockpeek

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestFD: a socket with nothing waiting is neither readable nor gone; with
// bytes waiting it is readable and the bytes stay; after the peer's close
// it is gone.
func TestFD(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	rc, err := server.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	peek := func() (readable, gone bool) {
		rc.Control(func(fd uintptr) { readable, gone = FD(fd) })
		return
	}
	if r, g := peek(); r || g {
		t.Fatalf("idle socket: readable %v, gone %v", r, g)
	}
	client.Write([]byte("x"))
	waitFor(t, func() bool { r, _ := peek(); return r }) // loopback delivers at once, or nearly
	if r, g := peek(); !r || g {
		t.Fatalf("a byte waiting: readable %v, gone %v", r, g)
	}
	b := make([]byte, 1)
	if n, err := server.Read(b); n != 1 || b[0] != 'x' || err != nil {
		t.Fatalf("the peeked byte was taken: %d %q %v", n, b, err)
	}
	var fd uintptr
	rc.Control(func(s uintptr) { fd = s })
	if n := testing.AllocsPerRun(100, func() { FD(fd) }); n != 0 {
		t.Errorf("FD allocates %v times a call", n)
	}
	client.Close()
	waitFor(t, func() bool { _, g := peek(); return g })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the socket never got there")
		}
		time.Sleep(time.Millisecond)
	}
}
