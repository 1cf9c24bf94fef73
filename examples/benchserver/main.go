// Command benchserver is the tether server that `tether bench` and
// bench/compare.sh measure: the same endpoints the reference servers in
// ../shared/peers serve, on the native protocol.
//
//	/echo/       every message is sent back as it came; a message
//	             "burst N SIZE" is answered with N messages of SIZE bytes at
//	             once (each "T<unix ns>.xxx…", the bench's payload form), the
//	             server-to-client burst of the burst scenario
//	/broadcast/  every session joins one hub room; each message is sent to
//	             every session in it, the sender too, as the peers do
//	/sockjs/echo, /sockjs/broadcast
//	             the same two apps on the SockJS dialect (tether.NewSockJS)
//
// pprof is served on a separate address (-pprof) so that profiling never
// shares the measured listener.
//
//	go run ./examples/benchserver -addr 127.0.0.1:8100 -pprof 127.0.0.1:6100
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	_ "net/http/pprof" // on http.DefaultServeMux, served only on -pprof
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tether-rt/tether"
	"github.com/tether-rt/tether/hub"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8100", "address to serve on")
	pprofAddr := flag.String("pprof", "127.0.0.1:6100", "address to serve net/http/pprof on (empty: none)")
	delay := flag.Duration("disconnect-delay", 0, "session disconnect delay (0: the default, 30s)")
	heartbeat := flag.Duration("heartbeat", 0, "heartbeat interval (0: the default, 25s)")
	maxSessions := flag.Int("max-sessions", 0, "live sessions at most (0: the default, 100,000)")
	flag.Parse()

	opts := &tether.Options{
		DisconnectDelay:   *delay,
		HeartbeatInterval: *heartbeat,
		MaxSessions:       *maxSessions,
		AllowedOrigins:    []string{"*"},
	}
	sopts := &tether.SockJSOptions{
		DisconnectDelay:   *delay,
		HeartbeatInterval: *heartbeat,
		MaxSessions:       *maxSessions,
		AllowedOrigins:    []string{"*"},
	}
	room := hub.New()
	echoApp := func(c *tether.Conn) {
		c.OnMessage(func(m tether.Message) {
			if m.Binary {
				c.SendBinary(m.Data)
				return
			}
			if n, size, ok := parseBurst(m.Data); ok {
				burst(c, n, size)
				return
			}
			c.Send(m.Text())
		})
	}
	broadcastApp := func(c *tether.Conn) {
		room.Join(c, "all")
		c.OnMessage(func(m tether.Message) {
			room.Broadcast("all", m.Text())
		})
	}
	echo := tether.New(echoApp, opts)
	broadcast := tether.New(broadcastApp, opts)
	// The SockJS dialect, on the same apps (and the same hub room).
	sjEcho := tether.NewSockJS("/sockjs/echo", echoApp, sopts)
	sjBroadcast := tether.NewSockJS("/sockjs/broadcast", broadcastApp, sopts)

	mux := http.NewServeMux()
	mux.Handle("/echo/", echo)
	mux.Handle("/broadcast/", broadcast)
	mux.Handle("/sockjs/echo", sjEcho)
	mux.Handle("/sockjs/echo/", sjEcho)
	mux.Handle("/sockjs/broadcast", sjBroadcast)
	mux.Handle("/sockjs/broadcast/", sjBroadcast)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	if *pprofAddr != "" {
		go func() {
			log.Printf("benchserver: pprof at http://%s/debug/pprof/", *pprofAddr)
			if err := http.ListenAndServe(*pprofAddr, http.DefaultServeMux); err != nil {
				log.Printf("benchserver: pprof: %v", err)
			}
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		echo.Shutdown(sctx)
		broadcast.Shutdown(sctx)
		sjEcho.Shutdown(sctx)
		sjBroadcast.Shutdown(sctx)
		srv.Shutdown(sctx)
	}()
	log.Printf("benchserver: serving tether at http://%s/echo and /broadcast, SockJS at /sockjs/echo and /sockjs/broadcast (pid %d)", *addr, os.Getpid())
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// maxBurst bounds one burst, so a stray command cannot exhaust memory.
const maxBurst = 100_000

// parseBurst reads "burst N SIZE".
func parseBurst(b []byte) (n, size int, ok bool) {
	rest, found := bytes.CutPrefix(b, []byte("burst "))
	if !found {
		return 0, 0, false
	}
	f := strings.Fields(string(rest))
	if len(f) != 2 {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(f[0])
	size, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || n < 1 || n > maxBurst || size < 21 || size > 1<<20 {
		return 0, 0, false
	}
	return n, size, true
}

// burst sends n stamped messages at once: T<unix ns, 19 digits>.xxx…
func burst(c *tether.Conn, n, size int) {
	p := bytes.Repeat([]byte{'x'}, size)
	p[0] = 'T'
	copy(p[1:], strconv.AppendInt(nil, time.Now().UnixNano(), 10))
	p[20] = '.'
	msg := string(p)
	for range n {
		if c.Send(msg) != nil {
			return
		}
	}
}
