package router

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// xhrSessionHeaders sets, in one call, what setSockJSNoCache and
// sockjsCORS set apart, and each value stays its own: adding to one key
// after it leaves the others as they were.
func TestXHRSessionHeaders(t *testing.T) {
	for _, tc := range []struct {
		origin, requested string
		want              http.Header
	}{
		{"", "", http.Header{
			"Cache-Control":               {sockjsNoCache},
			"Access-Control-Allow-Origin": {"*"},
			"Vary":                        {"Origin"},
		}},
		{"https://a.example", "X-A, X-B", http.Header{
			"Cache-Control":                    {sockjsNoCache},
			"Access-Control-Allow-Origin":      {"https://a.example"},
			"Access-Control-Allow-Credentials": {"true"},
			"Vary":                             {"Origin"},
			"Access-Control-Allow-Headers":     {"X-A, X-B"},
		}},
	} {
		r := httptest.NewRequest(http.MethodPost, "/echo/000/s/xhr", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.requested != "" {
			r.Header.Set("Access-Control-Request-Headers", tc.requested)
		}
		apart := http.Header{}
		setSockJSNoCache(apart)
		sockjsCORS(apart, r)
		one := http.Header{}
		xhrSessionHeaders(one, r)
		for name, h := range map[string]http.Header{"apart": apart, "one call": one} {
			if len(h) != len(tc.want) {
				t.Errorf("origin %q, %s: %v, want %v", tc.origin, name, h, tc.want)
			}
			for k, v := range tc.want {
				if !slices.Equal(h[k], v) {
					t.Errorf("origin %q, %s: %s %q, want %q", tc.origin, name, k, h[k], v)
				}
			}
		}
		one.Add("Vary", "Accept-Encoding")
		one.Add("Cache-Control", "private")
		if got := one["Vary"]; !slices.Equal(got, []string{"Origin", "Accept-Encoding"}) {
			t.Errorf("Vary after Add: %q", got)
		}
		if got := one["Access-Control-Allow-Origin"]; !slices.Equal(got, tc.want["Access-Control-Allow-Origin"]) {
			t.Errorf("Access-Control-Allow-Origin after Adds: %q", got)
		}
	}
}
