package session

import "sync"

// Prepared is one message sent to many sessions, a broadcast. Each framing
// encodes its payload once and every receiver's frame reuses that, so a
// broadcast to N sessions costs one encoding per framing, not N.
type Prepared struct {
	data   []byte
	binary bool

	mu  sync.Mutex
	enc []encoding // few framings exist, so a slice beats a map
}

type encoding struct {
	key any
	b   []byte
}

// NewPrepared returns a prepared text or binary message. It keeps data,
// which must not change afterwards. Invalid UTF-8 in text becomes U+FFFD,
// as with Send.
func NewPrepared(data []byte, binary bool) *Prepared {
	if !binary {
		data = validText(data)
	}
	return &Prepared{data: data, binary: binary}
}

// Data returns the payload.
func (p *Prepared) Data() []byte { return p.data }

// Binary reports whether the message is binary.
func (p *Prepared) Binary() bool { return p.binary }

// Encoded returns the payload as encoded by encode for the framing named
// key, running encode only the first time that key asks.
func (p *Prepared) Encoded(key any, encode func(data []byte) []byte) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.enc {
		if e.key == key {
			return e.b
		}
	}
	b := encode(p.data)
	p.enc = append(p.enc, encoding{key, b})
	return b
}

// SendPrepared queues a prepared message, as Send does: it never waits,
// and a session over its outbound bound is closed as a slow consumer.
func (s *Session) SendPrepared(p *Prepared) error {
	return s.pushEntry(p.binary, p.data, p)
}
