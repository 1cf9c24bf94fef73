// Command hsfloor is the floor under the "100,000 abandoned sessions" row
// of BENCHMARKS.md: a server that answers the native handshake
// (POST <prefix>/handshake, SPEC.md §4.1) with an open frame and keeps no
// session at all (-store none), or only a compact record without pointers
// per handshake until it expires (-store compact, a session kept off the
// heap until its first poll). `tether bench -scenario churn -abandon`
// drives it as it drives the benchserver, so its settled RSS says how far
// any Go server on net/http can come back after the same load.
//
// Its binary holds and starts as many tether routers as the benchserver
// (two native, two SockJS, mounted where no request goes), so that both
// start from about the same RSS. Once no handshake came for -quiet, it returns
// its free memory to the OS (debug.FreeOSMemory), as tether's registry does
// when its table shrinks.
//
//	go run ./bench/hsfloor -addr 127.0.0.1:18300 -store none
//	tether bench -scenario churn -abandon -count 100000 -c 50 -d 60s -settle 30s \
//	  -transport longpoll -target http://127.0.0.1:18300/echo -server-pid PID
package main

import (
	"crypto/rand"
	"encoding/base64"
	"flag"
	"io"
	"log"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/tether-rt/tether"
	"github.com/tether-rt/tether/protocol"
)

// record is what -store compact keeps per handshake: no pointer, so the
// table's memory is never scanned and is one allocation per growth.
type record struct {
	token   [16]byte
	expires int64
}

type table struct {
	mu      sync.Mutex
	m       map[uuid.UUID]record
	peak    int
	compact bool
	last    time.Time // the last handshake
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18300", "address to serve on")
	store := flag.String("store", "none", "what a handshake keeps: none, or compact (a record until it expires)")
	expiry := flag.Duration("expiry", 10*time.Second, "-store compact: how long a record is kept")
	quiet := flag.Duration("quiet", 5*time.Second, "return free memory to the OS once no handshake came for this long")
	flag.Parse()
	if *store != "none" && *store != "compact" {
		log.Fatalf("hsfloor: -store %q: want none or compact", *store)
	}

	app := func(c *tether.Conn) { c.OnMessage(func(m tether.Message) { c.Send(m.Text()) }) }
	mux := http.NewServeMux()
	for _, p := range []string{"/unused/a", "/unused/b"} { // the benchserver's two of each
		mux.Handle(p+"/", tether.New(app, &tether.Options{}))
		mux.Handle(p+"/sockjs/", tether.NewSockJS(p+"/sockjs", app, &tether.SockJSOptions{}))
	}

	t := &table{m: map[uuid.UUID]record{}, compact: *store == "compact"}
	mux.HandleFunc("POST /echo/handshake", func(w http.ResponseWriter, r *http.Request) {
		t.handshake(w, r, *expiry)
	})
	go t.sweep(*quiet)
	log.Printf("hsfloor: native handshakes at http://%s/echo, -store %s", *addr, *store)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// handshake reads the hello as the router does (at most 4 KiB) and
// answers an open frame with the router's default figures.
func (t *table) handshake(w http.ResponseWriter, r *http.Request, expiry time.Duration) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	if err == nil {
		_, err = protocol.DecodeHello(body)
	}
	if err != nil {
		http.Error(w, "bad hello", http.StatusBadRequest)
		return
	}
	sid := uuid.New()
	rec := record{expires: time.Now().Add(expiry).UnixNano()}
	rand.Read(rec.token[:])
	t.mu.Lock()
	t.last = time.Now()
	if t.compact {
		t.m[sid] = rec
		t.peak = max(t.peak, len(t.m))
	}
	t.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(protocol.AppendOpen(nil, protocol.Open{
		V: protocol.Version, SID: sid.String(), Token: base64.RawURLEncoding.EncodeToString(rec.token[:]),
		Heartbeat: 25000, Timeout: 50000, Poll: 1000, MaxMessage: 64 << 10, MaxSend: 260 << 10,
	}), '\n'))
}

// sweep runs sweepOnce every second, and returns free memory to the OS
// once the table is empty and handshakes stopped for quiet.
func (t *table) sweep(quiet time.Duration) {
	var freedAt time.Time
	for now := range time.Tick(time.Second) {
		last, empty := t.sweepOnce(now)
		if empty && !last.IsZero() && last != freedAt && now.Sub(last) > quiet {
			freedAt = last
			debug.FreeOSMemory()
		}
	}
}

// sweepOnce drops the records expired at now and moves what is left into
// a new map once it is under a quarter of the peak (a Go map never
// shrinks). It returns the time of the last handshake and whether the
// table is empty.
func (t *table) sweepOnce(now time.Time) (last time.Time, empty bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.m {
		if v.expires < now.UnixNano() {
			delete(t.m, k)
		}
	}
	if t.peak > 1024 && len(t.m) < t.peak/4 {
		m := make(map[uuid.UUID]record, len(t.m))
		for k, v := range t.m {
			m[k] = v
		}
		t.m, t.peak = m, len(m)
	}
	return t.last, len(t.m) == 0
}
