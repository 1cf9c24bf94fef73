package session

import "github.com/tether-rt/tether/protocol"

// Outgoing is one numbered server message as a carrier sees it. Data is
// never modified after Send, so a carrier may read it without the lock.
type Outgoing struct {
	Seq    uint64
	Binary bool
	Data   []byte
	// Prepared, when set, is the broadcast this message came from; a
	// framer may reuse its cached encoding of Data.
	Prepared *Prepared
}

// outLog keeps the messages the client has not acknowledged. Entries live
// in items[head:]; the consumed prefix is reclaimed when it dominates, so
// trimming is O(1) amortised.
type outLog struct {
	items []Outgoing
	head  int
	seq   uint64 // last sequence number assigned
	acked uint64 // client's cumulative ack
	bytes int    // payload bytes of unacknowledged entries
}

func (l *outLog) push(binary bool, data []byte, p *Prepared) {
	l.seq++
	l.items = append(l.items, Outgoing{Seq: l.seq, Binary: binary, Data: data, Prepared: p})
	l.bytes += len(data)
}

// ack drops every entry up to n. Acks only grow, and cannot pass what was
// sent: a larger one is treated as acknowledging everything.
func (l *outLog) ack(n uint64) {
	if n > l.seq {
		n = l.seq
	}
	if n <= l.acked {
		return
	}
	l.acked = n
	for l.head < len(l.items) && l.items[l.head].Seq <= n {
		l.bytes -= len(l.items[l.head].Data)
		l.items[l.head] = Outgoing{}
		l.head++
	}
	if l.head == len(l.items) {
		l.items, l.head = l.items[:0], 0
	} else if l.head > 64 && l.head*2 > len(l.items) {
		n := copy(l.items, l.items[l.head:])
		clear(l.items[n:])
		l.items, l.head = l.items[:n], 0
	}
}

// from returns the live entries with Seq >= seq.
func (l *outLog) from(seq uint64) []Outgoing {
	live := l.items[l.head:]
	if len(live) == 0 || seq > l.seq {
		return nil
	}
	i := 0
	if seq > live[0].Seq {
		i = int(seq - live[0].Seq)
	}
	return live[i:]
}

func (l *outLog) reset() {
	l.acked = l.seq
	l.items, l.head, l.bytes = nil, 0, 0
}

// Batch is what a receiver takes in one go: the client messages' ack to
// piggyback, the next messages, and the close frame once everything before
// it has been taken.
type Batch struct {
	// Ack, when not zero, is the server's cumulative ack of client messages,
	// sent at the front of the batch.
	Ack uint64
	// Msgs are the next messages, in order. The slice is reused by the
	// next call to Next.
	Msgs []Outgoing
	// Close is set when the session is closed and the batch ends with its
	// close frame; the carrier ends after writing it.
	Close     bool
	CloseCode protocol.CloseCode
	Reason    string
}

// Empty reports whether the batch has nothing to write.
func (b *Batch) Empty() bool { return b.Ack == 0 && len(b.Msgs) == 0 && !b.Close }

// Receiver is a session's one attached receiving carrier. Its methods are
// for the carrier goroutine that attached it; wake-ups come from any.
type Receiver struct {
	s      *Session
	name   string
	next   uint64 // next sequence number to hand out
	sentIn uint64 // last client ack handed out, guarded by s.mu
	signal chan struct{}
	probe  chan struct{} // made by Probe: carriers use OnWake now
	probed bool          // a probe came before Probe made the channel
	ended  bool

	// onReady and onProbe, when set, are called as well as the channels
	// are signalled, so a carrier need not keep a goroutine waiting on
	// them. Guarded by s.mu; called without it.
	onReady, onProbe func()
}

// OnWake sets functions called, besides signalling Ready and Probe, when
// the receiver may have something new to take and when it should probe its
// peer. They run on whichever goroutine caused the wake-up (an app's Send,
// a session close, a refused carrier) and without the session's lock, so
// they may call Next; they must not wait long. Either may be nil.
func (r *Receiver) OnWake(ready, probe func()) {
	r.s.mu.Lock()
	r.onReady, r.onProbe = ready, probe
	r.s.mu.Unlock()
}

// readyFuncLocked returns the attached receiver's wake function, if any,
// for a caller holding s.mu to run once it released it.
func (s *Session) readyFuncLocked() func() {
	if s.rcv != nil {
		return s.rcv.onReady
	}
	return nil
}

func (r *Receiver) wake() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// Probe is signalled when another carrier was refused because this one is
// attached. The client may have lost this carrier without the server
// noticing (a network change); a carrier that can check its peer quickly
// (a WebSocket ping) should, so the client's resume is not refused for long.
// The channel is made on the first call (carriers mostly use OnWake), and
// holds a probe that came before it.
func (r *Receiver) Probe() <-chan struct{} {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.probe == nil {
		r.probe = make(chan struct{}, 1)
		if r.probed {
			r.probe <- struct{}{}
		}
	}
	return r.probe
}

// Ready is signalled when the receiver may have something new to take:
// messages, an ack, or the close. A signal may be spurious; Next tells.
func (r *Receiver) Ready() <-chan struct{} { return r.signal }

// Name returns the carrier name the receiver attached as.
func (r *Receiver) Name() string { return r.name }

// Next fills b with what the client has not been given yet, up to
// maxBytes of payload (at least one message), and reports whether there is
// anything to write. Messages stay in the log until the client acks them.
func (r *Receiver) Next(b *Batch, maxBytes int) bool {
	s := r.s
	b.Msgs = b.Msgs[:0]
	b.Ack, b.Close, b.CloseCode, b.Reason = 0, false, 0, ""
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ended {
		return false
	}
	if s.inSeq > r.sentIn {
		b.Ack = s.inSeq
		r.sentIn = s.inSeq
	}
	if r.next <= s.out.acked {
		r.next = s.out.acked + 1
	}
	size := 0
	for _, m := range s.out.from(r.next) {
		if len(b.Msgs) > 0 && size+len(m.Data) > maxBytes {
			break
		}
		b.Msgs = append(b.Msgs, m)
		size += len(m.Data)
	}
	if n := len(b.Msgs); n > 0 {
		r.next = b.Msgs[n-1].Seq + 1
	}
	if s.closed && r.next > s.out.seq {
		b.Close, b.CloseCode, b.Reason = true, s.cl.frame.code, s.cl.frame.reason
		r.ended = true
	}
	return !b.Empty()
}

// Detach ends the receiver. The session starts its disconnect delay if no
// other receiver attached meanwhile. Detach is idempotent.
func (r *Receiver) Detach() {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r.ended = true
	if s.rcv != r {
		return
	}
	s.rcv = nil
	if !s.closed {
		s.armLocked()
	}
}
