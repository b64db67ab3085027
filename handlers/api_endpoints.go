package handlers

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

// apiMaxPageSize bounds pageSize on the API's endpoint list.
const apiMaxPageSize = 500

// apiEndpointList lists the endpoints the caller may see, from the catalog, with the list
// page's search, filters (q, env, type, team, status), sort and paging.
func (s *Server) apiEndpointList(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	q := readListQuery(v)
	size := listPageSize
	if n, err := strconv.Atoi(v.Get("pageSize")); err == nil && n > 0 {
		size = min(n, apiMaxPageSize)
	}
	found := s.visible(r.Context(), id)
	search := strings.ToLower(q.Search)
	matched := slices.DeleteFunc(found.entries, func(e *catalogEntry) bool { return !matchesQuery(q, search, e) })
	sortEntries(matched, q.Sort)
	out := api.EndpointList{Items: []api.Endpoint{}, Total: len(matched), Pages: max(1, (len(matched)+size-1)/size)}
	out.Page = min(max(q.Page, 1), out.Pages)
	start := (out.Page - 1) * size
	for _, e := range matched[start:min(start+size, len(matched))] {
		out.Items = append(out.Items, apiEndpoint(*e))
	}
	for _, p := range found.unavailable {
		out.Unavailable = append(out.Unavailable, api.EnvironmentProblem{Environment: p.Name, Problem: p.Reason})
	}
	for _, f := range found.freshness {
		af := api.Freshness{Environment: f.Environment, AsOf: f.AsOf, Problem: f.Reason}
		if !f.StaleSince.IsZero() {
			af.StaleSince = &f.StaleSince
		}
		out.Freshness = append(out.Freshness, af)
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiEndpointGet answers one endpoint, with whether the portal keeps its key.
func (s *Server) apiEndpointGet(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionView)
	if err != nil {
		return err
	}
	out, err := s.apiEndpointWithKey(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiEndpoint is a catalog entry as the API shows it.
func apiEndpoint(c catalogEntry) api.Endpoint {
	out := api.Endpoint{Environment: c.Env.ID, EnvironmentName: c.Env.DisplayName, Endpoint: c.Endpoint.WithoutSecrets()}
	if c.ViaPortal {
		out.OwnerTeam, out.RegisteredBy = c.Owner.Team, c.Owner.RegisteredByName
	}
	if c.HasLastRun {
		run := apiRun(c.LastRun)
		out.LastValidation = &run
	}
	return out
}

// apiEndpointWithKey adds whether the portal keeps the endpoint's key.
func (s *Server) apiEndpointWithKey(ctx context.Context, c catalogEntry) (api.Endpoint, error) {
	out := apiEndpoint(c)
	purposes, err := s.Store.StoredSecrets(ctx, c.Env.ID, c.Endpoint.ID)
	if err != nil {
		return out, err
	}
	stored := slices.ContainsFunc(purposes, endpoint.SecretPurpose.Valid)
	out.KeyStored = &stored
	return out, nil
}

// apiRun is a validation run as the API shows it.
func apiRun(run store.ValidationRun) api.ValidationRun {
	return api.ValidationRun{At: run.StartedAt, By: run.RunByName, Result: string(run.Result), Cause: run.Cause,
		Summary: run.Summary, Warnings: run.Warnings}
}

// apiEndpointHistory answers an endpoint's latest validation runs.
func (s *Server) apiEndpointHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionView)
	if err != nil {
		return err
	}
	runs, err := s.Store.ValidationHistory(r.Context(), c.Env.ID, c.Endpoint.ID, 50)
	if err != nil {
		return err
	}
	out := api.ValidationHistory{Items: []api.ValidationRun{}}
	for _, run := range runs {
		out.Items = append(out.Items, apiRun(run))
	}
	return writeJSON(w, http.StatusOK, out)
}
