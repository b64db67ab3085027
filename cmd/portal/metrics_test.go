package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/metrics"
	"github.com/contoso/sbportal/metrics/metricstest"
)

// TestDevServesMetrics: `portal dev` serves /metrics on its own address, counting its
// requests by route pattern and the local Dataverse's requests per environment, with the
// catalogs' age.
func TestDevServesMetrics(t *testing.T) {
	base, _ := startDev(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/healthz", "/endpoints/contoso-dev/0d5c2a51-7f3a-4c1e-9f00-000000000001"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var f metricstest.Families
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		f = metricstest.Scrape(t, base+metrics.Path)
		_, dev := f.Value("portal_catalog_age_seconds", map[string]string{"environment": "contoso-dev"})
		_, test := f.Value("portal_catalog_age_seconds", map[string]string{"environment": "contoso-test"})
		if dev && test || time.Now().After(deadline) {
			break
		}
	}
	if n, _ := f.Value("portal_http_requests_total", map[string]string{"route": "/healthz", "method": "GET", "code": "200"}); n != 1 {
		t.Errorf("/healthz counted %v times", n)
	}
	// Signed out, the endpoint page redirects to sign-in: counted under its pattern.
	if n, _ := f.Value("portal_http_requests_total", map[string]string{"route": "/endpoints/{env}/{id}", "method": "GET"}); n != 1 {
		t.Errorf("/endpoints/{env}/{id} counted %v times; routes: %q", n, f.LabelValues("portal_http_requests_total", "route"))
	}
	for _, route := range f.LabelValues("portal_http_requests_total", "route") {
		if strings.Contains(route, "0d5c2a51") {
			t.Errorf("a raw path became a label: %q", route)
		}
	}
	for _, env := range []string{"contoso-dev", "contoso-test"} {
		if n, _ := f.Value("portal_dataverse_requests_total", map[string]string{"environment": env, "status_class": "2xx"}); n == 0 {
			t.Errorf("no Dataverse requests counted for %s", env)
		}
	}
	if age, ok := f.Value("portal_catalog_age_seconds", map[string]string{"environment": "contoso-dev"}); !ok || age < 0 {
		t.Errorf("catalog age of contoso-dev: %v (exported %v)", age, ok)
	}
	if _, ok := f["portal_probes_total"]; ok {
		t.Error("probes counted before any test was run")
	}
}

// TestServeMetricsOnTheirOwnAddress: with PORTAL_METRICS_LISTEN, serve's metrics are on their
// own listener (and nothing else is), the portal's router does not serve them, and both stop
// together.
func TestServeMetricsOnTheirOwnAddress(t *testing.T) {
	m := metrics.New()
	h, err := handlers.New(handlers.Config{Logger: testLogger(io.Discard), CookieKey: make([]byte, 32), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- serveWithMetrics(ctx, newHTTPServer(h, testLogger(&logs)), ln, m, metricsLn, 5*time.Second, testLogger(&logs))
	}()
	portal, metricsBase := "http://"+ln.Addr().String(), "http://"+metricsLn.Addr().String()

	status := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := status(portal + "/healthz"); code != http.StatusOK {
		t.Fatalf("portal /healthz = %d", code)
	}
	if code, body := status(portal + metrics.Path); code != http.StatusNotFound || strings.Contains(body, "portal_http_requests_total") {
		t.Errorf("the portal's address answers %s with %d", metrics.Path, code)
	}
	if code, _ := status(metricsBase + "/healthz"); code != http.StatusNotFound {
		t.Errorf("the metrics address serves /healthz: %d", code)
	}
	f := metricstest.Scrape(t, metricsBase+metrics.Path)
	if n, _ := f.Value("portal_http_requests_total", map[string]string{"route": "/healthz", "code": "200"}); n != 1 {
		t.Errorf("/healthz counted %v times", n)
	}
	if n, _ := f.Value("portal_http_requests_total", map[string]string{"route": metrics.UnmatchedRoute, "code": "404"}); n != 1 {
		t.Errorf("the portal's %s counted %v times as unmatched", metrics.Path, n)
	}
	if !strings.Contains(logs.String(), "metrics serving") {
		t.Errorf("the metrics address is not logged: %s", logs.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serveWithMetrics: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the servers did not stop")
	}
	for _, addr := range []string{ln.Addr().String(), metricsLn.Addr().String()} {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after shutdown", addr)
		}
	}
}

func TestServeConfigMetricsListen(t *testing.T) {
	load := func(metricsListen string) (serveConfig, []string) {
		return loadServeConfig(serveLookup(map[string]string{"PORTAL_METRICS_LISTEN": metricsListen}))
	}
	if cfg, problems := load(""); len(problems) > 0 || cfg.MetricsListen != "" {
		t.Errorf("unset: %q, problems %q; want off", cfg.MetricsListen, problems)
	}
	if cfg, problems := load("127.0.0.1:9090"); len(problems) > 0 || cfg.MetricsListen != "127.0.0.1:9090" {
		t.Errorf("set: %q, problems %q", cfg.MetricsListen, problems)
	}
	for _, a := range [][2]string{{":8080", ":8080"}, {"127.0.0.1:8080", ":8080"}, {"[::]:9090", "10.0.0.1:9090"}} {
		if !sameListenAddress(a[0], a[1]) {
			t.Errorf("%s and %s overlap", a[0], a[1])
		}
	}
	for _, a := range [][2]string{{":8080", ":9090"}, {"127.0.0.1:9090", "127.0.0.2:9090"}, {"127.0.0.1:0", "127.0.0.1:0"}} {
		if sameListenAddress(a[0], a[1]) {
			t.Errorf("%s and %s do not overlap", a[0], a[1])
		}
	}
}
