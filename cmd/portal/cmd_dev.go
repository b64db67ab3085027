package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
	"github.com/contoso/sbportal/catalog"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/health"
	"github.com/contoso/sbportal/metrics"
	"github.com/contoso/sbportal/notify"
	"github.com/contoso/sbportal/notify/devsmtp"
)

// devNotificationTargets tell the local stack's teams by e-mail (to the stand-in recipient).
var devNotificationTargets = map[string]notify.Target{
	"Integration": {Email: []string{"integration-team@contoso.example"}},
	"Finance":     {Email: []string{"finance-team@contoso.example"}},
}

func init() {
	register(command{
		name:    "dev",
		summary: "run the whole local stack on loopback (nothing to configure)",
		run:     runDev,
	})
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev", "dev [--listen 127.0.0.1:8080] [--data .portal-dev]\n   or: dev --for-serve DIR [--serve-listen 127.0.0.1:8443]", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "loopback address for the portal; if the port is taken a free one is used")
	dataDir := fs.String("data", ".portal-dev", "folder for the local stack's data (database, keys); delete it to start afresh")
	seed := fs.Int("seed-endpoints", 0, "add this many queue endpoints to Contoso Dev before starting (to try the list at scale; the load harness uses it)")
	forServe := fs.String("for-serve", "", "run no portal, only the local providers (identity provider over https, Dataverse, Service Bus), and write `DIR`/serve.env, a production configuration for trying 'portal serve' against them")
	serveListen := fs.String("serve-listen", "127.0.0.1:8443", "with --for-serve: the address 'portal serve' will listen on (https)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, closeLog := newLogger(stderr, false, slog.LevelInfo)
	defer closeLog()
	if *forServe != "" {
		return runProvidersForServe(ctx, *forServe, *serveListen, stdout, log)
	}

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

	m := metrics.New()
	stack, err := startDevStack(ctx, *dataDir, m, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer stack.close()

	pipeline, err := newDevPipeline(*dataDir)
	if err != nil {
		ln.Close()
		return err
	}
	idp, authn, stopIDP, err := startDevIdentity(ctx, baseURL, cookieKey, storeSessions{stack.store}, log, pipeline)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopIDP()
	bearer, err := pipeline.verifier(ctx, idp)
	if err != nil {
		ln.Close()
		return fmt.Errorf("connect to the local identity provider over https: %w", err)
	}

	if err := seedDevEndpoints(stack.dv.Environments[0], *seed); err != nil {
		ln.Close()
		return err
	}
	// The local stack refreshes often: people try changes in the stand-ins by hand.
	cat := catalog.New(catalog.Options{Store: stack.store, Environments: stack.envs, Refresh: 15 * time.Second,
		Logger: log.With("component", "catalog")})
	cat.Start(ctx)
	m.WatchCatalog(cat, stack.envs)

	// Teams are told by e-mail, delivered to a stand-in SMTP recipient on loopback.
	mailbox, err := devsmtp.Start("127.0.0.1:0")
	if err != nil {
		ln.Close()
		return err
	}
	defer mailbox.Close()
	notifier := notify.New(notify.Options{Store: stack.store, PortalURL: baseURL, Observe: m.NotificationSent,
		Targets: devNotificationTargets, SMTP: notify.SMTP{Addr: mailbox.Addr(), From: "portal@contoso.example"},
		Logger: log.With("component", "notify")})
	h, err := handlers.New(handlers.Config{Logger: log, DevMode: true, CookieKey: cookieKey, Auth: authn,
		AccessContact: "Ada Admin (ada.admin@contoso.example), the local stack's portal administrator",
		Readiness:     readinessChecks(stack.store, stack.envs, cat),
		Pages: &handlers.Pages{Store: stack.store, Environments: stack.envs, Prober: stack.prober, Catalog: cat,
			// The local stack's tests reach only the local Service Bus: people trying the portal
			// (and the browser tests) may test far more often than in production.
			TestLimits:     handlers.TestLimits{PerPersonPerMinute: 120, PerEndpointPerMinute: 60},
			FingerprintKey: deriveKey(cookieKey, "validation-fingerprint"), Notifier: notifier,
			NotificationsNote: "E-mail notifications go to a stand-in SMTP recipient at " + mailbox.Addr() + " on this computer; nothing leaves it."},
		Metrics: m, Bearer: bearer})
	if err != nil {
		ln.Close()
		return err
	}
	go h.RecoverSaves(ctx, handlers.RecoverOptions{})
	// The local stack re-validates and reads deliveries often, so changes show within minutes.
	startHealth(ctx, health.Options{Interval: 10 * time.Minute, DeliveryEvery: time.Minute, Tick: 20 * time.Second},
		stack.store, cat, h, notifier, m, log)
	fmt.Fprintf(stdout, "\nService Endpoint Portal (local stack) is running.\n\n  Open %s/\n  Metrics (Prometheus) at %s%s\n\n", baseURL, baseURL, metrics.Path)
	fmt.Fprintf(stdout, "Sign in as one of these people (local identity provider at %s):\n", idp.Issuer())
	for _, p := range idp.Personas() {
		fmt.Fprintf(stdout, "  %-22s %-16s %s\n", p.ID, p.Name, p.Description)
	}
	stack.printInfo(stdout)
	pipeline.printLines(stdout, baseURL)
	fmt.Fprintf(stdout, "\nHealth: endpoints with a stored key are re-validated every 10 minutes; notifications (e-mail to a\n"+
		"stand-in SMTP recipient at %s) are listed at %s/notifications. To make an endpoint's deliveries fail:\n"+
		"  curl -X POST %s/_emulator/deliveries -d '{\"endpointId\":\"<id>\",\"failed\":3,\"waiting\":1}'\n",
		mailbox.Addr(), baseURL, stack.envs.List()[0].URL)
	fmt.Fprintf(stdout, "\nPress Ctrl+C to stop.\n\n")
	return serveUntilDone(ctx, newHTTPServer(withMetricsPath(m, h), log), ln, 5*time.Second, log)
}

// devTeams maps the local directory's groups to the sample teams.
var devTeams = map[string]string{devidp.GroupIntegration: "Integration", devidp.GroupFinance: "Finance"}

// startDevIdentity runs the local OpenID provider on a free loopback port, registers the
// portal at baseURL with it, and returns an Authenticator that signs in through it exactly as
// through Entra ID. stop shuts the provider down.
func startDevIdentity(ctx context.Context, baseURL string, sessionKey []byte, sessions auth.SessionStore, log *slog.Logger, pipeline *devPipeline) (*devidp.Provider, *auth.Authenticator, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listen for the local identity provider: %w", err)
	}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	client := devidp.Client{ID: "service-endpoint-portal", Secret: base64.RawURLEncoding.EncodeToString(secret),
		Name: "Service Endpoint Portal", RedirectURIs: []string{baseURL + auth.CallbackPath},
		PostLogoutRedirectURIs: []string{baseURL + auth.SignedOutPath}}
	idp, err := devidp.New("http://"+ln.Addr().String(), devidp.Options{Clients: []devidp.Client{client},
		Apps: pipeline.apps, SecureBaseURL: pipeline.base})
	if err != nil {
		ln.Close()
		pipeline.ln.Close()
		return nil, nil, nil, err
	}
	srv := &http.Server{Handler: idp, ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	// The same provider over https, for azidentity (pipelines and the CLI).
	secure := &http.Server{Handler: idp, ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = secure.Serve(pipeline.ln) }()
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = secure.Shutdown(sctx)
	}
	base, _ := url.Parse(baseURL)
	authn, err := auth.New(ctx, auth.Config{Issuer: idp.Issuer(), ClientID: client.ID, ClientSecret: client.Secret,
		BaseURL: base, SessionKey: sessionKey, Sessions: sessions, TeamsByGroup: devTeams,
		AllowedTenants: []string{devidp.TenantID}, HTTPClient: &http.Client{Timeout: 10 * time.Second}, Logger: log.With("component", "auth")})
	if err != nil {
		stop()
		return nil, nil, nil, fmt.Errorf("connect to the local identity provider: %w", err)
	}
	return idp, authn, stop, nil
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

// seedDevEndpoints adds n queue endpoints named "Bulk queue NNNN" to a Dataverse stand-in,
// written straight into it as another tool would.
func seedDevEndpoints(s *dvemulator.Server, n int) error {
	for i := range n {
		_, err := s.CreateRecord("serviceendpoints", map[string]any{
			"name": fmt.Sprintf("Bulk queue %04d", i), "solutionnamespace": "bulkns",
			"namespaceaddress": "sb://bulkns.servicebus.windows.net/", "path": fmt.Sprintf("q%04d", i),
			"contract": 2, "connectionmode": 1, "userclaim": 1, "messageformat": 2, "namespaceformat": 2,
			"authtype": 2, "saskeyname": "send", "saskey": strings.Repeat("k", 43) + "=",
		})
		if err != nil {
			return fmt.Errorf("seed endpoint %d: %w", i, err)
		}
	}
	return nil
}
