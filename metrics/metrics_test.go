package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/metrics"
	"github.com/contoso/sbportal/metrics/metricstest"
	"github.com/contoso/sbportal/servicebus"
	sbemulator "github.com/contoso/sbportal/servicebus/emulator"
	"github.com/contoso/sbportal/store"
)

// These tests run the real observers over real sockets (the portal's router, the Dataverse and
// Service Bus stand-ins) and read the results the way Prometheus does: an HTTP scrape of
// /metrics in the text format.

// serveMetrics serves m's handler at metrics.Path and returns the scrape URL.
func serveMetrics(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(metrics.Path, m.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + metrics.Path
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// want fails unless the series of name with labels sum to want.
func want(t *testing.T, f metricstest.Families, name string, labels map[string]string, want float64) {
	t.Helper()
	if got, _ := f.Value(name, labels); got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func TestRegistryHasRuntimeAndProcessSeries(t *testing.T) {
	f := metricstest.Scrape(t, serveMetrics(t, metrics.New()))
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := f[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
}

func TestHTTPRequestsAreCountedByRoutePattern(t *testing.T) {
	m := metrics.New()
	h, err := handlers.New(handlers.Config{Logger: quietLogger(), CookieKey: make([]byte, 32), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	portal := httptest.NewServer(h)
	defer portal.Close()
	for _, path := range []string{"/healthz", "/healthz", "/static/no-such-file-7f3a.css", "/no/such/page-7f3a", "/"} {
		resp, err := http.Get(portal.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Post(portal.URL+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	f := metricstest.Scrape(t, serveMetrics(t, m))
	want(t, f, "portal_http_requests_total", map[string]string{"route": "/healthz", "method": "GET", "code": "200"}, 2)
	// A known path with a method it does not take matched no route either.
	want(t, f, "portal_http_requests_total", map[string]string{"route": metrics.UnmatchedRoute, "method": "POST", "code": "405"}, 1)
	want(t, f, "portal_http_requests_total", map[string]string{"route": "/static/*", "method": "GET", "code": "404"}, 1)
	want(t, f, "portal_http_requests_total", map[string]string{"route": metrics.UnmatchedRoute, "method": "GET", "code": "404"}, 1)
	// Without an authenticator the pages behind sign-in answer 503, still under their pattern.
	want(t, f, "portal_http_requests_total", map[string]string{"route": "/", "method": "GET", "code": "503"}, 1)
	want(t, f, "portal_http_request_duration_seconds", map[string]string{"route": "/healthz", "method": "GET"}, 2)
	for _, route := range f.LabelValues("portal_http_requests_total", "route") {
		if strings.Contains(route, "7f3a") {
			t.Errorf("a raw path became a label: %q", route)
		}
	}
}

// dataverseStack is the Dataverse stand-in with one environment, "contoso-dev", whose client
// reports to m.
func dataverseStack(t *testing.T, m *metrics.Metrics) (*dvemulator.Server, *dataverse.Environments) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dv, err := dvemulator.StartDev(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dv.Close() })
	org := dv.Environments[0]
	envs, err := dataverse.NewEnvironments([]dataverse.EnvironmentConfig{{
		ID: "contoso-dev", DisplayName: org.Name(), URL: org.URL(), Teams: []string{"Integration"}, AllowInsecureHTTP: true,
		Credential: dataverse.CredentialConfig{Kind: dataverse.ClientSecretCredential, TenantID: dv.Tokens.TenantID(),
			ClientID: dvemulator.DevApp.ClientID, ClientSecret: dataverse.ConfigSecret(dvemulator.DevApp.ClientSecret),
			AuthorityHost: dv.Tokens.AuthorityHost(), AuthorityCAs: dv.Tokens.CertPool()},
	}}, dataverse.EnvironmentsOptions{Observe: m.ObserveDataverse})
	if err != nil {
		t.Fatal(err)
	}
	return org, envs
}

// watchedCatalog is a catalog of envs (not loaded yet) on a fresh SQLite store, watched by m.
func watchedCatalog(t *testing.T, m *metrics.Metrics, envs *dataverse.Environments) *catalog.Catalog {
	t.Helper()
	keys, err := store.ParseKeyring("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "portal.db"), keys, store.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat := catalog.New(catalog.Options{Store: st, Environments: envs, Logger: quietLogger()})
	m.WatchCatalog(cat, envs)
	return cat
}

func TestDataverseRequestsThrottlesAndCatalogAge(t *testing.T) {
	m := metrics.New()
	org, envs := dataverseStack(t, m)
	env, _ := envs.Get("contoso-dev")
	ctx := context.Background()
	scrapeURL := serveMetrics(t, m)

	if _, err := env.Client.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	f := metricstest.Scrape(t, scrapeURL)
	want(t, f, "portal_dataverse_requests_total", map[string]string{"environment": "contoso-dev", "method": "GET", "status_class": "2xx"}, 1)
	want(t, f, "portal_dataverse_throttled_total", map[string]string{"environment": "contoso-dev"}, 0)
	want(t, f, "portal_dataverse_request_duration_seconds", map[string]string{"environment": "contoso-dev"}, 1)

	// One 429: the client waits out Retry-After and succeeds; both attempts are counted.
	org.InjectFault(dvemulator.Fault{Path: "WhoAmI", Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	if _, err := env.Client.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	f = metricstest.Scrape(t, scrapeURL)
	want(t, f, "portal_dataverse_throttled_total", map[string]string{"environment": "contoso-dev"}, 1)
	want(t, f, "portal_dataverse_requests_total", map[string]string{"environment": "contoso-dev", "status_class": "4xx"}, 1)
	want(t, f, "portal_dataverse_requests_total", map[string]string{"environment": "contoso-dev", "status_class": "2xx"}, 2)

	// The catalog's age and size per environment, read at scrape time.
	cat := watchedCatalog(t, m, envs)
	if _, ok := metricstest.Scrape(t, scrapeURL)["portal_catalog_age_seconds"]; ok {
		t.Error("catalog age exported before the first load")
	}
	if err := cat.Refresh(ctx, "contoso-dev"); err != nil {
		t.Fatal(err)
	}
	v, _ := cat.View("contoso-dev")
	f = metricstest.Scrape(t, scrapeURL)
	want(t, f, "portal_catalog_endpoints", map[string]string{"environment": "contoso-dev"}, float64(len(v.Entries)))
	if age, ok := f.Value("portal_catalog_age_seconds", map[string]string{"environment": "contoso-dev"}); !ok || age < 0 || age > 60 {
		t.Errorf("catalog age %v (exported %v), want a few seconds", age, ok)
	}
	if len(v.Entries) == 0 {
		t.Error("the stand-in's seeded endpoints are missing from the catalog")
	}
}

func TestProbesAreCountedByKindAndCause(t *testing.T) {
	sb, err := sbemulator.New(sbemulator.DefaultConfig(), sbemulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := sb.Start(ln)
	t.Cleanup(func() { sb.Close(); <-done })
	addr := ln.Addr().String()

	m := metrics.New()
	p := servicebus.NewProber(servicebus.Options{Policy: servicebus.DevelopmentPolicy(), Timeout: 10 * time.Second, Observe: m.ObserveProbe})
	queue := func(key string) servicebus.Request {
		return servicebus.Request{UseDevelopmentEmulator: true, Mode: servicebus.ModeSend, Endpoint: endpoint.ServiceEndpoint{
			Name: "metrics test", Contract: endpoint.ContractQueue, NamespaceAddress: "sb://" + addr + "/", SolutionNamespace: "127",
			Path: sbemulator.DefaultQueue, AuthType: endpoint.AuthTypeSASKey, SASKeyName: sbemulator.DefaultSendPolicy,
			SASKey: endpoint.NewSecret(key), MessageFormat: endpoint.MessageFormatJSON, UserClaim: endpoint.UserClaimNone}}
	}
	if r := p.Probe(context.Background(), queue(sbemulator.DefaultSendPrimaryKey)); !r.Passed {
		t.Fatalf("probe failed: %s", r.Summary)
	}
	wrong := p.Probe(context.Background(), queue(strings.Repeat("A", 43)+"="))
	if wrong.Passed {
		t.Fatal("a wrong key passed")
	}

	f := metricstest.Scrape(t, serveMetrics(t, m))
	want(t, f, "portal_probes_total", map[string]string{"kind": "queue", "cause": "passed"}, 1)
	want(t, f, "portal_probes_total", map[string]string{"kind": "queue", "cause": string(wrong.Cause)}, 1)
	want(t, f, "portal_probe_duration_seconds", map[string]string{"kind": "queue"}, 2)
}

func TestReservedSeriesHaveSetters(t *testing.T) {
	m := metrics.New()
	m.SetRevalidationLag("contoso-dev", 90*time.Second)
	m.SetRevalidationLag("contoso-test", -time.Second) // ahead of schedule is no lag
	m.NotificationSent("email", "sent")
	m.NotificationSent("email", "sent")
	m.NotificationSent("teams", "failed")
	f := metricstest.Scrape(t, serveMetrics(t, m))
	want(t, f, "portal_revalidation_lag_seconds", map[string]string{"environment": "contoso-dev"}, 90)
	want(t, f, "portal_revalidation_lag_seconds", map[string]string{"environment": "contoso-test"}, 0)
	want(t, f, "portal_notifications_total", map[string]string{"channel": "email", "outcome": "sent"}, 2)
	want(t, f, "portal_notifications_total", map[string]string{"channel": "teams", "outcome": "failed"}, 1)
}

func TestUnknownMethodsShareOneLabel(t *testing.T) {
	m := metrics.New()
	m.ObserveRequest("BREW", "", http.StatusMethodNotAllowed, time.Millisecond)
	f := metricstest.Scrape(t, serveMetrics(t, m))
	want(t, f, "portal_http_requests_total", map[string]string{"route": metrics.UnmatchedRoute, "method": "other", "code": "405"}, 1)
}
