package handlers

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

// catalogEntry is an endpoint from Dataverse joined with what the portal knows about it.
type catalogEntry struct {
	Env        *dataverse.Environment
	Endpoint   endpoint.ServiceEndpoint
	Owner      store.Ownership
	ViaPortal  bool
	LastRun    store.ValidationRun
	HasLastRun bool
}

// envFailure is an environment that could not be listed.
type envFailure struct {
	Env    *dataverse.Environment
	Reason string
}

// defaultListTimeout bounds the wait for one environment, so one slow environment cannot hold
// the whole list page.
const defaultListTimeout = 8 * time.Second

// catalog lists, across every environment in parallel, the endpoints id may see, joined with
// ownership and the latest validation. An environment that fails or is too slow is reported in
// failures; the others still list.
func (p *pages) catalog(ctx context.Context, id auth.Identity) ([]catalogEntry, []envFailure) {
	envs := p.Environments.List()
	results := make([][]catalogEntry, len(envs))
	failures := make([]*envFailure, len(envs))
	timeout := p.ListTimeout
	if timeout <= 0 {
		timeout = defaultListTimeout
	}
	var wg sync.WaitGroup
	for i, env := range envs {
		wg.Go(func() {
			ectx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			entries, err := p.listEnvironment(ectx, id, env)
			if err != nil {
				reason := dataverseMessage(err)
				if ectx.Err() == context.DeadlineExceeded {
					reason = "It did not answer within " + timeout.String() + "."
				}
				failures[i] = &envFailure{Env: env, Reason: reason}
				return
			}
			results[i] = entries
		})
	}
	wg.Wait()
	var all []catalogEntry
	var failed []envFailure
	for i := range envs {
		all = append(all, results[i]...)
		if failures[i] != nil {
			failed = append(failed, *failures[i])
		}
	}
	return all, failed
}

func (p *pages) listEnvironment(ctx context.Context, id auth.Identity, env *dataverse.Environment) ([]catalogEntry, error) {
	eps, err := env.Client.ListEndpoints(ctx, dataverse.ListOptions{OrderBy: "name asc"})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(eps))
	for i, e := range eps {
		ids[i] = e.ID
	}
	owners, err := p.Store.OwnershipOf(ctx, env.ID, ids)
	if err != nil {
		return nil, err
	}
	runs, err := p.Store.LatestValidationRuns(ctx, env.ID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]catalogEntry, 0, len(eps))
	for _, e := range eps {
		key := strings.ToLower(e.ID)
		o, via := owners[key]
		if !p.cfg.Policy.Can(id, auth.ActionView, auth.Resource{Environment: env.ID, EnvironmentTeams: env.Teams, OwnerTeam: o.Team}) {
			continue
		}
		run, hasRun := runs[key]
		out = append(out, catalogEntry{Env: env, Endpoint: e, Owner: o, ViaPortal: via, LastRun: run, HasLastRun: hasRun})
	}
	return out, nil
}

// resource is the policy's view of a catalog entry.
func (c catalogEntry) resource() auth.Resource {
	return auth.Resource{Environment: c.Env.ID, EnvironmentTeams: c.Env.Teams, OwnerTeam: c.Owner.Team}
}
