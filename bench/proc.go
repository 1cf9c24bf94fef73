package bench

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Goroutines returns the number of goroutines of a Go server that serves
// net/http/pprof at base (http://127.0.0.1:6060), from the first line of
// its goroutine profile: "goroutine profile: total N".
func Goroutines(base string) (int, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(strings.TrimSuffix(base, "/") + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("goroutine profile: %s", resp.Status)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, err
	}
	return parseGoroutines(line)
}

func parseGoroutines(line string) (int, error) {
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(line), "goroutine profile: total %d", &n); err != nil {
		return 0, errors.New("not a goroutine profile")
	}
	return n, nil
}
