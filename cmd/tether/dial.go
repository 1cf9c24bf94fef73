package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tether-rt/tether/client"
	"github.com/tether-rt/tether/protocol"
)

const dialUsage = `usage: tether dial URL [-transport NAME] [-origin ORIGIN] [-H 'Name: value']... [-wait DURATION]

Opens a tether session at URL, the http(s) URL of the mount (http://127.0.0.1:8080/echo),
sends each line of stdin as a text message and prints each message received on its own
line (binary ones as "[binary] <base64>"). When stdin ends it waits until the server has
acknowledged every message, prints what arrives for -wait more, closes with 1000 and exits.

Exit status: 0 after a normal close by either side; 1 when the handshake is refused
("handshake refused: <status> <reason>"), the session ends abnormally ("closed: <code>
<reason>") or the server cannot be reached; 2 on a usage error.

flags:
`

// dialTimeout bounds the handshake, so that a server that accepts the
// connection and says nothing does not hang the command.
const dialTimeout = 30 * time.Second

func runDial(ctx context.Context, args []string, s stdio) int {
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	fs.SetOutput(s.err)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), dialUsage)
		fs.PrintDefaults()
	}
	transport := fs.String("transport", protocol.WebSocket, "carrier (SPEC.md §5): one of "+strings.Join(client.Transports(), ", "))
	origin := fs.String("origin", "", "Origin header to send (none by default, as non-browser clients)")
	header := http.Header{}
	fs.Func("H", "extra header `'Name: value'` for the handshake (repeatable)", func(v string) error {
		name, value, ok := strings.Cut(v, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return errors.New("want 'Name: value'")
		}
		header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		return nil
	})
	wait := fs.Duration("wait", time.Second, "how long to keep printing after the server acknowledged stdin")

	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	if err := checkURL(pos[0]); err != nil {
		fmt.Fprintf(s.err, "tether dial: %v\n", err)
		return 2
	}
	if err := checkTransport(*transport); err != nil {
		fmt.Fprintf(s.err, "tether dial: %v\n", err)
		return 2
	}

	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, err := client.Dial(dctx, pos[0], &client.Options{Transport: *transport, Header: header, Origin: *origin})
	cancel()
	if err != nil {
		var he *client.HandshakeError
		switch {
		case errors.As(err, &he) && he.Code != 0:
			fmt.Fprintf(s.err, "handshake refused: %d %s\n", he.Code, he.Reason)
		case errors.As(err, &he):
			fmt.Fprintf(s.err, "handshake refused: %d %s\n", he.Status, he.Reason)
		default:
			fmt.Fprintf(s.err, "tether dial: %v\n", err)
		}
		return 1
	}
	return converse(ctx, conn, s, *wait)
}

// parseInterspersed parses flags before and after positional arguments,
// so that both `tether dial URL -transport longpoll` and the flag-first
// order work.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("URL %q: want http(s)://host/mount", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", raw)
	}
	return nil
}

func checkTransport(name string) error {
	if !slices.Contains(client.Transports(), name) {
		return fmt.Errorf("unknown transport %q: want one of %s", name, strings.Join(client.Transports(), ", "))
	}
	return nil
}

// converse runs the session: stdin lines out, messages in, until stdin
// ends (then flush, -wait, close), the session ends, or ctx is cancelled.
func converse(ctx context.Context, conn *client.Conn, s stdio, wait time.Duration) int {
	ended := make(chan error, 1)
	go func() { ended <- printMessages(conn, s.out) }()
	stop := make(chan struct{})
	defer close(stop)
	lines := make(chan string)
	go readLines(s.in, lines, stop)

	interrupted := func() int {
		conn.Close(protocol.CloseNormal, "interrupted")
		<-ended
		return 130
	}
	for lines != nil {
		select {
		case line, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			if conn.Send(ctx, line) != nil {
				if ctx.Err() != nil {
					return interrupted()
				}
				return report(<-ended, s.err)
			}
		case err := <-ended:
			return report(err, s.err)
		case <-ctx.Done():
			return interrupted()
		}
	}
	if err := conn.Flush(ctx); err != nil {
		if ctx.Err() != nil {
			return interrupted()
		}
		return report(<-ended, s.err)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case err := <-ended:
		return report(err, s.err)
	case <-ctx.Done():
		return interrupted()
	}
	if err := conn.Close(protocol.CloseNormal, ""); err != nil {
		fmt.Fprintf(s.err, "tether dial: %v\n", err)
	}
	<-ended // the printer has printed everything
	return 0
}

// printMessages prints messages until the Conn ends, and returns why.
func printMessages(conn *client.Conn, w io.Writer) error {
	for {
		m, err := conn.Recv(context.Background())
		if err != nil {
			return err
		}
		if m.Binary {
			fmt.Fprintf(w, "[binary] %s\n", base64.StdEncoding.EncodeToString(m.Data))
		} else {
			fmt.Fprintf(w, "%s\n", m.Data)
		}
	}
}

// readLines sends each line of r on lines and closes it at the end of r.
// A Scanner's 64 KiB line limit would cut long messages, so it is raised
// to the protocol's default message size and then some.
func readLines(r io.Reader, lines chan<- string, stop <-chan struct{}) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		select {
		case lines <- strings.TrimSuffix(sc.Text(), "\r"):
		case <-stop:
			return
		}
	}
}

// report turns the reason a session ended into an exit status.
func report(err error, stderr io.Writer) int {
	var ce *client.CloseError
	switch {
	case errors.Is(err, client.ErrClosed):
		return 0
	case errors.As(err, &ce):
		if ce.Code == protocol.CloseNormal {
			return 0
		}
		fmt.Fprintf(stderr, "closed: %d %s\n", ce.Code, ce.Reason)
		return 1
	}
	fmt.Fprintf(stderr, "tether dial: %v\n", err)
	return 1
}
