package client

import (
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tether-rt/tether/protocol"
)

// websocket serves the fake's WebSocket carrier: hello, open frame, then
// the log as it grows (binary messages in the raw form of SPEC.md §2.1),
// while a second goroutine applies what the client writes.
func (f *fake) websocket(w http.ResponseWriter, r *http.Request) {
	if f.refused(w, r) {
		return
	}
	conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.ws[conn] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.ws, conn)
		f.mu.Unlock()
		conn.Close()
	}()

	_, msg, err := conn.ReadMessage()
	if err != nil {
		return
	}
	fr, err := protocol.DecodeFrame(msg)
	var h protocol.Hello
	if err == nil && fr.Type == protocol.FrameHello {
		h, err = protocol.DecodeHello(fr.Data)
	}
	if err != nil || fr.Type != protocol.FrameHello {
		conn.WriteMessage(websocket.TextMessage, protocol.AppendClose(nil, protocol.CloseProtocolError, "expected a hello"))
		return
	}
	s, answer := f.open(h)
	if err := conn.WriteMessage(websocket.TextMessage, answer); err != nil || s == nil {
		return
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var frames []protocol.Frame
			if typ == websocket.BinaryMessage {
				var fr protocol.Frame
				fr, err = protocol.DecodeWSBinary(msg)
				frames = []protocol.Frame{fr}
			} else {
				frames, err = protocol.DecodeBatch(msg)
			}
			if err != nil {
				conn.Close()
				return
			}
			f.mu.Lock()
			for _, fr := range frames {
				f.apply(s, fr)
			}
			f.mu.Unlock()
		}
	}()
	defer func() { conn.Close(); <-done }()

	f.mu.Lock()
	sent, acked := h.Last, uint64(0)
	if s.replayAll {
		sent, s.replayAll = 0, false
	}
	f.mu.Unlock()
	for {
		f.mu.Lock()
		var out []wsOut
		if s.in > acked {
			acked = s.in
			out = append(out, wsOut{websocket.TextMessage, protocol.AppendAck(nil, s.in)})
		}
		for _, m := range s.log {
			if m.seq <= sent {
				continue
			}
			sent = m.seq
			if m.binary {
				out = append(out, wsOut{websocket.BinaryMessage, protocol.AppendWSBinary(nil, m.seq, m.data)})
			} else {
				out = append(out, wsOut{websocket.TextMessage, m.frame()})
			}
		}
		closing := s.closing
		ch := s.changed
		f.mu.Unlock()
		if closing != nil {
			out = append(out, wsOut{websocket.TextMessage, closing})
		}
		for _, o := range out {
			if conn.WriteMessage(o.typ, o.data) != nil {
				return
			}
		}
		if closing != nil {
			return
		}
		select {
		case <-ch:
		case <-done:
			return
		case <-time.After(f.hb):
			f.mu.Lock()
			mute := f.mute
			f.mu.Unlock()
			if mute {
				continue
			}
			if conn.WriteMessage(websocket.TextMessage, []byte("h")) != nil {
				return
			}
		}
	}
}

type wsOut struct {
	typ  int
	data []byte
}

// dropWebSockets cuts every WebSocket under the server's feet.
func (f *fake) dropWebSockets() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.ws {
		c.NetConn().Close()
	}
}
