package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/contoso/sbportal/handlers"
)

func init() {
	register(command{
		name:    "dev",
		summary: "run the whole local stack on loopback (nothing to configure)",
		run:     runDev,
	})
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev", "dev [--listen 127.0.0.1:8080] [--data .portal-dev]", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "loopback address for the portal; if the port is taken a free one is used")
	dataDir := fs.String("data", ".portal-dev", "folder for the local stack's data (database, keys); delete it to start afresh")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	cookieKey, err := loadOrCreateKey(filepath.Join(*dataDir, "cookie.key"))
	if err != nil {
		return err
	}
	ln, err := listenLoopback(*listen)
	if err != nil {
		return err
	}
	baseURL := "http://" + ln.Addr().String()

	h, err := handlers.New(handlers.Config{Logger: log, DevMode: true, CookieKey: cookieKey})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nService Endpoint Portal (local stack) is running.\n\n  Open %s/\n\nPress Ctrl+C to stop.\n\n", baseURL)
	return serveUntilDone(ctx, newHTTPServer(h, log), ln, 5*time.Second, log)
}

// listenLoopback listens on addr, which must be a loopback address; when its port is taken it
// falls back to a free port on the same host so `portal dev` always starts.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: --listen %q is not host:port", errUsage, addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: the local stack listens on loopback only; use 127.0.0.1:PORT", errUsage)
	}
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	ln, err2 := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err2 != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// loadOrCreateKey returns the 32-byte key kept in path, creating it on first use.
func loadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) == 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b = make([]byte, 32)
	_, _ = rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return b, nil
}
