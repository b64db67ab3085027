package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/contoso/sbportal/handlers"
)

func init() {
	register(command{
		name:    "serve",
		summary: "run the portal in production mode (configured by PORTAL_* variables)",
		run:     runServe,
	})
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [--listen ADDR]\n\nConfiguration comes from PORTAL_* environment variables; see the README.", stderr)
	listen := fs.String("listen", "", "listen address; overrides PORTAL_LISTEN")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	lookup := os.LookupEnv
	if *listen != "" {
		lookup = func(k string) (string, bool) {
			if k == "PORTAL_LISTEN" {
				return *listen, true
			}
			return os.LookupEnv(k)
		}
	}
	cfg, problems := loadServeConfig(lookup)
	if len(problems) > 0 {
		return fmt.Errorf("cannot start, the configuration has %d problem(s):\n  - %s\nSee the README's configuration reference; for local work run 'portal dev' instead",
			len(problems), strings.Join(problems, "\n  - "))
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	h, err := handlers.New(handlers.Config{
		Logger:    log,
		HTTPS:     cfg.BaseURL.Scheme == "https",
		CookieKey: cfg.SessionKey,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	log.Info("portal serving", slog.String("listen", ln.Addr().String()), slog.String("base_url", cfg.BaseURL.String()),
		slog.String("version", buildVersion()))
	return serveUntilDone(ctx, newHTTPServer(h, log), ln, cfg.ShutdownTimeout, log)
}
