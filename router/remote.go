package router

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/tether-rt/tether/session"
)

// parseProxies turns TrustedProxies into prefixes; a bare address is a
// one-address prefix. Invalid entries are reported, not ignored.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (c *config) trusted(a netip.Addr) bool {
	for _, p := range c.proxies {
		if p.Contains(a.Unmap()) || p.Contains(a) {
			return true
		}
	}
	return false
}

// remoteAddr resolves the client's address: the TCP peer, unless it is a
// trusted proxy, in which case X-Forwarded-For is walked from the right,
// skipping trusted proxies, and the first untrusted address is the client.
// Addresses left of it were written by the client and prove nothing.
func (c *config) remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !c.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // a malformed hop: trust nothing beyond the peer
		}
		if !c.trusted(a) {
			return a.String()
		}
	}
	return host
}

// sessionRequest keeps what the app may want of a session's opening
// request, for both dialects; RemoteAddr honours TrustedProxies. Headers,
// cookies and query are kept compactly until the app reads them
// (session.Request.KeepHeader).
func (c *config) sessionRequest(r *http.Request) session.Request {
	req := session.Request{
		RemoteAddr: c.remoteAddr(r),
		Host:       r.Host,
		Path:       r.URL.Path,
	}
	req.KeepHeader(r.Header, requestOnlyHeader)
	req.KeepQuery(r.URL.RawQuery)
	return req
}

// requestOnly are the headers that describe the opening request itself,
// not the client, so a session that outlives that request by hours does
// not keep them: hop-by-hop headers (RFC 9110 §7.6.1), the framing of the
// hello's body, what the client accepts for that one answer, its cache
// and conditional directives, the fetch metadata the browser adds to each
// request, and the WebSocket handshake's nonce and negotiation. What
// describes the client (User-Agent, Origin, Referer, Cookie,
// Authorization, Accept-Language, client hints, X-Forwarded-*, the app's
// own headers) is kept. Authorize still sees the whole request.
var requestOnly = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true, "Content-Type": true, "Content-Encoding": true, "Expect": true,
	"Accept": true, "Accept-Encoding": true, "Cache-Control": true, "Pragma": true, "Priority": true,
	"If-Match": true, "If-None-Match": true, "If-Modified-Since": true, "If-Unmodified-Since": true,
	"If-Range": true, "Range": true, "Upgrade-Insecure-Requests": true,
	"Sec-Fetch-Dest": true, "Sec-Fetch-Mode": true, "Sec-Fetch-Site": true, "Sec-Fetch-User": true,
	"Sec-Websocket-Key": true, "Sec-Websocket-Version": true, "Sec-Websocket-Extensions": true,
	"X-Tether-Token": true, // a resume secret, and a new session has none
}

func requestOnlyHeader(name string) bool { return requestOnly[name] }
