package transports

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tether-rt/tether/protocol"
	"github.com/tether-rt/tether/session"
)

// A poll that comes while a send answer carrying messages is being
// written (as the poll its `h` hurried can, between the answer's flush and
// its release) waits for the release and takes what the answer left,
// instead of answering empty.
func TestPollWaitsForCarriedRelease(t *testing.T) {
	reg := session.NewRegistry(&session.Options{MaxBatchBytes: 4})
	t.Cleanup(func() { reg.Shutdown(context.Background()) })
	l, err := reg.Create(session.Request{}, protocol.Polling)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Session()
	s.OnMessage(func(session.Message) { s.Send("one"); s.Send("two") })
	if !l.HoldWakes() {
		t.Fatal("HoldWakes refused")
	}
	if ok, err := l.Deliver(context.Background(), 0, 1, false, []byte("go")); !ok || err != nil {
		t.Fatalf("Deliver = %v, %v", ok, err)
	}
	var carried session.Batch
	if !l.Carry(&carried, 4) || len(carried.Msgs) != 1 || !carried.More {
		t.Fatalf("carried %+v, want message 1 and more left", carried)
	}

	waiting := hookSignal(t, &awaitingForTest)
	p := NewPolling(Config{Session: reg.Options()})
	answered := make(chan string, 1)
	go func() {
		w := httptest.NewRecorder()
		p.Serve(w, httptest.NewRequest(http.MethodGet, "/polling", nil), l, 1)
		answered <- w.Body.String()
	}()
	select { // the poll looked while the answer was on its way
	case <-waiting:
	case body := <-answered:
		t.Fatalf("the poll answered %q at once, while the carried answer was on its way", body)
	case <-time.After(5 * time.Second):
		t.Fatal("the poll neither answered nor waited")
	}
	l.ReleaseWakes(true)
	select {
	case body := <-answered:
		if body != "a1\nm2:\"two\"\n" {
			t.Fatalf("the poll answered %q, want what the carried answer left", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the poll was not answered")
	}
}
