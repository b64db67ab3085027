package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/contoso/sbportal/auth"
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

// readiness runs every readiness check in parallel: "ready" (200) unless a critical check
// fails ("unready", 503).
func (s *Server) readiness(ctx context.Context) (status string, code int, results []readinessResult) {
	results = make([]readinessResult, len(s.cfg.Readiness))
	var wg sync.WaitGroup
	for i, c := range s.cfg.Readiness {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, readinessTimeout)
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
	status, code = "ready", http.StatusOK
	for _, res := range results {
		if !res.OK && res.Critical {
			status, code = "unready", http.StatusServiceUnavailable
		}
	}
	return status, code, results
}

// readyz tells anyone (the orchestrator's probe) only whether the portal is ready: the
// dependencies' names and states are for Admins (readinessDetails).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	status, code, _ := s.readiness(r.Context())
	writeReadiness(w, code, struct {
		Status string `json:"status"`
	}{status})
}

// readinessDetails shows signed-in Admins each dependency's state (errors summarised by the
// checks, never raw connection strings).
func (s *Server) readinessDetails(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorize(r, auth.ActionViewAudit, auth.Resource{}); err != nil {
		return err
	}
	status, code, results := s.readiness(r.Context())
	writeReadiness(w, code, struct {
		Status string            `json:"status"`
		Checks []readinessResult `json:"checks"`
	}{status, results})
	return nil
}

func writeReadiness(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
