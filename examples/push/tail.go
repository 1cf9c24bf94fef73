package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"time"
)

// follow calls line for every line appended to path from now on, checking
// every interval, until ctx ends. It polls instead of using inotify to stay
// portable and dependency-free; a file that shrinks (rotated or truncated)
// is read again from its start.
func follow(ctx context.Context, path string, interval time.Duration, line func(string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	offset, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	var partial string
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if st.Size() < offset {
			// Rotated or truncated: reopen and start over.
			f.Close()
			if f, err = os.Open(path); err != nil {
				return err
			}
			offset, partial = 0, ""
		}
		if st.Size() == offset {
			continue
		}
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return err
		}
		r := bufio.NewReader(io.LimitReader(f, st.Size()-offset))
		for {
			s, err := r.ReadString('\n')
			offset += int64(len(s))
			if err != nil { // no newline yet: keep it for the next round
				partial += s
				break
			}
			line(strings.TrimRight(partial+s, "\r\n"))
			partial = ""
		}
	}
}
