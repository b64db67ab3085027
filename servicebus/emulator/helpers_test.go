package emulator

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"
)

// startServer runs an emulator on 127.0.0.1:0 for the test and returns it with its address.
func startServer(t testing.TB, cfg Config, opts Options) (*Server, string) {
	t.Helper()
	if opts.Logger == nil && os.Getenv("EMULATOR_LOG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv, ln.Addr().String()
}

// connString returns the emulator connection string for a policy of the default namespace.
func connString(t testing.TB, srv *Server, addr, policy, entity string) string {
	t.Helper()
	for _, cs := range srv.ConnectionStrings(addr) {
		if cs.Policy == policy && cs.Entity == entity {
			return cs.Value
		}
	}
	t.Fatalf("no connection string for policy %q entity %q", policy, entity)
	return ""
}

// queueLen is MessageCount for tests, -1 for an unknown entity.
func (s *Server) queueLen(namespaceName, path string) int {
	n, err := s.MessageCount(namespaceName, path)
	if err != nil {
		return -1
	}
	return n
}

// waitFor polls cond until it holds or 10 seconds pass.
func waitFor(t testing.TB, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
