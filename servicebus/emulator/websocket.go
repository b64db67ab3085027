package emulator

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

// Where and how Azure Service Bus accepts AMQP over WebSockets (port 443 in Azure): clients
// whose network blocks AMQP's port 5671 connect there.
const (
	WebSocketPath        = "/$servicebus/websocket"
	WebSocketSubprotocol = "AMQPWSB10"
)

// ServeWebSocket accepts AMQP over WebSockets on ln until Close, at WebSocketPath with the
// subprotocol WebSocketSubprotocol: wss when Options.TLS is set, ws otherwise. Each WebSocket
// connection is an AMQP connection like those Serve accepts (and counts towards
// Limits.MaxConnections). It returns ErrServerClosed after Close.
func (s *Server) ServeWebSocket(ln net.Listener) error {
	hs := &http.Server{
		Handler:           http.HandlerFunc(s.acceptWebSocket),
		ReadHeaderTimeout: s.lim.HandshakeTimeout,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.webSockets[hs] = struct{}{}
	s.mu.Unlock()
	if s.opts.TLS != nil {
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	err := hs.Serve(ln)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrServerClosed
	}
	return err
}

// acceptWebSocket upgrades a request to a WebSocket carrying AMQP and serves it until the AMQP
// connection ends.
func (s *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != WebSocketPath {
		http.Error(w, "AMQP over WebSockets is served at "+WebSocketPath, http.StatusNotFound)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{WebSocketSubprotocol}})
	if err != nil {
		s.log.Info("WebSocket upgrade refused", "remote", r.RemoteAddr, "err", err)
		return // Accept has answered
	}
	if ws.Subprotocol() != WebSocketSubprotocol {
		ws.Close(websocket.StatusPolicyViolation, "AMQP over WebSockets needs the subprotocol "+WebSocketSubprotocol)
		return
	}
	// The request's context ends when this handler returns, which is when the AMQP connection
	// has ended: it bounds the connection's life as it should.
	if c := s.admit(websocket.NetConn(r.Context(), ws, websocket.MessageBinary)); c != nil {
		s.serveConn(c)
	}
}
