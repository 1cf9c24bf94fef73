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
// request, for both dialects; RemoteAddr honours TrustedProxies.
func (c *config) sessionRequest(r *http.Request) session.Request {
	return session.Request{
		Header:     r.Header.Clone(),
		Query:      r.URL.Query(),
		Cookies:    r.Cookies(),
		RemoteAddr: c.remoteAddr(r),
		Host:       r.Host,
		Path:       r.URL.Path,
	}
}
