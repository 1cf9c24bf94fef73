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
	// More is set when Next stopped at maxBytes with messages left: a
	// carrier that takes everything calls Next again. Without it, what
	// comes later is announced by the receiver's wake-up, so a carrier
	// woken for each needs no second call to learn there is nothing.
	More bool
}

// Empty reports whether the batch has nothing to write.
func (b *Batch) Empty() bool { return b.Ack == 0 && len(b.Msgs) == 0 && !b.Close }

// Receiver is a session's one attached receiving carrier. Its methods are
// for the carrier goroutine that attached it; wake-ups come from any.
type Receiver struct {
	s    *Session
	name string
	next uint64 // next sequence number to hand out
	// ready is made by the first call of Ready, guarded by s.mu: a poll
	// that finds messages at once never waits, and a carrier woken by
	// onReady never asks; it was an allocation per poll.
	ready      lazySignal
	ended      bool
	acksOnData bool // see AcksOnData
	heldBack   bool // see HeldBack

	// onReady and onProbe are OnWake's. Guarded by s.mu; called without it.
	onReady, onProbe func()
}

// OnWake sets functions called when the receiver may have something new to
// take (besides signalling Ready), so a carrier need not keep a goroutine
// waiting on the channel, and when it should probe its peer: another
// carrier was refused because this one is attached, and the client may
// have lost this one without the server noticing (a network change), so a
// carrier that can check its peer quickly (a WebSocket ping) should, and
// the client's resume is not refused for long. A refusal while no probe
// is set is not remembered: a carrier sets it as soon as it waits on its
// peer (a WebSocket after its hello, a poll when it parks; a poll held on
// its goroutine hears of a client that left from its request's context).
// The functions run on whichever goroutine caused the wake-up (an app's
// Send, a client message, a session close, a refused carrier) and without
// the session's lock, so they may call Next; they must not wait long.
// Either may be nil.
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

func (r *Receiver) wake() { r.ready.fire() }

// Ready is signalled when the receiver may have something new to take:
// messages, an ack, or the close. A signal may be spurious; Next tells.
// Attach leaves one signal in it, so a carrier looks at once, unless Next
// looked before Ready was first called. A carrier that waits in a loop
// should call Ready once, before it.
func (r *Receiver) Ready() <-chan struct{} {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.ready.get()
}

// lazySignal is a one-slot wake-up channel made only when someone asks to
// wait on it; a signal that comes before is remembered and found in the
// channel once made. Its owner's lock guards it.
type lazySignal struct {
	ch     chan struct{}
	missed bool // fired before the channel was made
}

func (l *lazySignal) get() <-chan struct{} {
	if l.ch == nil {
		l.ch = make(chan struct{}, 1)
		if l.missed {
			l.ch <- struct{}{}
		}
	}
	return l.ch
}

func (l *lazySignal) fire() {
	if l.ch == nil {
		l.missed = true
		return
	}
	select {
	case l.ch <- struct{}{}:
	default:
	}
}

// Name returns the carrier name the receiver attached as.
func (r *Receiver) Name() string { return r.name }

// Next fills b with what the client has not been given yet, up to
// maxBytes of payload (at least one message), and reports whether there is
// anything to write. Messages stay in the log until the client acks them.
func (r *Receiver) Next(b *Batch, maxBytes int) bool {
	s := r.s
	b.Msgs = b.Msgs[:0]
	b.Ack, b.Close, b.CloseCode, b.Reason, b.More = 0, false, 0, "", false
	s.mu.Lock()
	defer s.mu.Unlock()
	// What was signalled before Ready's channel was made, this look takes
	// in: a poll that calls Ready after finding nothing must not find a
	// stale signal and look again for nothing.
	r.ready.missed = false
	r.heldBack = false
	if r.ended {
		return false
	}
	if s.answering > 0 {
		// A send answer carrying messages is on its way: what came after
		// them must not overtake it. ReleaseWakes wakes the receiver.
		s.wakeOwed = true
		r.heldBack = true
		return false
	}
	if r.next <= s.out.acked {
		r.next = s.out.acked + 1
	}
	if s.takeLocked(b, r.next, maxBytes) {
		r.next = b.Msgs[len(b.Msgs)-1].Seq + 1
	}
	if s.closed && r.next > s.out.seq {
		b.Close, b.CloseCode, b.Reason = true, s.cl.frame.code, s.cl.frame.reason
		r.ended = true
	}
	if !r.acksOnData || len(b.Msgs) > 0 || b.Close {
		s.tellAckLocked(b)
	}
	return !b.Empty()
}

// takeLocked appends to b the logged messages from seq from on, up to
// maxBytes of payload but at least one, setting b.More when it stopped
// short, and reports whether it took any. The caller holds s.mu.
func (s *Session) takeLocked(b *Batch, from uint64, maxBytes int) bool {
	size := 0
	for _, m := range s.out.from(from) {
		if len(b.Msgs) > 0 && size+len(m.Data) > maxBytes {
			b.More = true
			break
		}
		b.Msgs = append(b.Msgs, m)
		size += len(m.Data)
	}
	return len(b.Msgs) > 0
}

// TakeAck puts the ack of the client's messages in b when one is due,
// whatever AcksOnData says: for an answer that goes out anyway (a poll's
// heartbeat), which may as well tell it.
func (r *Receiver) TakeAck(b *Batch) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !r.ended {
		s.tellAckLocked(b)
	}
}

// tellAckLocked puts the ack of the client's messages in b when one is
// due, and counts it told. The caller holds s.mu.
func (s *Session) tellAckLocked(b *Batch) {
	if s.inSeq > s.inTold {
		b.Ack = s.inSeq
		s.inTold = s.inSeq
	}
}

// AcksOnData makes Next put the ack only in a batch that carries messages
// or the close, for a carrier whose answer ends it (a poll): answering
// with an ack alone would end the poll for nothing. Such a receiver is not
// woken for an ack, and an ack it leaves out stays due, so it rides on the
// next batch that carries data, on this receiver or a later one.
func (r *Receiver) AcksOnData() {
	r.s.mu.Lock()
	r.acksOnData = true
	r.s.mu.Unlock()
}

// Detach ends the receiver. The session starts its disconnect delay if no
// other receiver attached meanwhile. Detach is idempotent, and unlike the
// other methods it may be called from any goroutine: a stream's probe
// detaches it while its own goroutine may be stuck in a write.
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
