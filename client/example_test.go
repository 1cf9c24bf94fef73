package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/tether-rt/tether/client"
	"github.com/tether-rt/tether/protocol"
)

// Dial a tether app, send a line, read the answers until the session
// ends. Run examples/echo first for a server to talk to.
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "http://127.0.0.1:8080/echo", &client.Options{Transport: "longpoll"})
	var refused *client.HandshakeError
	if errors.As(err, &refused) {
		log.Fatalf("refused: %d %s", refused.Status, refused.Reason)
	} else if err != nil {
		log.Fatal(err)
	}
	defer c.Close(protocol.CloseNormal, "")

	if err := c.Send(ctx, "hi"); err != nil {
		log.Fatal(err)
	}
	for {
		m, err := c.Recv(ctx)
		if code := client.CloseStatus(err); code.Action() == protocol.ActionRenew {
			// The session is gone (4200 lost, 4202 shutdown…): a new Dial
			// opens a fresh one; what was in flight may be lost.
			log.Printf("session ended with %d; dial again", code)
			return
		}
		if err != nil {
			log.Print(err)
			return
		}
		fmt.Printf("%d: %s\n", m.Seq, m.Data)
	}
}
