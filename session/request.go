package session

import (
	"net/http"
	"net/url"
)

// Request is what the opening request of a session said, kept as plain data
// so the app can read it long after that request ended.
//
// A router keeps it with KeepHeader and KeepQuery, which store the headers
// and the query compactly and build Header, Query and Cookies on their
// first read through the Session (Request, Header, Query, Cookie): a map is
// about 400 bytes even for one header, and the cookies a browser sends
// parse into a couple of hundred bytes each, which made up half of an idle
// or abandoned session while most apps never read them.
type Request struct {
	// Header holds the headers that describe the client; the router drops
	// those that only concerned the opening request (hop-by-hop, body
	// framing, content negotiation, fetch metadata, the WebSocket nonce).
	Header http.Header
	// Query holds the query parameters; nil when there were none.
	Query      url.Values
	Cookies    []*http.Cookie
	RemoteAddr string // the client's address, after trusted proxies
	Host       string
	Path       string

	pairs    []string // header names and values, not yet in Header
	rawQuery string   // the query, not yet in Query
}

// KeepHeader records h as Header, without the headers skip reports, and
// Cookies from its Cookie header. It copies nothing but the value list:
// the strings are the request's, which never change.
func (r *Request) KeepHeader(h http.Header, skip func(name string) bool) {
	n := 0
	for k, v := range h {
		if !skip(k) {
			n += 2 * len(v)
		}
	}
	if n == 0 {
		return
	}
	r.pairs = make([]string, 0, n)
	for k, v := range h {
		if skip(k) {
			continue
		}
		for _, x := range v {
			r.pairs = append(r.pairs, k, x)
		}
	}
}

// KeepQuery records raw, a URL's encoded query, as Query.
func (r *Request) KeepQuery(raw string) { r.rawQuery = raw }

// fill builds what KeepHeader and KeepQuery recorded. The caller holds the
// session's lock.
func (r *Request) fill() {
	if r.pairs != nil {
		// One map sized for the names and one array for every value, as
		// http.Header.Clone makes; a name's values are adjacent.
		keys := 0
		for i := 0; i < len(r.pairs); i += 2 {
			if i == 0 || r.pairs[i] != r.pairs[i-2] {
				keys++
			}
		}
		h := make(http.Header, keys)
		vals := make([]string, len(r.pairs)/2)
		for i := 0; i < len(r.pairs); {
			k, j := r.pairs[i], 0
			for ; i < len(r.pairs) && r.pairs[i] == k; i += 2 {
				vals[j] = r.pairs[i+1]
				j++
			}
			h[k] = vals[:j:j]
			vals = vals[j:]
		}
		r.Header, r.pairs = h, nil
		if len(h["Cookie"]) > 0 {
			r.Cookies = (&http.Request{Header: http.Header{"Cookie": h["Cookie"]}}).Cookies()
		}
	}
	if r.rawQuery != "" {
		r.Query, _ = url.ParseQuery(r.rawQuery)
		r.rawQuery = ""
	}
}
