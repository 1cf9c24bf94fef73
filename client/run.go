package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tether-rt/tether/protocol"
)

// run owns the Conn's carriers: it serves one until it is lost, then
// resumes the session on a new one, until the Conn ends. It is the only
// goroutine Dial starts; serve starts two more per carrier and waits for
// them, so when run returns nothing of the Conn is left running.
func (c *Conn) run(car carrier, pending []protocol.Frame) {
	defer func() {
		if c.own != nil {
			c.own.CloseIdleConnections()
		}
		close(c.done)
	}()
	failures := 0
	for {
		progressed, err := c.serve(car, pending)
		if c.ctx.Err() != nil {
			return
		}
		if fatal(err) {
			c.finish(err)
			return
		}
		if progressed {
			failures = 0
		} else {
			failures++
		}
		c.log.Info("tether: carrier lost, resuming", "err", err)
		car, pending, err = c.resume(failures, err)
		if err != nil {
			c.finish(err)
			return
		}
	}
}

// resume attaches a new carrier to the session, backing off between
// failed attempts. failures counts the attempts that already failed in a
// row; cause is why the last carrier was lost.
func (c *Conn) resume(failures int, cause error) (carrier, []protocol.Frame, error) {
	for {
		if failures >= c.opts.MaxAttempts {
			if c.opts.MaxAttempts < 0 {
				return nil, nil, cause
			}
			return nil, nil, fmt.Errorf("tether: gave up resuming after %d attempts: %w", failures, cause)
		}
		if failures > 0 {
			t := time.NewTimer(c.backoff(failures))
			select {
			case <-t.C:
			case <-c.ctx.Done():
				t.Stop()
				return nil, nil, c.ctx.Err()
			}
		}
		car, pending, err := c.attempt()
		if err == nil {
			c.log.Info("tether: session resumed")
			return car, pending, nil
		}
		if c.ctx.Err() != nil || fatal(err) {
			return nil, nil, err
		}
		c.log.Debug("tether: resume failed", "err", err, "attempt", failures+1)
		failures++
		cause = err
	}
}

// attempt makes one carrier and resumes the session on it.
func (c *Conn) attempt() (carrier, []protocol.Frame, error) {
	car, err := newCarrier(c.opts.Transport, c.base, &c.opts)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	hello := protocol.Hello{SID: c.sid, Token: c.token, Last: c.last}
	ctx, cancel := context.WithTimeout(c.ctx, c.timing.timeout)
	c.mu.Unlock()
	defer cancel()
	open, pending, err := car.handshake(ctx, hello)
	if err != nil {
		car.close()
		var he *HandshakeError
		if errors.As(err, &he) && he.Code != 0 {
			// The session's own answer (4200 lost, 1000 closed, …): report
			// it as the session's close, as if it came on the old carrier.
			return nil, nil, he.Unwrap()
		}
		return nil, nil, err
	}
	if open.SID != hello.SID {
		car.close()
		return nil, nil, &CloseError{Code: protocol.CloseSessionLost, Reason: "server opened a new session instead of resuming"}
	}
	c.attached(open)
	return car, pending, nil
}

// attached takes in the open frame of a new carrier.
func (c *Conn) attached(open protocol.Open) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sid, c.token = open.SID, open.Token
	c.timing = timingOf(open)
	if open.Ack < c.acked {
		// The server forgot acks it gave; what it wants again is gone.
		c.log.Warn("tether: server's ack went backwards", "ack", open.Ack, "seen", c.acked)
	}
	c.ackLocked(open.Ack)
	// Re-send everything above the server's ack (SPEC.md §3).
	c.sent = c.acked
	// The hello's last told the server what we have.
	c.ackSent = c.last
	c.unackedBytes = 0
	c.ackDue = false
	if c.closing != nil {
		c.closing.written = false
	}
}

// ackLocked applies a cumulative ack from the server. c.mu is held.
func (c *Conn) ackLocked(n uint64) {
	if n <= c.acked {
		return // acks only grow (SPEC.md §3)
	}
	if n >= c.nextSeq {
		c.log.Warn("tether: server acked messages never sent", "ack", n, "next", c.nextSeq)
		return
	}
	i := 0
	for i < len(c.queue) && c.queue[i].seq <= n {
		c.queueBytes -= len(c.queue[i].frame)
		c.queue[i] = outMsg{}
		i++
	}
	c.queue = c.queue[i:]
	c.acked = n
	if c.sent < n {
		c.sent = n
	}
	c.broadcast()
}

// backoff returns the wait before attempt n+1 (n ≥ 1): ReconnectDelay
// doubled n-1 times, capped, then jittered over its upper half so that
// clients cut off together do not come back together.
func (c *Conn) backoff(n int) time.Duration {
	d := c.opts.ReconnectDelay
	for i := 1; i < n && d < c.opts.MaxReconnectDelay; i++ {
		d *= 2
	}
	d = min(d, c.opts.MaxReconnectDelay)
	return d/2 + rand.N(d/2+1)
}

// fatal reports whether err ends the Conn instead of a resume: a close
// code that says stop or renew, or a refusal that would come again.
func fatal(err error) bool {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code.Action() != protocol.ActionResume
	}
	var he *HandshakeError
	if errors.As(err, &he) {
		return he.Status < 500
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.status >= 400 && se.status < 500 && se.status != 408 && se.status != 429
	}
	return false
}
