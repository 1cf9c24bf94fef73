package client

import "context"

// The Conn's waiting is built on one broadcast channel, closed and
// replaced on every change, because Recv, Flush and a blocked Send must
// also give up when their ctx ends, which sync.Cond cannot do.

// liveErr returns why new messages are refused, or nil. c.mu is held.
func (c *Conn) liveErr() error {
	if c.err != nil {
		return c.err
	}
	if c.closing != nil {
		return ErrClosed
	}
	return nil
}

// wait releases c.mu until the state changes or ctx ends, and takes it
// again only in the first case.
func (c *Conn) wait(ctx context.Context) error {
	ch := c.changed
	c.mu.Unlock()
	select {
	case <-ch:
		c.mu.Lock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// broadcast wakes every waiter. c.mu is held.
func (c *Conn) broadcast() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// poke wakes the writer.
func (c *Conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// finish ends the Conn with err, once; after a local Close the reason is
// always ErrClosed, whatever the server answered to the close frame.
func (c *Conn) finish(err error) {
	c.mu.Lock()
	if c.err == nil {
		if c.closing != nil {
			err = ErrClosed
		}
		c.err = err
		c.broadcast()
	}
	c.mu.Unlock()
	c.cancel()
}
