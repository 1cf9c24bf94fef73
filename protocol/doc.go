// Package protocol encodes and decodes the frames of tether's wire dialects.
//
// It does no I/O and holds no state: every function takes bytes and returns
// bytes or values, so it can be table-tested and fuzzed in isolation, and the
// layers above (session, transports, router) never parse frames themselves.
//
// # The native dialect, tether/1
//
// SPEC.md beside this file is the normative description. In short: a frame is
// one line whose first byte is its type (o, m, b, a, h, c, H); a batch is
// frames each followed by '\n'. Text payloads are JSON strings, binary
// payloads base64, so no frame ever holds a raw newline and a batch can be
// split on '\n' without looking inside the frames.
//
// # The SockJS dialect
//
// sockjs.go encodes SockJS frames (o, h, a[...], c[code,"reason"]) with the
// escaping SockJS requires, the wrappers of its jsonp, htmlfile and
// eventsource transports, and decodes what SockJS clients send, with the
// protocol's own error texts.
//
// # Allocation
//
// Encoders follow the strconv.Append* convention: they append to a caller's
// buffer and return it, so a carrier can reuse one buffer per flush and the
// hot path allocates nothing. Decoders return slices that may alias their
// input; copy them before keeping them past the input's life.
//
// # Close codes
//
// CloseCode values are grouped in ranges that tell a client what to do next
// (stop, resume the same session, or open a new one); see CloseCode.Action.
package protocol
