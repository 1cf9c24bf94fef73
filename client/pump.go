package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// Ack thresholds on duplex carriers (SPEC.md §3): the server holds its log
// until acked, so a busy stream must not wait for the heartbeat to ack.
const (
	ackEveryMessages = 32
	ackEveryBytes    = 16 << 10
)

// errDeadPeer marks a carrier on which nothing arrived for the timeout.
var errDeadPeer = errors.New("tether: nothing received within the dead-peer timeout")

// serve runs one carrier with a reader and a writer goroutine until either
// fails or the Conn ends, and returns the first error. progressed reports
// whether anything arrived after the handshake, which tells a carrier that
// worked for a while from one that fails at once.
func (c *Conn) serve(car carrier, pending []protocol.Frame) (progressed bool, err error) {
	ctx, cancel := context.WithCancelCause(c.ctx)
	defer cancel(nil)
	var prog atomic.Bool
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		cancel(c.readLoop(ctx, car, pending, &prog))
	}()
	go func() {
		defer wg.Done()
		cancel(c.writeLoop(ctx, car))
	}()
	<-ctx.Done()
	car.close()
	wg.Wait()
	return prog.Load(), context.Cause(ctx)
}

func (c *Conn) readLoop(ctx context.Context, car carrier, pending []protocol.Frame, prog *atomic.Bool) error {
	_, isDuplex := car.(duplex)
	if err := c.handle(pending, isDuplex); err != nil {
		return err
	}
	for {
		c.mu.Lock()
		timeout := c.timing.timeout
		c.mu.Unlock()
		rctx, cancel := context.WithTimeout(ctx, timeout)
		frames, err := c.receiveOn(rctx, car)
		expired := rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if err != nil {
			if expired || isTimeout(err) {
				return fmt.Errorf("%w (%v): %v", errDeadPeer, timeout, err)
			}
			return err
		}
		if len(frames) > 0 {
			prog.Store(true)
		}
		if err := c.handle(frames, isDuplex); err != nil {
			return err
		}
	}
}

// receiveOn runs one receive of car with the ack as it stands after the
// carrier's pause, if it takes one between requests (pauser).
func (c *Conn) receiveOn(ctx context.Context, car carrier) ([]protocol.Frame, error) {
	if p, ok := car.(pauser); ok {
		if err := p.pause(ctx); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	return car.receive(ctx, last)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// handle applies frames from the server: messages go to the inbox in order
// and once, acks release the queue, a close frame ends the carrier with a
// *CloseError that run judges by its code.
func (c *Conn) handle(frames []protocol.Frame, isDuplex bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	dups := 0
	defer func() {
		if dups > 0 {
			c.log.Debug("tether: dropped replayed messages", "count", dups, "last", c.last)
		}
	}()
	for _, f := range frames {
		switch f.Type {
		case protocol.FrameText, protocol.FrameBinary:
			switch {
			case f.Seq <= c.last:
				// A replay of what we have: drop it, and tell the server
				// sooner, since it evidently missed our ack.
				c.ackDue = true
				dups++
				continue
			case f.Seq != c.last+1:
				// The server skipped a number. Resuming replays from
				// last+1, so the carrier is abandoned, not the session.
				return fmt.Errorf("tether: message %d after %d", f.Seq, c.last)
			}
			c.last = f.Seq
			c.unackedBytes += len(f.Data)
			c.inbox = append(c.inbox, Message{Seq: f.Seq, Binary: f.Type == protocol.FrameBinary, Data: bytes.Clone(f.Data)})
			c.broadcast()
		case protocol.FrameAck:
			c.ackLocked(f.Seq)
		case protocol.FrameHeartbeat:
			// Answer with an ack, so the server sees us alive (SPEC.md §6).
			c.ackDue = true
		case protocol.FrameClose:
			return &CloseError{Code: f.Code, Reason: f.Reason}
		default:
			return fmt.Errorf("tether: unexpected %q frame from the server", f.Type)
		}
	}
	if isDuplex && (c.ackDue || c.last-c.ackSent >= ackEveryMessages || c.unackedBytes >= ackEveryBytes) {
		c.poke()
	}
	return nil
}

// writeLoop sends queued messages, acks (on duplex carriers) and the close
// frame. Being one goroutine, it keeps at most one send request in flight,
// as HTTP carriers require (SPEC.md §3).
func (c *Conn) writeLoop(ctx context.Context, car carrier) error {
	_, isDuplex := car.(duplex)
	c.mu.Lock()
	t := c.timing
	c.mu.Unlock()
	maxBatch := t.maxSend
	if b, ok := car.(batchBounder); ok {
		maxBatch = b.maxBatch(maxBatch)
	}
	var tick <-chan time.Time
	if isDuplex {
		// Half the interval: a write just after one tick would otherwise
		// let almost two intervals pass before the next.
		ticker := time.NewTicker(t.heartbeat / 2)
		defer ticker.Stop()
		tick = ticker.C
	}
	wrote, force := false, false
	for {
		batch, closing := c.nextBatch(isDuplex, force, maxBatch)
		if batch != nil {
			force, wrote = false, true
			sctx, cancel := context.WithTimeout(ctx, t.timeout)
			answer, err := car.send(sctx, batch)
			cancel()
			if err != nil {
				return err
			}
			if closing != nil {
				closing.markSent()
				<-ctx.Done() // Close ends the Conn now
				return ctx.Err()
			}
			// The answer's a<in>, and on carriers that ask for them
			// (carry) server messages, which take the receive path:
			// numbered, deduplicated, a gap ends the carrier.
			if err := c.handle(answer, false); err != nil {
				return err
			}
			if aw, ok := car.(answerWatcher); ok {
				aw.answered(answer)
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.wake:
		case <-tick:
			force = !wrote
			wrote = false
		}
	}
}

// nextBatch builds the next batch to send, or returns nil when there is
// nothing. Messages are taken above c.sent up to maxSend bytes (one larger
// message goes alone); the close frame goes after the last message.
// closing is returned when the batch holds the close frame.
func (c *Conn) nextBatch(isDuplex, force bool, maxSend int) (batch []byte, closing *closeReq) {
	c.mu.Lock()
	defer c.mu.Unlock()
	unsent := len(c.queue) > 0 && c.queue[len(c.queue)-1].seq > c.sent
	wantClose := c.closing != nil && !c.closing.written
	var b []byte
	ackNow := isDuplex && (force || c.ackDue || c.last-c.ackSent >= ackEveryMessages || c.unackedBytes >= ackEveryBytes)
	if ackNow || ((unsent || wantClose) && c.last > c.ackSent) || (!isDuplex && (unsent || wantClose) && c.last > 0) {
		if c.last > 0 {
			b = protocol.AppendAck(b, c.last)
		} else {
			b = protocol.AppendHeartbeat(b)
		}
		b = append(b, '\n')
		c.ackSent, c.unackedBytes, c.ackDue = c.last, 0, false
	}
	n := 0
	for _, m := range c.queue {
		if m.seq <= c.sent {
			continue
		}
		if n > 0 && len(b)+len(m.frame)+1 > maxSend {
			return b, nil
		}
		b = append(append(b, m.frame...), '\n')
		c.sent = m.seq
		n++
	}
	if wantClose {
		c.closing.written = true
		return append(append(b, c.closing.frame...), '\n'), c.closing
	}
	return b, nil
}
