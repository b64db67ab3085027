package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// ReadinessCheck is one dependency /readyz reports on.
type ReadinessCheck struct {
	Name string
	// Critical checks make /readyz answer 503 when they fail (the database). Non-critical ones
	// (one Dataverse environment among several) are reported but leave the portal ready.
	Critical bool
	// Check returns a short description of the state (e.g. "schema version 3") or an error
	// saying what is wrong. It must not include secrets.
	Check func(ctx context.Context) (string, error)
}

type readinessResult struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Critical bool   `json:"critical"`
	Detail   string `json:"detail,omitempty"`
	Error    string `json:"error,omitempty"`
}

// readinessTimeout bounds each check so a hanging dependency cannot hang the probe.
const readinessTimeout = 5 * time.Second

// readyz runs every readiness check in parallel and reports each one's state as JSON; 503 when
// a critical check fails.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	results := make([]readinessResult, len(s.cfg.Readiness))
	var wg sync.WaitGroup
	for i, c := range s.cfg.Readiness {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), readinessTimeout)
			defer cancel()
			detail, err := c.Check(ctx)
			res := readinessResult{Name: c.Name, Critical: c.Critical, OK: err == nil, Detail: detail}
			if err != nil {
				res.Error = err.Error()
			}
			results[i] = res
		})
	}
	wg.Wait()
	status, code := "ready", http.StatusOK
	for _, res := range results {
		if !res.OK && res.Critical {
			status, code = "unready", http.StatusServiceUnavailable
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(struct {
		Status string            `json:"status"`
		Checks []readinessResult `json:"checks"`
	}{status, results})
}
