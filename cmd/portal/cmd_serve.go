package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/contoso/sbportal/auth"
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

	// Sessions live in process memory until the database's session table is wired in: one
	// replica only, and a restart signs everyone out.
	log.Warn("sessions are kept in memory: run one replica; a restart signs everyone out")
	authn, err := auth.New(ctx, auth.Config{
		Issuer:         cfg.OIDCIssuer,
		ClientID:       cfg.OIDCClientID,
		ClientSecret:   cfg.OIDCSecret,
		BaseURL:        cfg.BaseURL,
		AllowedTenants: cfg.AllowedTenants,
		Claims:         auth.ClaimNames{Roles: cfg.RolesClaim, Groups: cfg.GroupsClaim},
		RoleValues:     cfg.RoleValues,
		TeamsByGroup:   cfg.TeamsByGroup,
		TeamsByRole:    cfg.TeamsByRole,
		SessionKey:     cfg.SessionKey,
		Sessions:       auth.NewMemoryStore(),
		IdleTimeout:    cfg.SessionIdle,
		MaxAge:         cfg.SessionMaxAge,
		HTTPClient:     &http.Client{Timeout: 30 * time.Second},
	})
	if err != nil {
		return fmt.Errorf("set up sign-in (check PORTAL_OIDC_ISSUER and that the provider is reachable): %w", err)
	}
	h, err := handlers.New(handlers.Config{
		Logger:        log,
		HTTPS:         cfg.BaseURL.Scheme == "https",
		CookieKey:     cfg.SessionKey,
		Auth:          authn,
		AccessContact: cfg.AccessContact,
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
