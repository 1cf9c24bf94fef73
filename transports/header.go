package transports

import "net/http"

// Header values of batch answers.
const (
	textPlain = "text/plain; charset=utf-8"
	noStore   = "no-store, no-cache, must-revalidate, max-age=0"
)

// SetHeaders sets each canonical key of the pairs kv (key, value, key,
// value, …) to its value, with one allocation for all the values where
// Header.Set makes one per value: a poll or send answer sets two or three
// headers, and these were a good share of a round trip's allocations. Each
// value's slice has a capacity of one, so a later Add to one key cannot
// write over the next key's value. The values are the answer's own, never
// shared with another answer: a wrapping handler may change them in place.
func SetHeaders(h http.Header, kv ...string) {
	v := make([]string, len(kv)/2)
	for i := range v {
		v[i] = kv[2*i+1]
		h[kv[2*i]] = v[i : i+1 : i+1]
	}
}

// setBatchHeaders sets the headers of an answer that carries a batch:
// its content type, never stored, never sniffed.
func setBatchHeaders(h http.Header, contentType string) {
	SetHeaders(h, "Content-Type", contentType, "Cache-Control", noStore,
		"X-Content-Type-Options", "nosniff")
}

// WriteAnswer is the one writer of the answers given whole, a carrier's
// and the handshake's: body, status 200 (which Write implies), of type
// contentType, never stored, never sniffed. Polling answers carry the
// app's messages as text/plain like held polls' do, and the others share
// their headers, so every answer says nosniff, not only JSONP's (SPEC.md
// §5). A parked poll writes the same headers itself (park.go).
func WriteAnswer(w http.ResponseWriter, contentType string, body []byte) {
	setBatchHeaders(w.Header(), contentType)
	w.Write(body)
}
