package bench

import (
	"bytes"
	"strconv"
	"time"
)

// A payload is ASCII text that starts with the time it was sent, so the
// receiver computes a latency from the message alone, whoever sent it
// (the bench itself, a broadcast publisher in another worker process, or
// a tether benchserver answering "burst"):
//
//	T<unix nanoseconds, 19 digits>.xxxxxxxx…
//
// It needs no escaping in JSON, SockJS or Socket.IO framing.
const (
	stampDigits = 19
	minPayload  = 1 + stampDigits + 1
)

// newPayload returns a payload of size bytes (at least minPayload).
func newPayload(size int) []byte {
	size = max(size, minPayload)
	b := bytes.Repeat([]byte{'x'}, size)
	b[0] = 'T'
	b[1+stampDigits] = '.'
	return b
}

// stamp writes now into the payload.
func stamp(b []byte, now time.Time) {
	putStamp(b, now.UnixNano())
}

func putStamp(b []byte, ns int64) {
	var d [stampDigits]byte
	for i := stampDigits - 1; i >= 0; i-- {
		d[i] = byte('0' + ns%10)
		ns /= 10
	}
	copy(b[1:1+stampDigits], d[:])
}

// stampOf returns the send time a payload carries, in Unix nanoseconds,
// or false when msg is not a payload.
func stampOf(msg []byte) (int64, bool) {
	if len(msg) < minPayload || msg[0] != 'T' {
		return 0, false
	}
	var ns int64
	for _, c := range msg[1 : 1+stampDigits] {
		if c < '0' || c > '9' {
			return 0, false
		}
		ns = ns*10 + int64(c-'0')
	}
	return ns, true
}

// endMarker is the last message a broadcast publisher sends: a subscriber
// that received it has received everything it is going to.
var endMarker = []byte("END-OF-BROADCAST")

// burstCommand is what a tether benchserver answers with n payloads of
// size bytes at once.
func burstCommand(n, size int) []byte {
	return []byte("burst " + strconv.Itoa(n) + " " + strconv.Itoa(size))
}
