package bench

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAnswers reads every answer of raw from one respReader, as one
// connection would, whole or one byte per read.
func readAnswers(raw string, oneByte bool, maxBody int) (statuses []int, bodies []string, keeps []bool, err error) {
	var src io.Reader = strings.NewReader(raw)
	if oneByte {
		src = iotest.OneByteReader(src)
	}
	p := &respReader{maxBody: maxBody}
	p.reset(src)
	for {
		status, body, keep, err := p.read()
		if err == io.EOF && len(statuses) > 0 {
			return statuses, bodies, keeps, nil // the connection ended between answers
		}
		if err != nil {
			return statuses, bodies, keeps, err
		}
		statuses = append(statuses, status)
		bodies = append(bodies, string(body))
		keeps = append(keeps, keep)
		if p.r == p.w && !keep {
			return statuses, bodies, keeps, nil
		}
	}
}

func TestRespReaderAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		raw    string
		bodies []string
		keeps  []bool
		status int
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", []string{"hello"}, []bool{true}, 200},
		{"lower-case name, spaces", "HTTP/1.1 200 OK\r\ncontent-length:   3  \r\nX-Other: y\r\n\r\nabc", []string{"abc"}, []bool{true}, 200},
		{"chunked with extensions and trailers",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6 ; x=\"y\"\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n",
			[]string{"hello world0123456789"}, []bool{true}, 200},
		{"chunked, empty", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n", []string{""}, []bool{true}, 200},
		{"Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", []string{"ok"}, []bool{false}, 200},
		{"Connection tokens", "HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n", []string{""}, []bool{false}, 200},
		{"HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", []string{"x"}, []bool{false}, 200},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", []string{"x"}, []bool{true}, 200},
		{"204 has no body", "HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\n\r\n", []string{""}, []bool{true}, 204},
		{"interim answers skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\ny", []string{"y"}, []bool{true}, 201},
		{"body until close", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end", []string{"to the end"}, []bool{false}, 200},
		{"LF line ends", "HTTP/1.1 200 OK\nContent-Length: 1\n\nz", []string{"z"}, []bool{true}, 200},
		{"status without reason", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", []string{""}, []bool{true}, 404},
		{"both framings: chunked wins, connection not reused",
			"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nq\r\n0\r\n\r\n", []string{"q"}, []bool{false}, 200},
		{"keep-alive: answers back to back",
			"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\noneHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthree",
			[]string{"one", "two", "three"}, []bool{true, true, false}, 200},
	} {
		for _, oneByte := range []bool{false, true} {
			statuses, bodies, keeps, err := readAnswers(tc.raw, oneByte, 0)
			if err != nil {
				t.Errorf("%s (one byte per read: %v): %v", tc.name, oneByte, err)
				continue
			}
			if strings.Join(bodies, "|") != strings.Join(tc.bodies, "|") || len(keeps) != len(tc.keeps) {
				t.Errorf("%s (one byte per read: %v): bodies %q, want %q", tc.name, oneByte, bodies, tc.bodies)
				continue
			}
			for i := range keeps {
				if keeps[i] != tc.keeps[i] {
					t.Errorf("%s: answer %d keep-alive %v, want %v", tc.name, i, keeps[i], tc.keeps[i])
				}
			}
			if statuses[len(statuses)-1] != tc.status {
				t.Errorf("%s: status %d, want %d", tc.name, statuses[len(statuses)-1], tc.status)
			}
		}
	}
}

func TestRespReaderErrors(t *testing.T) {
	bigHead := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Filler: "+strings.Repeat("f", 100)+"\r\n", 700) + "\r\n"
	for _, tc := range []struct {
		name    string
		raw     string
		maxBody int
		want    string // in the error's text
		is      error  // or the error it wraps
	}{
		{"nothing came", "", 0, "", io.EOF},
		{"head cut", "HTTP/1.1 200 OK\r\nContent-Len", 0, "", io.ErrUnexpectedEOF},
		{"body cut", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, "", io.ErrUnexpectedEOF},
		{"chunked body cut", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 0, "", io.ErrUnexpectedEOF},
		{"no status code", "HTTP/1.1 OK\r\n\r\n", 0, "malformed status line", nil},
		{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", 0, "malformed status line", nil},
		{"HTTP/2 status line", "HTTP/2.0 200 OK\r\n\r\n", 0, "malformed status line", nil},
		{"HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", 0, "unsupported version", nil},
		{"status too short", "HTTP/1.1 099 Low\r\n\r\n", 0, "malformed status line", nil},
		{"status glued to reason", "HTTP/1.1 200OK\r\n\r\n", 0, "malformed status line", nil},
		{"bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", 0, "bad Content-Length", nil},
		{"negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, "bad Content-Length", nil},
		{"conflicting Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0, "conflicting Content-Length", nil},
		{"gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, "unsupported Transfer-Encoding", nil},
		{"folded header", "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n", 0, "folded header", nil},
		{"header without colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", 0, "malformed header line", nil},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 0, "bad chunk size", nil},
		{"empty chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n", 0, "bad chunk size", nil},
		{"chunk longer than said", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n", 0, "not followed by CRLF", nil},
		{"chunk-size line too long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + strings.Repeat("e", 5000) + "\r\n", 0, "chunk-size line over", nil},
		{"head over 64 KiB", bigHead, 0, "", errHeadTooLarge},
		{"trailers over 64 KiB together", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" +
			strings.Repeat("X-T: "+strings.Repeat("t", 1000)+"\r\n", 70) + "\r\n", 0, "", errHeadTooLarge},
		{"Content-Length over the limit", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 100, "Content-Length 1000", errBodyTooLarge},
		{"chunked over the limit", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + strings.Repeat("c", 64) + "\r\n40\r\n" + strings.Repeat("c", 64) + "\r\n0\r\n\r\n", 100, "", errBodyTooLarge},
		{"until close over the limit", "HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("u", 5000), 100, "", errBodyTooLarge},
	} {
		for _, oneByte := range []bool{false, true} {
			_, _, _, err := readAnswers(tc.raw, oneByte, tc.maxBody)
			switch {
			case err == nil:
				t.Errorf("%s: no error", tc.name)
			case tc.is != nil && !errors.Is(err, tc.is):
				t.Errorf("%s: %v, want %v", tc.name, err, tc.is)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("%s: %v, want it to say %q", tc.name, err, tc.want)
			}
		}
	}
}

// The buffer grows for a large answer and is let go after it, so that a
// burst does not pin memory in an idle session for the rest of a run.
func TestRespReaderBufferBounds(t *testing.T) {
	big := strings.Repeat("b", 200<<10)
	raw := "HTTP/1.1 200 OK\r\nContent-Length: " + utoa(uint64(len(big))) + "\r\n\r\n" + big +
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ns"
	p := &respReader{}
	p.reset(strings.NewReader(raw))
	_, body, _, err := p.read()
	if err != nil || !bytes.Equal(body, []byte(big)) {
		t.Fatalf("large answer: %v", err)
	}
	if _, body, _, err = p.read(); err != nil || string(body) != "s" {
		t.Fatalf("answer after it: %q %v", body, err)
	}
	if _, body, _, err = p.read(); err != io.EOF {
		t.Fatalf("end: %q %v", body, err)
	}
	if len(p.buf) > respBufKeep {
		t.Fatalf("the buffer kept %d bytes after the large answer", len(p.buf))
	}
}

func TestParseHelpers(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "ff": 255, "FF": 255, "1a2B": 0x1a2b, " 10 ": 16, "3fffffffffffffff": 1<<62 - 1, "4000000000000000": -1, "0x1": -1, "-1": -1, "+1": -1, "1_0": -1, "g": -1, "": -1, ";x": -1} {
		n, ok := parseChunkSize([]byte(in))
		if (want < 0) == ok || (ok && n != want) {
			t.Errorf("chunk size %q: %d %v, want %d", in, n, ok, want)
		}
	}
	for in, want := range map[string]int64{"0": 0, "123": 123, "007": 7, "9223372036854775807": 1<<63 - 1, "9223372036854775808": -1, "1.5": -1, "": -1, "+1": -1, "-1": -1, "1_000": -1, " 1": -1} {
		n, ok := parseDecimal([]byte(in))
		if (want < 0) == ok || (ok && n != want) {
			t.Errorf("decimal %q: %d %v, want %d", in, n, ok, want)
		}
	}
}

// The parse helpers run on every answer: strconv on a []byte converted
// to string must not allocate (the conversion stays on the stack).
func TestParseHelpersDoNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocation counts")
	}
	dec, hex := []byte("1234"), []byte("1a2b;ext=1")
	if n := testing.AllocsPerRun(100, func() {
		if _, ok := parseDecimal(dec); !ok {
			t.Fatal("decimal")
		}
		if _, ok := parseChunkSize(hex); !ok {
			t.Fatal("chunk size")
		}
	}); n != 0 {
		t.Errorf("%.1f allocations per parse, want 0", n)
	}
}
