package handlers

import (
	"context"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/web"
)

// catalogEntry is an endpoint from the catalog: the Dataverse record joined with what the
// portal knows about it.
type catalogEntry = catalog.Entry

// defaultListTimeout bounds the wait for an environment's first load, so one slow environment
// cannot hold the whole list page.
const defaultListTimeout = 8 * time.Second

// listing is what the list page knows about the environments: the entries a person may see
// (sorted by name), the environments that have not loaded, and how fresh the others are.
type listing struct {
	entries     []*catalogEntry
	unavailable []web.EnvironmentProblem
	freshness   []web.Freshness
}

// visible returns, from the catalog (never from Dataverse), every endpoint id may see, sorted
// by name.
func (s *Server) visible(ctx context.Context, id auth.Identity) listing {
	timeout := s.ListTimeout
	if timeout <= 0 {
		timeout = defaultListTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	views, all := s.Catalog.All(ctx)
	var l listing
	for _, v := range views {
		st := v.Status
		if !st.Loaded {
			reason := st.Problem
			if reason == "" {
				reason = "It did not answer within " + timeout.String() + "."
			}
			l.unavailable = append(l.unavailable, web.EnvironmentProblem{Name: v.Env.DisplayName, Reason: reason})
			continue
		}
		l.freshness = append(l.freshness, web.Freshness{Environment: v.Env.ID, Name: v.Env.DisplayName, AsOf: st.AsOf,
			StaleSince: st.StaleSince, Reason: st.Problem, Throttled: st.Throttled, RetryAt: st.RetryAt})
	}
	l.entries = make([]*catalogEntry, 0, len(all))
	for _, e := range all {
		if s.cfg.Policy.Can(id, auth.ActionView, resourceOf(e)) {
			l.entries = append(l.entries, e)
		}
	}
	return l
}

// resourceOf is the policy's view of a catalog entry.
func resourceOf(c *catalogEntry) auth.Resource {
	return auth.Resource{Environment: c.Env.ID, EnvironmentTeams: c.Env.Teams, OwnerTeam: c.Owner.Team}
}
