package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/health"
)

// Scheduler is who scheduled re-validation runs as: its runs show in validation histories and
// the audit log as "Scheduled re-validation", and its tests count against the same per-person
// and per-endpoint limits as people's.
var Scheduler = auth.Identity{Key: "portal:scheduler", Name: "Scheduled re-validation"}

// Revalidate proves a saved endpoint with the secret the portal keeps, in the least intrusive
// way its kind allows (endpoint.ScheduledProbe), and records the run as people's tests are
// recorded (history, audit, catalog), run by Scheduler. It is the health scheduler's
// RevalidateFunc. Over the rate limits it answers a *health.WaitError; without a stored secret
// health.ErrNoSecret.
func (s *Server) Revalidate(ctx context.Context, envID, endpointID string) (health.Outcome, error) {
	e, loaded, ok := s.Catalog.Get(ctx, envID, endpointID)
	if !loaded || !ok {
		return health.Outcome{}, health.ErrNoSecret // gone, or its environment is not loaded: nothing to prove now
	}
	ep, emulator, stored, err := s.withStoredSecret(ctx, *e)
	if err != nil {
		return health.Outcome{}, err
	}
	if !stored {
		return health.Outcome{}, health.ErrNoSecret
	}
	if err := s.allowTest(Scheduler, envID+"/"+e.Endpoint.ID); err != nil {
		var he *Error
		if errors.As(err, &he) && he.Status == http.StatusTooManyRequests {
			return health.Outcome{}, &health.WaitError{Wait: he.RetryAfter}
		}
		return health.Outcome{}, err
	}
	mode, _ := endpoint.ScheduledProbe(ep.Contract)
	rec := s.probe(ctx, ep, mode, emulator, false)
	if err := s.recordRun(ctx, Scheduler, envID, ep.ID, ep.Name, "", 0, rec); err != nil {
		return health.Outcome{}, err
	}
	return health.Outcome{Passed: rec.Passed, Summary: strings.TrimSuffix(rec.Title+": "+rec.Detail, ": ")}, nil
}
