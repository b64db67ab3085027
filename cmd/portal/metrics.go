package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/contoso/sbportal/metrics"
)

// metricsServer serves only the metrics, at metrics.Path: the separate address of `portal
// serve` (PORTAL_METRICS_LISTEN). Everything else answers 404.
func metricsServer(m *metrics.Metrics, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET "+metrics.Path, m.Handler())
	return newHTTPServer(mux, log)
}

// withMetricsPath serves the metrics at metrics.Path in front of the portal's handler h: the
// local stack's single address. `portal serve` never does this (see metricsServer).
func withMetricsPath(m *metrics.Metrics, h http.Handler) http.Handler {
	mh := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == metrics.Path && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			mh.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveWithMetrics serves the portal (srv on ln) and, when metricsLn is not nil, the metrics
// on metricsLn, until ctx ends; then both shut down. When either server fails the other is
// shut down too: a portal started with metrics should not silently run without them.
func serveWithMetrics(ctx context.Context, srv *http.Server, ln net.Listener, m *metrics.Metrics, metricsLn net.Listener,
	shutdownTimeout time.Duration, log *slog.Logger) error {
	if metricsLn == nil {
		return serveUntilDone(ctx, srv, ln, shutdownTimeout, log)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mlog := log.With("server", "metrics")
	mlog.Info("metrics serving", slog.String("listen", metricsLn.Addr().String()), slog.String("path", metrics.Path))
	merrc := make(chan error, 1)
	go func() {
		err := serveUntilDone(ctx, metricsServer(m, mlog), metricsLn, shutdownTimeout, mlog)
		cancel()
		merrc <- err
	}()
	err := serveUntilDone(ctx, srv, ln, shutdownTimeout, log)
	cancel()
	if merr := <-merrc; merr != nil && err == nil {
		err = fmt.Errorf("metrics server (PORTAL_METRICS_LISTEN): %w", merr)
	}
	return err
}
