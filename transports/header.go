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

// writeAnswer is the one writer of the answers a carrier gives whole:
// body, status 200 (which Write implies), of type contentType, never
// stored. nosniff adds X-Content-Type-Options (setBatchHeaders), which held
// polls', JSONP's and close frames' answers carry and polling's and send's
// never did (SPEC.md asks it of JSONP alone). A parked poll writes the
// same headers itself (park.go).
func writeAnswer(w http.ResponseWriter, contentType string, nosniff bool, body []byte) {
	if nosniff {
		setBatchHeaders(w.Header(), contentType)
	} else {
		SetHeaders(w.Header(), "Content-Type", contentType, "Cache-Control", noStore)
	}
	w.Write(body)
}
