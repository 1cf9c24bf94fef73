package client

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// Message is one message from the server.
type Message struct {
	// Seq is the server's number for the message: 1, 2, 3, … within the
	// session, without gaps, whatever carriers it crossed.
	Seq uint64
	// Binary tells a binary message from a text one.
	Binary bool
	// Data is the text (UTF-8) or the bytes. The caller owns it.
	Data []byte
}

// Conn is a client's end of one tether session. It survives the loss of
// its carrier: it resumes the session on a new one and neither loses nor
// repeats a message either way.
//
// Concurrency: every method may be called from any goroutine. Messages are
// numbered in the order Send calls return, and Recv hands each message to
// exactly one caller.
type Conn struct {
	opts Options
	base *url.URL
	log  *slog.Logger
	own  *http.Transport // idle connections to close at the end, or nil

	ctx    context.Context // cancelled when the Conn ends
	cancel context.CancelFunc
	done   chan struct{} // closed when every goroutine of the Conn returned
	wake   chan struct{} // tells the writer there is something to send

	mu      sync.Mutex
	sid     string
	token   string
	timing  timing
	changed chan struct{} // closed and replaced on any change below
	err     error         // why the Conn ended; nil while it lives

	// Client to server.
	queue      []outMsg // sent, not yet acknowledged, in seq order
	queueBytes int
	nextSeq    uint64 // the number of the next Send
	acked      uint64 // the server's cumulative ack
	sent       uint64 // the last seq written on the current carrier
	closing    *closeReq

	// Server to client.
	last         uint64 // the last seq received, in order
	ackSent      uint64 // the last ack written (duplex carriers)
	ackDue       bool   // the server asked for an ack (duplex carriers)
	unackedBytes int    // payload bytes received since ackSent
	inbox        []Message
}

type outMsg struct {
	seq   uint64
	frame []byte
}

// closeReq is a close frame for the writer to send after every queued
// message; sent is closed once it went out.
type closeReq struct {
	frame    []byte
	written  bool // on the current carrier; a resume writes it again
	sent     chan struct{}
	sentOnce sync.Once
}

func (r *closeReq) markSent() { r.sentOnce.Do(func() { close(r.sent) }) }

// Dial opens a session with the tether server mounted at rawURL, the
// http(s) URL of the mount (http://127.0.0.1:8080/echo; WebSocket goes to
// ws://127.0.0.1:8080/echo/websocket). It returns once the server's open
// frame arrived. ctx bounds the handshake only; the Conn lives until Close
// or the end of its session. A refusal is a *HandshakeError.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Conn, error) {
	o, own := opts.withDefaults()
	base, err := parseBase(rawURL)
	if err != nil {
		return nil, err
	}
	car, err := newCarrier(o.Transport, base, &o)
	if err != nil {
		return nil, err
	}
	open, pending, err := car.handshake(ctx, protocol.Hello{})
	if err != nil {
		car.close()
		if own != nil {
			own.CloseIdleConnections()
		}
		return nil, err
	}
	c := &Conn{
		opts:    o,
		base:    base,
		log:     o.Logger.With("transport", o.Transport, "sid", open.SID),
		own:     own,
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		changed: make(chan struct{}),
		nextSeq: 1,
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.attached(open)
	go c.run(car, pending)
	return c, nil
}

// ID returns the session id chosen by the server. It stays the same across
// resumes.
func (c *Conn) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sid
}

// Transport returns the carrier name the Conn receives on.
func (c *Conn) Transport() string { return c.opts.Transport }

// Context returns a context cancelled when the Conn ends, for tying other
// work to the session's life.
func (c *Conn) Context() context.Context { return c.ctx }

// Send queues a text message. It returns once the message is numbered and
// queued, not when it was delivered (see Flush); it blocks only while the
// unacknowledged bytes are over Options.MaxQueueBytes. The message is kept
// until the server acknowledges it and re-sent after a resume.
func (c *Conn) Send(ctx context.Context, text string) error {
	return c.enqueue(ctx, false, []byte(text))
}

// SendBinary queues a binary message, as Send does. The Conn copies data.
func (c *Conn) SendBinary(ctx context.Context, data []byte) error {
	return c.enqueue(ctx, true, data)
}

func (c *Conn) enqueue(ctx context.Context, binary bool, data []byte) error {
	c.mu.Lock()
	for {
		if err := c.liveErr(); err != nil {
			c.mu.Unlock()
			return err
		}
		if m := c.timing.maxMessage; m > 0 && len(data) > m {
			c.mu.Unlock()
			return ErrMessageTooBig
		}
		if c.queueBytes == 0 || c.queueBytes+len(data) <= c.opts.MaxQueueBytes {
			break
		}
		if err := c.wait(ctx); err != nil {
			return err
		}
	}
	seq := c.nextSeq
	c.nextSeq++
	var f []byte
	if binary {
		f = protocol.AppendBinary(nil, seq, data)
	} else {
		f = protocol.AppendText(nil, seq, data)
	}
	c.queue = append(c.queue, outMsg{seq: seq, frame: f})
	c.queueBytes += len(f)
	c.mu.Unlock()
	c.poke()
	return nil
}

// Recv returns the next message from the server. Messages come in order,
// each once, even when the server replayed them after a resume. Once the
// Conn ended and every received message was returned, Recv returns why:
// ErrClosed after Close, a *CloseError when the session was closed (by the
// server, or lost: 4200 and above), or the error that made resuming fail
// (a *HandshakeError if the server refused the resume).
func (c *Conn) Recv(ctx context.Context) (Message, error) {
	c.mu.Lock()
	for {
		if len(c.inbox) > 0 {
			m := c.inbox[0]
			c.inbox[0] = Message{}
			c.inbox = c.inbox[1:]
			c.mu.Unlock()
			return m, nil
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return Message{}, err
		}
		if err := c.wait(ctx); err != nil {
			return Message{}, err
		}
	}
}

// Flush waits until the server acknowledged every message sent before the
// call, which means its app has them. It returns the Conn's error if the
// Conn ends first.
func (c *Conn) Flush(ctx context.Context) error {
	c.mu.Lock()
	target := c.nextSeq - 1
	for c.acked < target {
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return err
		}
		if err := c.wait(ctx); err != nil {
			return err
		}
	}
	c.mu.Unlock()
	return nil
}

// Close sends a close frame with code (1000, or 3000–3999 for the app's
// own) after every queued message, waits up to two seconds for it to go
// out, and stops every goroutine of the Conn. It returns an error when the
// close frame could not be sent; the server then closes the session after
// its disconnect delay. Closing an ended Conn returns nil.
func (c *Conn) Close(code protocol.CloseCode, reason string) error {
	if !code.Valid() {
		return errors.New("tether: close code outside 1000-4999")
	}
	c.mu.Lock()
	if c.err != nil || c.closing != nil {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	req := &closeReq{frame: protocol.AppendClose(nil, code, reason), sent: make(chan struct{})}
	c.closing = req
	c.broadcast()
	c.mu.Unlock()
	c.poke()

	var err error
	t := time.NewTimer(closeTimeout)
	select {
	case <-req.sent:
	case <-c.done:
	case <-t.C:
		err = errors.New("tether: close frame not sent within 2s: no carrier attached")
	}
	t.Stop()
	c.finish(ErrClosed)
	<-c.done
	return err
}
