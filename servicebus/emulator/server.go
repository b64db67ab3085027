package emulator

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	// TLS, when set, makes the server speak amqps: every accepted connection starts a TLS
	// handshake with this configuration.
	TLS *tls.Config
	// Logger receives connection and protocol events; never tokens or keys.
	Logger *slog.Logger
	Limits Limits
}

// Limits bound what one peer can make the emulator hold.
type Limits struct {
	MaxConnections        int           // default 1000
	MaxFrameSize          uint32        // advertised and enforced; default 65536
	ChannelMax            uint16        // highest channel number a peer may use; default 255
	HandleMax             uint32        // highest link handle per session; default 255
	IdleTimeout           time.Duration // advertised idle-time-out; default 60s
	HandshakeTimeout      time.Duration // protocol header, SASL and open; default 10s
	WriteTimeout          time.Duration // a peer that does not read is dropped; default 30s
	MaxMessagesPerEntity  int           // per queue/subscription unless configured; default 10000
	MaxEntityBytes        int           // per queue/subscription/partition; default 64 MiB
	MaxEventsPerPartition int           // event hub retention bound; default 10000
	MaxPendingBytes       int           // partially received deliveries per connection; default 4 MiB
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxConnections, 1000)
	def(&l.MaxMessagesPerEntity, 10000)
	def(&l.MaxEntityBytes, 64<<20)
	def(&l.MaxEventsPerPartition, 10000)
	def(&l.MaxPendingBytes, 4<<20)
	if l.MaxFrameSize == 0 {
		l.MaxFrameSize = 65536
	}
	l.MaxFrameSize = max(l.MaxFrameSize, 4096)
	if l.ChannelMax == 0 {
		l.ChannelMax = 255
	}
	if l.HandleMax == 0 {
		l.HandleMax = 255
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 60 * time.Second
	}
	if l.HandshakeTimeout <= 0 {
		l.HandshakeTimeout = 10 * time.Second
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 30 * time.Second
	}
	return l
}

// Server is a running emulator: the configured namespaces and the connections to them.
type Server struct {
	cfg        Config
	opts       Options
	lim        Limits
	log        *slog.Logger
	namespaces []*namespace
	now        func() time.Time

	mu         sync.Mutex
	listeners  map[net.Listener]struct{}
	webSockets map[*http.Server]struct{}
	conns      map[*conn]struct{}
	closed     bool
	wg         sync.WaitGroup
}

// New validates cfg and builds a server; it does not listen (see Serve).
func New(cfg Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("emulator config: %w", err)
	}
	s := &Server{
		cfg: cfg, opts: opts, lim: opts.Limits.withDefaults(), log: opts.Logger, now: time.Now,
		listeners: map[net.Listener]struct{}{}, webSockets: map[*http.Server]struct{}{}, conns: map[*conn]struct{}{},
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, ns := range cfg.UserConfig.Namespaces {
		s.namespaces = append(s.namespaces, newNamespace(ns, s.lim, s.now()))
	}
	return s, nil
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("emulator: server closed")

// Serve accepts connections on ln until Close; it returns ErrServerClosed after Close.
//
// Called in a goroutine, Serve may not have taken ln yet when a Close that follows returns,
// and ln would still accept connections for a moment: use Start to serve in the background
// when a Close must leave nothing listening.
func (s *Server) Serve(ln net.Listener) error {
	if !s.take(ln) {
		return ErrServerClosed
	}
	return s.serve(ln)
}

// Start takes ln now and serves it in the background until Close; the channel receives
// Serve's result. Once Start has returned, Close closes ln before it returns.
func (s *Server) Start(ln net.Listener) <-chan error {
	done := make(chan error, 1)
	if !s.take(ln) {
		done <- ErrServerClosed
		return done
	}
	go func() { done <- s.serve(ln) }()
	return done
}

// take registers ln with the server (closing it when the server is closed already).
func (s *Server) take(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ln.Close()
		return false
	}
	s.listeners[ln] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) serve(ln net.Listener) error {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("emulator: accept: %w", err)
		}
		delay = 0
		if s.opts.TLS != nil {
			nc = tls.Server(nc, s.opts.TLS)
		}
		if c := s.admit(nc); c != nil {
			go s.serveConn(c)
		}
	}
}

// admit registers a new connection, or closes it and returns nil when the server is closed
// or has too many connections. An admitted connection must be served with serveConn.
func (s *Server) admit(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.conns) >= s.lim.MaxConnections {
		if !s.closed {
			s.log.Warn("connection refused: too many connections", "remote", nc.RemoteAddr().String(), "limit", s.lim.MaxConnections)
		}
		nc.Close()
		return nil
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

// serveConn serves an admitted connection until it ends.
func (s *Server) serveConn(c *conn) {
	defer s.wg.Done()
	c.serve()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close stops every listener and connection and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	for hs := range s.webSockets {
		hs.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	s.wg.Wait()
	for _, ns := range s.namespaces {
		for _, e := range ns.entities {
			if e.queue != nil {
				e.queue.close()
			}
			for _, st := range e.subs {
				st.close()
			}
		}
	}
	return nil
}

// namespaceFor picks the namespace a connection talks to from the hostname in its open frame:
// the namespace whose name is the first DNS label, else the first configured namespace (so
// 127.0.0.1 and localhost reach it).
func (s *Server) namespaceFor(hostname string) *namespace {
	host := hostname
	if h, _, err := net.SplitHostPort(hostname); err == nil {
		host = h
	}
	label, _, _ := strings.Cut(host, ".")
	for _, ns := range s.namespaces {
		if strings.EqualFold(ns.name, label) {
			return ns
		}
	}
	return s.namespaces[0]
}

// ConnectionString is a ready-to-paste connection string for one policy.
type ConnectionString struct {
	Namespace string
	Policy    string
	Entity    string // empty for a namespace-level policy
	Rights    []string
	Value     string
}

// ConnectionStrings lists a connection string for every policy (namespace- and entity-level)
// for a server reachable at addr ("127.0.0.1:5672"). Without TLS they use
// Endpoint=sb://<addr>;...;UseDevelopmentEmulator=true; with TLS they use the production shape
// Endpoint=sb://<namespace>.servicebus.windows.net/ (point the SDK at addr with
// ClientOptions.CustomEndpoint and trust the certificate with ClientOptions.TLSConfig). The
// first namespace answers plain addresses; further namespaces are reached with
// <namespace>.localhost:<port> as the host (with ClientOptions.CustomEndpoint set to addr
// when the resolver does not map *.localhost to the loopback address).
func (s *Server) ConnectionStrings(addr string) []ConnectionString {
	var out []ConnectionString
	for i, ns := range s.cfg.UserConfig.Namespaces {
		endpoint := "sb://" + addr
		suffix := ";UseDevelopmentEmulator=true"
		if s.opts.TLS != nil {
			endpoint, suffix = "sb://"+ns.Name+".servicebus.windows.net/", ""
		} else if i > 0 {
			_, port, _ := net.SplitHostPort(addr)
			endpoint = "sb://" + ns.Name + ".localhost:" + port
		}
		add := func(p PolicyConfig, entity string) {
			r, _ := parseRights(p.Rights)
			v := fmt.Sprintf("Endpoint=%s;SharedAccessKeyName=%s;SharedAccessKey=%s", endpoint, p.Name, p.PrimaryKey)
			if entity != "" {
				v += ";EntityPath=" + entity
			}
			out = append(out, ConnectionString{Namespace: ns.Name, Policy: p.Name, Entity: entity, Rights: r.names(), Value: v + suffix})
		}
		for _, p := range ns.Policies {
			add(p, "")
		}
		for _, q := range ns.Queues {
			for _, p := range q.Policies {
				add(p, q.Name)
			}
		}
		for _, t := range ns.Topics {
			for _, p := range t.Policies {
				add(p, t.Name)
			}
		}
		for _, h := range ns.EventHubs {
			for _, p := range h.Policies {
				add(p, h.Name)
			}
		}
	}
	return out
}
