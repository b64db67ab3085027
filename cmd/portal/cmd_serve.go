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
	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/metrics"
	"github.com/contoso/sbportal/notify"
	"github.com/contoso/sbportal/servicebus"
	"github.com/contoso/sbportal/store"
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
	log, closeLog := newLogger(stderr, true, cfg.LogLevel)
	defer closeLog()

	fc, err := loadFileConfig(cfg.ConfigFile)
	if err != nil {
		return err
	}
	keys, err := store.ParseKeyring(cfg.SecretKeys)
	if err != nil {
		return fmt.Errorf("PORTAL_SECRET_KEY: %w", err)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, keys, store.WithSessionLifetimes(cfg.SessionIdle, cfg.SessionMaxAge), store.WithLogger(log))
	if err != nil {
		return fmt.Errorf("open the database (PORTAL_DATABASE_URL): %w", err)
	}
	defer st.Close()
	go st.RunSweeper(ctx, 10*time.Minute)
	m := metrics.New()
	envs, err := dataverse.NewEnvironments(fc.dataverseEnvironments(), dataverse.EnvironmentsOptions{Observe: m.ObserveDataverse})
	if err != nil {
		return fmt.Errorf("PORTAL_CONFIG environments: %w", err)
	}
	for _, status := range envs.Check(ctx) {
		if status.OK {
			log.Info("dataverse environment ready", slog.String("environment", status.ID))
		} else {
			log.Warn("dataverse environment not answering; the portal serves the others", slog.String("environment", status.ID),
				slog.String("cause", string(status.Cause)), slog.String("problem", status.Problem))
		}
	}
	policy := servicebus.DefaultPolicy()
	if len(fc.Probes.ServiceBusSuffixes) > 0 {
		policy.ServiceBusSuffixes = fc.Probes.ServiceBusSuffixes
	}
	policy.AllowPrivateServiceBus = fc.Probes.AllowPrivateServiceBus
	prober := servicebus.NewProber(servicebus.Options{Policy: policy, Timeout: fc.Probes.timeout(), Logger: log.With("component", "probe"),
		Observe: m.ObserveProbe})

	catOpts := fc.catalogOptions()
	catOpts.Store, catOpts.Environments, catOpts.Logger = st, envs, log.With("component", "catalog")
	cat := catalog.New(catOpts)
	cat.Start(ctx)
	m.WatchCatalog(cat, envs)

	authn, err := auth.New(ctx, auth.Config{
		Issuer:         cfg.OIDCIssuer,
		ClientID:       cfg.OIDCClientID,
		ClientSecret:   cfg.OIDCSecret,
		BaseURL:        cfg.BaseURL,
		AllowedTenants: cfg.AllowedTenants,
		Claims:         auth.ClaimNames{Roles: cfg.RolesClaim, Groups: cfg.GroupsClaim, Name: cfg.NameClaim},
		RoleValues:     cfg.RoleValues,
		TeamsByGroup:   cfg.TeamsByGroup,
		TeamsByRole:    cfg.TeamsByRole,
		SessionKey:     cfg.SessionKey,
		Sessions:       storeSessions{st},
		IdleTimeout:    cfg.SessionIdle,
		MaxAge:         cfg.SessionMaxAge,
		HTTPClient:     &http.Client{Timeout: 30 * time.Second},
		Logger:         log.With("component", "auth"),
	})
	if err != nil {
		return fmt.Errorf("set up sign-in (check PORTAL_OIDC_ISSUER and that the provider is reachable): %w", err)
	}
	var bearer *auth.BearerVerifier
	if cfg.APIAudience != "" {
		bearer, err = auth.NewBearerVerifier(ctx, auth.BearerConfig{Issuer: cfg.OIDCIssuer, Audience: cfg.APIAudience,
			AllowedTenants: cfg.AllowedTenants, Claims: auth.ClaimNames{Roles: cfg.RolesClaim, Groups: cfg.GroupsClaim, Name: cfg.NameClaim},
			RoleValues: cfg.RoleValues, TeamsByGroup: cfg.TeamsByGroup, TeamsByRole: cfg.TeamsByRole,
			HTTPClient: &http.Client{Timeout: 30 * time.Second}})
		if err != nil {
			return fmt.Errorf("set up the API's token checks (PORTAL_API_AUDIENCE): %w", err)
		}
	}
	nopts := fc.notifyOptions(os.Getenv)
	nopts.Store, nopts.PortalURL, nopts.Observe, nopts.Logger = st, cfg.BaseURL.String(), m.NotificationSent, log.With("component", "notify")
	notifier := notify.New(nopts)
	h, err := handlers.New(handlers.Config{
		Logger:        log,
		HTTPS:         cfg.BaseURL.Scheme == "https",
		CookieKey:     cfg.SessionKey,
		Auth:          authn,
		AccessContact: cfg.AccessContact,
		Readiness:     readinessChecks(st, envs, cat),
		Pages: &handlers.Pages{Store: st, Environments: envs, Prober: prober, Catalog: cat, TestLimits: fc.testLimits(),
			FingerprintKey: deriveKey(cfg.SessionKey, "validation-fingerprint"), Notifier: notifier},
		Metrics: m,
		Bearer:  bearer,
	})
	if err != nil {
		return err
	}
	go h.RecoverSaves(ctx, handlers.RecoverOptions{}) // one replica at a time, by lease
	startHealth(ctx, fc.healthOptions(), st, cat, h, notifier, m, log)
	srv := newHTTPServer(handlers.TrustProxies(cfg.TrustedProxies, h), log)
	if cfg.TLSCertFile != "" {
		certs, err := loadCertificateFiles(cfg.TLSCertFile, cfg.TLSKeyFile, log.With("component", "tls"))
		if err != nil {
			return err
		}
		srv.TLSConfig = certs.tlsConfig()
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	var metricsLn net.Listener
	if cfg.MetricsListen != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics on %s (PORTAL_METRICS_LISTEN): %w", cfg.MetricsListen, err)
		}
	}
	log.Info("portal serving", slog.String("listen", ln.Addr().String()), slog.String("base_url", cfg.BaseURL.String()),
		slog.Bool("tls", srv.TLSConfig != nil), slog.Int("trusted_proxies", len(cfg.TrustedProxies)),
		slog.String("sign_out_redirect_uri", authn.PostLogoutRedirectURI()), slog.String("version", buildVersion()))
	return serveWithMetrics(ctx, srv, ln, m, metricsLn, cfg.ShutdownTimeout, log)
}
