package transports

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestWSAppendFrame(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 1000, 65535, 65536, 70000} {
		payload := bytes.Repeat([]byte{'p'}, n)
		f := wsAppendFrame([]byte("before"), websocket.BinaryMessage, payload)
		f = f[len("before"):]
		if f[0] != 0x82 {
			t.Fatalf("length %d: first byte %#x", n, f[0])
		}
		size, head := int(f[1]), 2
		switch size {
		case 126:
			size, head = int(binary.BigEndian.Uint16(f[2:])), 4
		case 127:
			size, head = int(binary.BigEndian.Uint64(f[2:])), 10
		}
		if size != n || len(f) != head+n || !bytes.Equal(f[head:], payload) {
			t.Fatalf("length %d: header says %d, frame is %d bytes with a %d-byte header", n, size, len(f), head)
		}
		if want := map[bool]int{true: 2, false: 4}[n <= 125]; n <= 0xffff && head != want {
			t.Fatalf("length %d: %d-byte header, want %d", n, head, want)
		}
	}
	c := wsAppendClose(nil, 4000, strings.Repeat("é", 100))
	if c[0] != 0x88 || int(c[1]) != len(c)-2 || len(c)-2 > 125 || binary.BigEndian.Uint16(c[2:]) != 4000 {
		t.Fatalf("close frame % x", c[:4])
	}
	if c := wsAppendClose(nil, websocket.CloseNoStatusReceived, "x"); len(c) != 2 {
		t.Fatalf("a 1005 close carries % x", c)
	}
}

// countingConn counts the write deadlines that reach the socket.
type countingConn struct {
	net.Conn
	n int
}

func (c *countingConn) SetWriteDeadline(time.Time) error { c.n++; return nil }
func (c *countingConn) SetDeadline(time.Time) error      { c.n++; return nil }

func TestWSSockPassesDeadlineChangesOnly(t *testing.T) {
	cc := &countingConn{}
	var s wsSock
	s.init(cc)
	a, b := time.Now().Add(time.Minute), time.Now().Add(time.Second)
	for _, d := range []time.Time{a, a, a, b, a, a, {}, {}} {
		s.SetWriteDeadline(d)
	}
	if cc.n != 4 { // a, b, a, zero
		t.Fatalf("%d write deadlines reached the socket, want 4", cc.n)
	}
	s.SetDeadline(a)
	s.SetWriteDeadline(a)
	if cc.n != 5 {
		t.Fatalf("%d deadlines reached the socket, want 5", cc.n)
	}
}

// writeConn takes every write.
type writeConn struct {
	net.Conn
	got []byte
}

func (c *writeConn) Write(p []byte) (int, error) { c.got = append(c.got, p...); return len(p), nil }

// A close frame gorilla writes ends the carriers' writes, on a socket
// whose writes wait (TLS, before the carrier starts) as on any other:
// nothing may follow a close.
func TestWSSockNothingAfterGorillaClose(t *testing.T) {
	wc := &writeConn{}
	var s wsSock
	s.init(wc) // not a *net.TCPConn: writes wait, as over TLS
	if _, err := s.Write(wsAppendClose(nil, websocket.CloseNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	_, err := s.writeLocked([]byte("after"), false)
	s.mu.Unlock()
	if err != websocket.ErrCloseSent {
		t.Fatalf("a frame after gorilla's close: err %v, want ErrCloseSent", err)
	}
	if bytes.Contains(wc.got, []byte("after")) {
		t.Fatalf("written after the close: % x", wc.got)
	}
}

// Sends from outside the reader go out through the flusher, with no
// writer goroutine, and the flusher leaves once nothing waits; over TLS,
// where a write cannot be tried without waiting, the writer goroutine
// writes them.
func TestWSFlusherWrites(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", tlsOn), func(t *testing.T) {
			e := newWSEnvTLS(t, time.Hour, time.Hour, tlsOn)
			c, f := e.dial(t)
			for i := range 100 {
				f.queue(fmt.Sprint(i))
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, m, err := c.ReadMessage(); err != nil || string(m) != fmt.Sprint(i) {
					t.Fatalf("read %q, %v; want %d", m, err, i)
				}
				if !tlsOn && len(goroutines("transports.(*wsConn).write(")) > 0 {
					t.Fatal("a writer goroutine wrote what the flusher can")
				}
			}
			waitNone(t, "transports.(*wsFlusher).run(")
			waitNone(t, "transports.(*wsConn).write(")
		})
	}
}

// A client that does not read fills its socket; what the flusher cannot
// write goes to that connection's writer, which waits, and the flusher
// goes on writing to the others. The stalled one ends at its write
// deadline.
func TestWSStalledClientHoldsUpNobody(t *testing.T) {
	e := newWSEnv(t, time.Hour, 2*time.Second, false)
	stalled, fs := e.dial(t)
	stalled.NetConn().(*net.TCPConn).SetReadBuffer(4096)
	c, f := e.dial(t)
	big := strings.Repeat("x", 64<<10)
	for range 200 {
		fs.queue(big)
	}
	waitSome(t, "transports.(*wsConn).write(") // the flusher handed it over
	for i := range 50 {
		f.queue(fmt.Sprint(i))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, m, err := c.ReadMessage(); err != nil || string(m) != fmt.Sprint(i) {
			t.Fatalf("read %q, %v; want %d", m, err, i)
		}
	}
	select {
	case <-fs.ended:
	case <-time.After(20 * time.Second):
		t.Fatal("the stalled connection never ended")
	}
}

// A client that reads slowly makes the flusher's writes partial: what is
// left goes out first, whole, before later frames and before the pongs
// gorilla writes meanwhile, so the client reads every message intact and
// in order.
func TestWSHeldFramesStayInOrder(t *testing.T) {
	e := newWSEnv(t, time.Hour, time.Hour, false)
	c, f := e.dial(t)
	pongs := make(chan struct{}, 1000)
	c.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	const n = 300 // 19 MB: more than the socket buffers hold
	msg := func(i int) string { return fmt.Sprintf("%05d%s", i, strings.Repeat("y", 64<<10)) }
	for i := range n { // the client reads nothing meanwhile
		f.queue(msg(i))
		if i%10 == 0 {
			c.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(10*time.Second))
		}
	}
	waitSome(t, "transports.(*wsConn).write(") // the flusher handed the rest over
	for i := range n {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, m, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if string(m) != msg(i) {
			t.Fatalf("message %d: got %.10q… (%d bytes)", i, m, len(m))
		}
	}
	if len(pongs) < n/10 { // the last may come after the last message
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, m, err := c.ReadMessage(); err == nil {
			t.Fatalf("an unexpected message of %d bytes", len(m))
		}
	}
	if len(pongs) != n/10 {
		t.Fatalf("%d pongs for %d pings", len(pongs), n/10)
	}
}

var goroutineID = regexp.MustCompile(`^goroutine (\d+) `)

// goroutines returns the ids of the goroutines whose stack holds mark.
func goroutines(mark string) []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var ids []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, mark) {
			ids = append(ids, goroutineID.FindStringSubmatch(g)[1])
		}
	}
	return ids
}

func waitNone(t *testing.T, mark string) {
	t.Helper()
	for start := time.Now(); len(goroutines(mark)) > 0; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("goroutines %s never left", mark)
		}
	}
}

func waitSome(t *testing.T, mark string) {
	t.Helper()
	for start := time.Now(); len(goroutines(mark)) == 0; time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no goroutine %s", mark)
		}
	}
}

// A write that does not wait allocates nothing: the flusher makes one per
// connection of a broadcast.
func TestWSTryWriteAllocatesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 1<<16)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var s wsSock
	s.init(c)
	p := wsAppendFrame(nil, websocket.TextMessage, []byte("hello"))
	if n := testing.AllocsPerRun(100, func() {
		s.mu.Lock()
		if _, err := s.writeLocked(p, true); err != nil {
			t.Fatal(err)
		}
		s.mu.Unlock()
	}); n != 0 {
		t.Fatalf("%v allocations per write", n)
	}
}
