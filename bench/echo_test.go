package bench

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// An echo answer that is not what was sent is an error, not a message.
func TestEchoVerifiesEveryAnswer(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, m, err := c.ReadMessage()
			if err != nil {
				return
			}
			m[len(m)-1] = 'y' // same stamp, other bytes
			if c.WriteMessage(typ, m) != nil {
				return
			}
		}
	}))
	defer func() { srv.CloseClientConnections(); srv.Close() }()
	res := runShort(t, "-proto", "ws", "-target", "ws"+strings.TrimPrefix(srv.URL, "http")+"/", "-c", "2")
	if res.Errors == 0 || res.Msgs != 0 || !strings.Contains(res.Note, "differs") {
		t.Fatalf("a wrong echo went unnoticed: %s", res.KV())
	}
}
