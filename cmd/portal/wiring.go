package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/health"
	"github.com/contoso/sbportal/metrics"
	"github.com/contoso/sbportal/notify"
	"github.com/contoso/sbportal/store"
)

// readinessChecks reports the database (critical) and each Dataverse environment (not
// critical: one environment down leaves the portal serving the others). An environment's state
// is its catalog's: a readiness probe costs no Dataverse query.
func readinessChecks(st *store.Store, envs *dataverse.Environments, cat *catalog.Catalog) []handlers.ReadinessCheck {
	checks := []handlers.ReadinessCheck{{Name: "database", Critical: true, Check: func(ctx context.Context) (string, error) {
		// Errors are summarised: a driver's message can name the host, user and database.
		if err := st.Ping(ctx); err != nil {
			return "", databaseProblem(err)
		}
		v, err := st.SchemaVersion(ctx)
		if err != nil {
			return "", databaseProblem(err)
		}
		return fmt.Sprintf("%s, schema version %d", st.Backend(), v), nil
	}}}
	for _, env := range envs.List() {
		checks = append(checks, handlers.ReadinessCheck{Name: "dataverse " + env.ID, Check: func(ctx context.Context) (string, error) {
			v, _ := cat.View(env.ID)
			st := v.Status
			switch {
			case !st.Loaded && st.Problem != "":
				return "", fmt.Errorf("%s: not loaded yet: %s", env.DisplayName, st.Problem)
			case !st.Loaded:
				return "", fmt.Errorf("%s: not loaded yet", env.DisplayName)
			case st.Stale():
				return "", fmt.Errorf("%s: %d endpoints as of %s; refreshing fails since %s: %s (%d list queries since start)",
					env.DisplayName, len(v.Entries), st.AsOf.UTC().Format(time.RFC3339), st.StaleSince.UTC().Format(time.RFC3339), st.Problem, st.Queries)
			}
			return fmt.Sprintf("%s: %d endpoints as of %s (%d list queries since start)",
				env.DisplayName, len(v.Entries), st.AsOf.UTC().Format(time.RFC3339), st.Queries), nil
		}})
	}
	return checks
}

// deriveKey makes a purpose-specific key from a configured one, so one secret never serves two
// purposes directly.
func deriveKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sbportal/" + purpose))
	return m.Sum(nil)
}

// databaseProblem says what is wrong with the database in words that name no host, user or
// database (the logs have the details).
func databaseProblem(err error) error {
	if store.Unavailable(err) {
		return errors.New("the database is not answering (connection refused, lost or timed out)")
	}
	return errors.New("the database answered with an error; see the portal's log")
}

// startHealth runs scheduled re-validation, the reading of failed deliveries and the sending
// of notifications in the background until ctx ends (one replica at a time, by the store's
// lease), proving endpoints through h as people's tests do and reporting into m.
func startHealth(ctx context.Context, o health.Options, st *store.Store, cat *catalog.Catalog, h *handlers.Server,
	n *notify.Notifier, m *metrics.Metrics, log *slog.Logger) {
	o.Store, o.Catalog, o.Revalidate, o.Notifier, o.ObserveLag = st, cat, h.Revalidate, n, m.SetRevalidationLag
	o.Logger = log.With("component", "health")
	go health.New(o).Run(ctx)
}
