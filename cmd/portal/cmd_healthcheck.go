package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func init() {
	register(command{
		name:    "healthcheck",
		summary: "exit 0 when the portal on this machine answers /healthz (for container health checks)",
		run:     runHealthcheck,
	})
}

func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", "healthcheck [--url URL]", stderr)
	def := "http://127.0.0.1" + listenPort(os.Getenv("PORTAL_LISTEN")) + "/healthz"
	target := fs.String("url", def, "health address to ask")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return fmt.Errorf("%w: --url: %v", errUsage, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("portal not healthy: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("portal not healthy: %s answered %s", *target, resp.Status)
	}
	fmt.Fprintln(stdout, "healthy")
	return nil
}

// listenPort turns a PORTAL_LISTEN value into ":port" (default :8080).
func listenPort(listen string) string {
	if i := strings.LastIndex(listen, ":"); i >= 0 && i < len(listen)-1 {
		return listen[i:]
	}
	return ":8080"
}
