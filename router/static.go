package router

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	clientjs "github.com/tether-rt/tether/client-js"
)

// asset is one embedded build of the browser client.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

func newAsset(body []byte, contentType string) asset {
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: contentType,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

// clientAssets maps the file names served under the prefix to the
// builds. The client's URL is not versioned, so caches revalidate hourly
// by ETag; an upgraded server is picked up within the hour, a page reload
// needs no download at all. The map and the builds are read only, so
// every router of the process shares one copy: an app that mounts a
// router per room or per tenant does not hold half a megabyte for each
// (nor hash the builds again).
var clientAssets = sync.OnceValue(func() map[string]asset {
	const js = "application/javascript; charset=utf-8"
	return map[string]asset{
		"tether.js":     newAsset(clientjs.Script(), js),
		"tether.min.js": newAsset(clientjs.MinScript(), js),
		"tether.mjs":    newAsset(clientjs.Module(), js),
	}
})

// serveAsset answers GET and HEAD for an embedded client build, with
// If-None-Match handled by http.ServeContent.
func serveAsset(w http.ResponseWriter, r *http.Request, a asset) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
