package protocol

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A client acts on a code's range, not on the code, so that it does the
// right thing with codes it has never seen (SPEC.md §7). Each range is
// checked at both ends.
func TestCloseCodeAction(t *testing.T) {
	tests := []struct {
		code CloseCode
		want Action
	}{
		{1000, ActionStop},
		{3000, ActionStop},
		{3500, ActionStop},
		{3999, ActionStop},
		{4000, ActionStop},
		{4099, ActionStop},
		{4100, ActionResume},
		{4150, ActionResume},
		{4199, ActionResume},
		{4200, ActionRenew},
		{4299, ActionRenew},
		{4300, ActionRenew}, // reserved: treated as 4200-4299
		{4999, ActionRenew},
		// WebSocket's own codes (going away, abnormal closure, ...) and
		// anything else are carrier failures: try to resume.
		{1001, ActionResume},
		{1006, ActionResume},
		{2999, ActionResume},
		{999, ActionResume},
		{5000, ActionResume},
		{0, ActionResume},
	}
	for _, tc := range tests {
		if got := tc.code.Action(); got != tc.want {
			t.Errorf("CloseCode(%d).Action() = %d, want %d", tc.code, got, tc.want)
		}
	}
}

// Each named code sits in the range that gives the action its row in
// SPEC.md §7 describes, and carries the reason the spec's frames use.
func TestNamedCloseCodes(t *testing.T) {
	tests := []struct {
		code   CloseCode
		num    int
		name   string
		action Action
	}{
		{CloseNormal, 1000, "normal", ActionStop},
		{CloseProtocolError, 4000, "protocol error", ActionStop},
		{CloseMessageTooBig, 4001, "message too big", ActionStop},
		{CloseCarrierReplaced, 4100, "carrier replaced", ActionResume},
		{CloseStreamLimit, 4101, "stream limit", ActionResume},
		{CloseHeartbeatTimeout, 4102, "heartbeat timeout", ActionResume},
		{CloseReceiverBusy, 4103, "another receiver is attached", ActionResume},
		{CloseSessionLost, 4200, "session lost", ActionRenew},
		{CloseSlowConsumer, 4201, "slow consumer", ActionRenew},
		{CloseShutdown, 4202, "server shutting down", ActionRenew},
		{CloseTooManySessions, 4203, "too many sessions", ActionRenew},
	}
	for _, tc := range tests {
		if int(tc.code) != tc.num || tc.code.String() != tc.name || tc.code.Action() != tc.action || !tc.code.Valid() {
			t.Errorf("code %d: String %q, Action %d, Valid %v; want %d %q %d true",
				tc.code, tc.code.String(), tc.code.Action(), tc.code.Valid(), tc.num, tc.name, tc.action)
		}
	}
	if got := CloseCode(4500).String(); got != "4500" {
		t.Errorf("CloseCode(4500).String() = %q, want the number", got)
	}
}

func TestCloseCodeValid(t *testing.T) {
	for code, want := range map[CloseCode]bool{
		-1000: false, 0: false, 999: false, 1000: true, 1001: true, 3000: true, 4999: true, 5000: false, 65535: false,
	} {
		if got := code.Valid(); got != want {
			t.Errorf("CloseCode(%d).Valid() = %v, want %v", code, got, want)
		}
	}
}

// TruncateReason keeps a reason within WebSocket's 123-byte close reason
// without ever cutting a rune in half, which would put invalid UTF-8 (and
// then a U+FFFD) on the wire.
func TestTruncateReason(t *testing.T) {
	tests := []struct {
		in   string
		want int // length of the kept prefix
	}{
		{"", 0},
		{"bye", 3},
		{strings.Repeat("x", 123), 123},
		{strings.Repeat("x", 124), 123},
		{strings.Repeat("x", 1000), 123},
		{strings.Repeat("é", 61) + "xyz", 123}, // 2-byte runes, cut on a boundary
		{strings.Repeat("é", 62), 122},         // byte 123 is mid-rune
		{strings.Repeat("😀", 31), 120},         // 4-byte runes: lose 3 bytes at most
		{"x" + strings.Repeat("😀", 31), 121},   // lose 2
		{"xx" + strings.Repeat("😀", 31), 122},  // lose 1
		{"xxx" + strings.Repeat("😀", 31), 123},
	}
	for _, tc := range tests {
		got := TruncateReason(tc.in)
		if got != tc.in[:tc.want] {
			t.Errorf("TruncateReason(%d bytes %.8q...) kept %d bytes, want %d", len(tc.in), tc.in, len(got), tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("TruncateReason(%.8q...) = %q split a rune", tc.in, got)
		}
	}
	// Every alignment of every rune width.
	for _, r := range []string{"é", "中", "😀"} {
		for pad := 0; pad < 8; pad++ {
			in := strings.Repeat("x", pad) + strings.Repeat(r, 200)
			got := TruncateReason(in)
			if len(got) > MaxReasonBytes || len(got) < MaxReasonBytes-3 || !utf8.ValidString(got) || !strings.HasPrefix(in, got) {
				t.Errorf("TruncateReason(%d x + %q...) = %d bytes, valid=%v", pad, r, len(got), utf8.ValidString(got))
			}
		}
	}
}

// AppendClose applies TruncateReason, so a close frame never carries more
// than the spec's 123 bytes of reason.
func TestAppendCloseTruncates(t *testing.T) {
	reason := strings.Repeat("ü", 100) // 200 bytes
	enc := AppendClose(nil, CloseProtocolError, reason)
	fr, err := DecodeFrame(enc)
	if err != nil {
		t.Fatalf("DecodeFrame(%q): %v", enc, err)
	}
	if fr.Code != CloseProtocolError || fr.Reason != TruncateReason(reason) || len(fr.Reason) != 122 {
		t.Errorf("decoded %s, want code 4000 and a 122-byte reason", showFrame(fr))
	}
}
