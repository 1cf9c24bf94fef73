package router

import (
	"net/url"
	"strings"
)

// queryGet returns the first value of key in the raw query rawQuery, as
// url.Values.Get on url.ParseQuery's result would, without building the
// map: the receive and send paths read two or three fields of every
// request, and parsing the whole query into a map for each was the largest
// allocation a long-polling round trip made. Like ParseQuery it skips
// pairs with a semicolon or a bad escape, and it unescapes only what has
// to be.
func queryGet(rawQuery, key string) string {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		if k != key {
			continue
		}
		if !strings.ContainsAny(v, "%+") {
			return v
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		return uv
	}
	return ""
}
