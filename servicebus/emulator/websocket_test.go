package emulator

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWebSocketNeedsTheAMQPSubprotocol: only WebSocket clients that speak AMQPWSB10 at
// /$servicebus/websocket get an AMQP connection; the AMQP header answer proves it is one.
func TestWebSocketNeedsTheAMQPSubprotocol(t *testing.T) {
	srv, err := New(DefaultConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeWebSocket(ln) }()
	defer func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("ServeWebSocket: %v", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := "ws://" + ln.Addr().String()

	if _, resp, err := websocket.Dial(ctx, base+"/elsewhere", nil); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("another path: %v", err)
	}
	c, _, err := websocket.Dial(ctx, base+WebSocketPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("without the subprotocol: %v, want a policy-violation close", err)
	}

	c, _, err = websocket.Dial(ctx, base+WebSocketPath, &websocket.DialOptions{Subprotocols: []string{WebSocketSubprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	nc := websocket.NetConn(ctx, c, websocket.MessageBinary)
	if _, err := nc.Write([]byte("AMQP\x03\x01\x00\x00")); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(nc, hdr); err != nil || string(hdr) != "AMQP\x03\x01\x00\x00" {
		t.Fatalf("SASL header answer %q, %v", hdr, err)
	}
}
