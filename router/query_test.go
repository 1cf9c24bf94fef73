package router

import (
	"net/url"
	"testing"
)

// TestQueryGet: queryGet agrees with url.ParseQuery(...).Get on every
// query, escapes, repeats and malformed pairs included.
func TestQueryGet(t *testing.T) {
	queries := []string{
		"", "sid=abc", "sid=abc&ack=12", "ack=12&sid=abc&sid=def", "sid=", "sid", "=x&sid=1",
		"sid=a%2Fb+c", "s%69d=escaped-key", "sid=%zz&sid=second", "sid=a;b&sid=c", "x=1;sid=2&sid=3",
		"&&sid=x&&", "token=a+b%2B&c=cb.x", "sid=%E2%82%AC", "a=1&b=2&c=3&d=4&sid=last",
		"SID=upper&sid=lower", "sid%=bad&sid=good",
	}
	for _, q := range queries {
		want, _ := url.ParseQuery(q)
		for _, k := range []string{"sid", "ack", "token", "c", "x", "SID", "sid%"} {
			if got := queryGet(q, k); got != want.Get(k) {
				t.Errorf("queryGet(%q, %q) = %q, ParseQuery says %q", q, k, got, want.Get(k))
			}
		}
	}
}
