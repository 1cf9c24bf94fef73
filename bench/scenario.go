package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// runner runs one scenario in one process, in three phases so that
// several worker processes can be lined up between them: setup (connect),
// run (measure for the duration), teardown (close).
type runner struct {
	cfg  Config
	e    *env
	dial dialFunc
	log  io.Writer

	conns []Conn // the sessions that opened (broadcast: subscribers)
	pub   Conn   // broadcast publisher (worker 0 only)

	errors    atomic.Int64
	msgs      atomic.Int64
	sent      atomic.Int64
	delivered atomic.Int64
	latency   *Histogram
	perPoll   *Histogram
	elapsed   time.Duration
	cpu       time.Duration // this process's CPU time over the measured window

	measuring atomic.Bool
	stopped   atomic.Bool
	wg        sync.WaitGroup // receive loops started in setup
	ended     sync.WaitGroup // broadcast: subscribers that saw the end marker or quit
	errOnce   sync.Once
	firstErr  error
	note      string
}

func newRunner(cfg Config, log io.Writer) (*runner, error) {
	e, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	return &runner{cfg: cfg, e: e, dial: e.dialer(), log: log, latency: NewHistogram(), perPoll: NewHistogram()}, nil
}

// fail counts an error and keeps the first one for the report.
func (r *runner) fail(err error) {
	r.errors.Add(1)
	r.errOnce.Do(func() { r.firstErr = err })
}

// connect opens n sessions, Dials at a time, and returns those that
// opened; failures are counted.
func (r *runner) connect(ctx context.Context, n int) []Conn {
	out := make([]Conn, n)
	sem := make(chan struct{}, r.cfg.Dials)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			dctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
			defer cancel()
			c, err := r.dial(dctx)
			if err != nil {
				r.fail(err)
				return
			}
			out[i] = c
		}()
	}
	wg.Wait()
	conns := out[:0]
	for _, c := range out {
		if c != nil {
			conns = append(conns, c)
		}
	}
	return conns
}

// setup connects the scenario's sessions; for broadcast and idle it also
// starts their receive loops.
func (r *runner) setup(ctx context.Context) error {
	switch r.cfg.Scenario {
	case "churn":
		return nil // its sessions are the measurement
	case "broadcast":
		r.conns = r.connect(ctx, r.cfg.Conns)
		if r.cfg.WorkerIndex == 0 {
			pubs := r.connect(ctx, 1)
			if len(pubs) == 0 {
				return fmt.Errorf("the publisher could not connect: %v", r.firstErr)
			}
			r.pub = pubs[0]
		}
		for _, c := range r.conns {
			r.wg.Add(1)
			r.ended.Add(1)
			go r.subscribe(c)
		}
	case "idle":
		r.conns = r.connect(ctx, r.cfg.Conns)
		if r.cfg.Transport != "websocket" {
			r.e.wrote.Store(0)
			r.e.countWrites.Store(true)
		}
		for _, c := range r.conns {
			r.wg.Add(1)
			go r.hold(c)
		}
		if r.cfg.Transport != "websocket" {
			r.awaitPolls(ctx)
		}
	default:
		r.conns = r.connect(ctx, r.cfg.Conns)
	}
	if len(r.conns) == 0 && r.cfg.Conns > 0 {
		return fmt.Errorf("no session opened: %v", r.firstErr)
	}
	return nil
}

// awaitPolls waits until every idle HTTP session's first receive request
// was written (then a moment for the server to park it), so that the hold
// measures parked polls and not a ramp.
func (r *runner) awaitPolls(ctx context.Context) {
	deadline := time.Now().Add(r.cfg.Timeout + time.Duration(len(r.conns))*time.Millisecond)
	for r.e.wrote.Load() < int64(len(r.conns)) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	r.e.countWrites.Store(false)
	if r.e.wrote.Load() < int64(len(r.conns)) {
		r.note = joinNote(r.note, fmt.Sprintf("only %d of %d first polls were sent in time", r.e.wrote.Load(), len(r.conns)))
	}
	time.Sleep(200 * time.Millisecond)
}

// hold keeps an idle session alive: it reads (answering pings and
// heartbeats inside Recv) until the session ends.
func (r *runner) hold(c Conn) {
	defer r.wg.Done()
	for {
		if _, err := c.Recv(func([]byte) {}); err != nil {
			if !r.stopped.Load() {
				r.fail(fmt.Errorf("idle session ended: %w", err))
			}
			return
		}
	}
}

// run measures for the configured duration.
func (r *runner) run(ctx context.Context) {
	start, cpu0 := time.Now(), selfCPU()
	defer func() { r.cpu = selfCPU() - cpu0 }()
	// A cancel at the end rather than a deadline: a deadline would reach
	// the dials and reads in flight as timeouts, indistinguishable from
	// the server's.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := time.AfterFunc(r.cfg.Duration, cancel)
	defer t.Stop()
	r.measuring.Store(true)
	switch r.cfg.Scenario {
	case "echo":
		r.each(ctx, r.echo)
	case "burst":
		r.each(ctx, r.burst)
	case "broadcast":
		r.publish(ctx)
	case "churn":
		r.churn(ctx)
	}
	r.elapsed = time.Since(start)
	if r.cfg.Scenario == "idle" {
		r.elapsed = r.cfg.Duration // the hold, which the caller timed
	}
	r.measuring.Store(false)
}

// each runs fn on every session until ctx ends, then ends the sessions
// whose fn is still blocked.
func (r *runner) each(ctx context.Context, fn func(ctx context.Context, c Conn, rate float64)) {
	perConn := 0.0
	if r.cfg.Rate > 0 {
		perConn = r.cfg.Rate / float64(len(r.conns))
	}
	var wg sync.WaitGroup
	for _, c := range r.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx, c, perConn)
		}()
	}
	<-ctx.Done()
	r.stopped.Store(true)
	// A round trip in flight gets the timeout to finish, then its session
	// is cut so that nothing waits for ever.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(min(r.cfg.Timeout, 2*time.Second)):
		for _, c := range r.conns {
			c.Abandon()
		}
		<-done
	}
}

// record takes a message's latency from its stamp.
func (r *runner) record(msg []byte, now int64) bool {
	ts, ok := stampOf(msg)
	if !ok {
		return false
	}
	r.latency.Record(now - ts)
	return true
}

// echo runs round trips on one session: closed loop (send, wait for the
// answer, again) when rate is 0; else at rate/s, sends and receives
// apart.
func (r *runner) echo(ctx context.Context, c Conn, rate float64) {
	buf := newPayload(r.cfg.Size)
	// Closed loop, buf is the one message in flight: the answer must be
	// it, byte for byte. Paced, buf is restamped while answers arrive.
	verify := rate == 0
	onMsg := func(msg []byte) {
		if verify && !bytes.Equal(msg, buf) {
			r.sessionErr(fmt.Errorf("echo answer differs: sent %.40q, got %.40q", buf, msg))
			return
		}
		if r.record(msg, time.Now().UnixNano()) && r.measuring.Load() {
			r.msgs.Add(1)
		}
	}
	if rate > 0 {
		r.paced(ctx, c, rate, buf, onMsg)
		return
	}
	for ctx.Err() == nil {
		stamp(buf, time.Now())
		if err := c.Send(buf); err != nil {
			r.sessionErr(err)
			return
		}
		r.sent.Add(1)
		got := 0
		for got == 0 {
			n, err := c.Recv(onMsg)
			if err != nil {
				r.sessionErr(err)
				return
			}
			got += n
		}
	}
}

// paced sends at rate/s on one goroutine and receives on another. The
// answers are counted as fn sees them, not as Recv returns: a tether
// longpoll or polling Send hands the messages its answer carried to the fn
// of the Recv in progress (nativeConn.carried), and that Recv, a poll the
// server holds, may return only at the next heartbeat.
func (r *runner) paced(ctx context.Context, c Conn, rate float64, buf []byte, onMsg func([]byte)) {
	done := make(chan struct{})
	var got, sent atomic.Int64
	var quitting atomic.Bool
	count := func(msg []byte) {
		got.Add(1)
		onMsg(msg)
	}
	go func() {
		defer close(done)
		for {
			if _, err := c.Recv(count); err != nil {
				if !quitting.Load() {
					r.sessionErr(err)
				}
				return
			}
		}
	}()
	every := time.Duration(float64(time.Second) / rate)
	t := time.NewTicker(every)
	defer t.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-done:
			return
		case <-t.C:
			stamp(buf, time.Now())
			if err := c.Send(buf); err != nil {
				r.sessionErr(err)
				break loop
			}
			r.sent.Add(1)
			sent.Add(1)
		}
	}
	// Let the answers in flight arrive, then stop the receiver.
	for wait := time.Now().Add(min(r.cfg.Timeout, time.Second)); got.Load() < sent.Load() && time.Now().Before(wait); {
		time.Sleep(5 * time.Millisecond)
	}
	quitting.Store(true)
	c.Abandon()
	<-done
}

// sessionErr counts an error unless the run is over (then it is the
// teardown cutting a session).
func (r *runner) sessionErr(err error) {
	if !r.stopped.Load() {
		r.fail(err)
	}
}

// burst asks for bursts of cfg.Burst messages and reads them, recording
// how many each answer (poll response, WebSocket message, stream read)
// carried. A tether server is asked with "burst N SIZE"; other servers
// get the burst as one batch to echo.
func (r *runner) burst(ctx context.Context, c Conn, rate float64) {
	n := r.cfg.Burst
	var batch [][]byte
	if r.cfg.Proto != "tether" {
		batch = make([][]byte, n)
		for i := range batch {
			batch[i] = newPayload(r.cfg.Size)
		}
	}
	onMsg := func(msg []byte) {
		r.record(msg, time.Now().UnixNano())
		if r.measuring.Load() {
			r.msgs.Add(1)
		}
	}
	cmd := burstCommand(n, r.cfg.Size)
	var pace *time.Ticker
	if rate > 0 {
		pace = time.NewTicker(time.Duration(float64(time.Second) * float64(n) / rate))
		defer pace.Stop()
	}
	for ctx.Err() == nil {
		var err error
		if batch == nil {
			err = c.Send(cmd)
		} else {
			now := time.Now()
			for _, b := range batch {
				stamp(b, now)
			}
			err = c.SendBatch(batch)
		}
		if err != nil {
			r.sessionErr(err)
			return
		}
		r.sent.Add(int64(n))
		for got := 0; got < n; {
			k, err := c.Recv(onMsg)
			if err != nil {
				r.sessionErr(err)
				return
			}
			if k > 0 && r.measuring.Load() {
				r.perPoll.Record(int64(k))
			}
			got += k
		}
		if pace != nil {
			select {
			case <-pace.C:
			case <-ctx.Done():
			}
		}
	}
}

// subscribe reads a broadcast subscriber's deliveries until the end
// marker or the end of the session.
func (r *runner) subscribe(c Conn) {
	defer r.wg.Done()
	ended := false
	defer func() {
		if !ended {
			r.ended.Done()
		}
	}()
	for {
		_, err := c.Recv(func(msg []byte) {
			if ended {
				return
			}
			if string(msg) == string(endMarker) {
				ended = true
				r.ended.Done()
				return
			}
			if r.record(msg, time.Now().UnixNano()) {
				r.delivered.Add(1)
			}
		})
		if err != nil {
			if !r.stopped.Load() && !ended {
				r.fail(fmt.Errorf("subscriber ended: %w", err))
			}
			return
		}
	}
}

// publish sends stamped messages at cfg.Rate (0: each after the previous
// one came back to the publisher, who is subscribed too), then the end
// marker, and waits for the subscribers to see it.
func (r *runner) publish(ctx context.Context) {
	defer func() {
		r.waitEnded()
		r.stopped.Store(true)
	}()
	if r.pub == nil {
		<-ctx.Done()
		return
	}
	buf := newPayload(r.cfg.Size)
	back := make(chan struct{}, 1)
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for {
			if _, err := r.pub.Recv(func(msg []byte) {
				if _, ok := stampOf(msg); ok {
					select {
					case back <- struct{}{}:
					default:
					}
				}
			}); err != nil {
				return
			}
		}
	}()
	var tick <-chan time.Time
	if r.cfg.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / r.cfg.Rate))
		defer t.Stop()
		tick = t.C
	}
	for ctx.Err() == nil {
		stamp(buf, time.Now())
		if err := r.pub.Send(buf); err != nil {
			r.fail(fmt.Errorf("publisher: %w", err))
			break
		}
		r.sent.Add(1)
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
			}
			continue
		}
		select {
		case <-back:
		case <-ctx.Done():
		case <-time.After(r.cfg.Timeout):
			r.fail(errors.New("publisher: its own message did not come back"))
		}
	}
	end := newPayload(len(endMarker))
	copy(end, endMarker)
	if err := r.pub.Send(end[:len(endMarker)]); err != nil {
		r.fail(fmt.Errorf("publisher: %w", err))
	}
	r.waitEnded()
	r.pub.Abandon()
	<-pubDone
}

// waitEnded waits until every subscriber saw the end marker, or the
// timeout (a lossy server may drop the marker too).
func (r *runner) waitEnded() {
	done := make(chan struct{})
	go func() { r.ended.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(r.cfg.Timeout):
		r.note = "some subscribers never saw the end marker"
	}
}

// churn opens and closes (or abandons) sessions, Conns at a time, until
// the duration or the count is reached; latency is the whole cycle.
func (r *runner) churn(ctx context.Context) {
	var left atomic.Int64
	left.Store(int64(r.cfg.Count))
	var wg sync.WaitGroup
	for range r.cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if r.cfg.Count > 0 && left.Add(-1) < 0 {
					return
				}
				t0 := time.Now()
				dctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
				c, err := r.dial(dctx)
				cancel()
				if err != nil {
					if ctx.Err() == nil {
						r.fail(err)
					}
					continue
				}
				if r.cfg.Abandon {
					c.Abandon()
				} else {
					c.Close()
				}
				r.latency.Record(time.Since(t0).Nanoseconds())
				r.msgs.Add(1)
			}
		}()
	}
	wg.Wait()
	r.stopped.Store(true)
}

// teardown closes every session and waits for the receive loops.
func (r *runner) teardown() {
	r.stopped.Store(true)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range r.conns {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c.Close()
		}()
	}
	wg.Wait()
	if r.pub != nil {
		r.pub.Abandon()
	}
	waited := make(chan struct{})
	go func() { r.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		for _, c := range r.conns {
			c.Abandon()
		}
		<-waited
	}
	r.e.close()
}

// result reports what this process measured.
func (r *runner) result() *Result {
	res := &Result{
		Label: r.cfg.Label, Scenario: r.cfg.Scenario, Proto: r.cfg.Proto, Transport: r.cfg.Transport,
		Target: r.cfg.Target, Conns: r.cfg.Conns, Workers: 1, Size: r.cfg.Size, Rate: r.cfg.Rate,
		Duration: seconds(r.elapsed), Msgs: r.msgs.Load(), Errors: r.errors.Load(),
		Connected: len(r.conns), Sent: r.sent.Load(), Subs: len(r.conns),
		Latency: r.latency, PerPoll: r.perPoll, Note: r.note, DriverCPU: r.cpu.Seconds(),
	}
	switch r.cfg.Scenario {
	case "broadcast":
		res.Delivered = r.delivered.Load()
		res.Msgs = res.Delivered
	case "churn":
		res.Connected = int(res.Msgs)
	}
	if r.firstErr != nil {
		e := r.firstErr.Error()
		if len(e) > 160 {
			e = e[:160]
		}
		res.Note = joinNote(res.Note, "first error: "+e)
	}
	return res
}

func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
