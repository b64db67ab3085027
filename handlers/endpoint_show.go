package handlers

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// loadEndpoint finds the endpoint named in the URL in the catalog (not in Dataverse: a page
// view costs no Dataverse query) and checks that id may perform action on it.
func (s *Server) loadEndpoint(r *http.Request, id auth.Identity, action auth.Action) (catalogEntry, error) {
	env, ok := s.Environments.Get(chi.URLParam(r, "env"))
	if !ok {
		return catalogEntry{}, &Error{Status: http.StatusNotFound, Title: "No such environment",
			Message: "The portal serves no Dataverse environment by that name. Start from the endpoints list."}
	}
	ctx, cancel := context.WithTimeout(r.Context(), cmp.Or(s.ListTimeout, defaultListTimeout))
	defer cancel()
	e, loaded, found := s.Catalog.Get(ctx, env.ID, chi.URLParam(r, "id"))
	if !loaded {
		v, _ := s.Catalog.View(env.ID)
		return catalogEntry{}, &Error{Status: http.StatusServiceUnavailable, Title: env.DisplayName + " is unavailable",
			Message: "The portal could not read this environment's endpoints yet. " + v.Status.Problem + " Try again in a minute."}
	}
	notFound := &Error{Status: http.StatusNotFound, Title: "Endpoint not found",
		Message: "Dataverse has no endpoint with this id in " + env.DisplayName + "."}
	if !found {
		owner, err := s.Store.GetOwnership(ctx, env.ID, chi.URLParam(r, "id"))
		if err == nil && s.cfg.Policy.Can(id, auth.ActionView, auth.Resource{Environment: env.ID, EnvironmentTeams: env.Teams, OwnerTeam: owner.Team}) {
			notFound.Message = "The portal registered this endpoint for team " + owner.Team + ", but it no longer exists in " + env.DisplayName + ": it was deleted outside the portal."
		}
		return catalogEntry{}, notFound
	}
	c := *e
	// Someone who may not see the endpoint learns nothing about it, not even that it exists
	// or which team owns it: the same answer as for an id that is not there.
	if !s.cfg.Policy.Can(id, auth.ActionView, resourceOf(&c)) {
		return catalogEntry{}, notFound
	}
	if err := s.authorize(r, action, resourceOf(&c)); err != nil {
		return catalogEntry{}, err
	}
	if err := refuseManaged(ctx, s, action, c); err != nil {
		return catalogEntry{}, err
	}
	return c, nil
}

// loadForAction loads the endpoint of an action page (edit, re-key) with its view, after
// checking the signed-in person may perform a on it.
func (s *Server) loadForAction(r *http.Request, a auth.Action) (auth.Identity, catalogEntry, web.EndpointView, error) {
	id, err := identity(r)
	if err != nil {
		return id, catalogEntry{}, web.EndpointView{}, err
	}
	c, err := s.loadEndpoint(r, id, a)
	if err != nil {
		return id, c, web.EndpointView{}, err
	}
	v, err := s.endpointView(r.Context(), id, c, false)
	return id, c, v, err
}

// endpointView builds the endpoint page's view: fields, history, audit, steps, actions.
func (s *Server) endpointView(ctx context.Context, id auth.Identity, c catalogEntry, withDetails bool) (web.EndpointView, error) {
	ep := c.Endpoint
	v := web.EndpointView{Environment: c.Env.ID, EnvironmentName: c.Env.DisplayName, ID: ep.ID, Name: ep.Name,
		Fields:    endpointFacts(c),
		CanTest:   s.cfg.Policy.Can(id, auth.ActionTest, resourceOf(&c)),
		CanEdit:   s.cfg.Policy.Can(id, auth.ActionEdit, resourceOf(&c)),
		CanRekey:  s.cfg.Policy.Can(id, auth.ActionRekey, resourceOf(&c)),
		CanDelete: s.cfg.Policy.Can(id, auth.ActionDelete, resourceOf(&c))}
	purposes, err := s.Store.StoredSecrets(ctx, c.Env.ID, ep.ID)
	if err != nil {
		return v, err
	}
	v.KeyStored = slices.ContainsFunc(purposes, endpoint.SecretPurpose.Valid)
	v.Health = healthView(c, v.KeyStored, v.CanTest)
	s.environmentFacts(ctx, id, c, &v, withDetails)
	if !withDetails {
		return v, nil
	}
	runs, err := s.Store.ValidationHistory(ctx, c.Env.ID, ep.ID, 20)
	if err != nil {
		return v, err
	}
	for _, run := range runs {
		v.History = append(v.History, web.ValidationRow{When: run.StartedAt, By: run.RunByName, Passed: run.Result == store.ValidationPassed, Summary: run.Summary})
	}
	page, err := s.Store.ListAudit(ctx, store.AuditFilter{Environment: c.Env.ID, EndpointID: ep.ID, Limit: 20})
	if err != nil {
		return v, err
	}
	v.Audit = auditRows(page.Entries)
	steps, err := s.Catalog.Steps(ctx, c.Env.ID, ep.ID)
	if err != nil {
		v.StepsError = "The steps could not be read: " + dataverseMessage(err)
	}
	for _, st := range steps {
		v.Steps = append(v.Steps, stepRow(c, st))
	}
	return v, nil
}

// endpointShow renders the endpoint page.
func (s *Server) endpointShow(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionView)
	if err != nil {
		return err
	}
	v, err := s.endpointView(r.Context(), id, c, true)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, web.EndpointPage(s.page(w, r, c.Endpoint.Name, web.NavEndpoints), v))
	return nil
}

// endpointFacts lists an endpoint's fields with the secrets shown only as set or not.
func endpointFacts(c catalogEntry) []web.Fact {
	ep := c.Endpoint
	team := c.Owner.Team
	if !c.ViaPortal {
		team = "not registered through the portal"
	}
	f := []web.Fact{
		{Label: "Environment", Value: c.Env.DisplayName},
		{Label: "Owning team", Value: team},
		{Label: "Designation type", Value: ep.Contract.Label()},
	}
	if ep.Description != "" {
		f = append(f, web.Fact{Label: "Description", Value: ep.Description})
	}
	if ep.Contract == endpoint.ContractWebhook {
		f = append(f, web.Fact{Label: "URL", Value: ep.URL}, web.Fact{Label: "Authentication", Value: ep.AuthType.Label() + setLabel(ep.IsAuthValueSet, "value")})
	} else {
		f = append(f,
			web.Fact{Label: "Namespace address", Value: ep.NamespaceAddress},
			web.Fact{Label: "Namespace name", Value: ep.SolutionNamespace},
			web.Fact{Label: "Path", Value: ep.Path},
			web.Fact{Label: "Authentication", Value: authFact(ep)})
		if ep.AuthType == endpoint.AuthTypeSASKey {
			f = append(f, web.Fact{Label: "SAS key", Value: setLabel(ep.IsSASKeySet, "key")[2:]})
		}
	}
	f = append(f,
		web.Fact{Label: "Message format", Value: ep.MessageFormat.Label()},
		web.Fact{Label: "User information sent", Value: ep.UserClaim.Label()},
		web.Fact{Label: "Endpoint id", Value: ep.ID})
	if !ep.CreatedOn.IsZero() {
		f = append(f, web.Fact{Label: "Created", Value: web.DateTime(ep.CreatedOn)})
	}
	if !ep.ModifiedOn.IsZero() {
		f = append(f, web.Fact{Label: "Modified", Value: web.DateTime(ep.ModifiedOn)})
	}
	if c.ViaPortal {
		f = append(f, web.Fact{Label: "Registered by", Value: c.Owner.RegisteredByName + " on " + web.DateTime(c.Owner.RegisteredAt)})
	}
	return f
}

func setLabel(set bool, what string) string {
	if set {
		return ", " + what + " is set"
	}
	return ", " + what + " is NOT set"
}

// auditRows turns audit entries into table rows, listing what changed.
func auditRows(entries []store.AuditEntry) []web.AuditRow {
	var rows []web.AuditRow
	for _, e := range entries {
		row := web.AuditRow{When: e.At, Who: e.ActorName, Action: e.Action, Environment: e.Environment,
			Endpoint: cmp.Or(e.EndpointName, e.EndpointID), Outcome: string(e.Outcome), Detail: e.Detail}
		if e.EndpointID != "" && e.Action != "endpoint.delete" {
			row.EndpointURL = web.EndpointURL(e.Environment, e.EndpointID)
		}
		row.Changes = changes(e.Before, e.After)
		rows = append(rows, row)
	}
	return rows
}

// changes lists the fields that differ between before and after ("old → new").
func changes(before, after json.RawMessage) []web.Fact {
	var b, a map[string]any
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names)
	var out []web.Fact
	for _, k := range names {
		ov, nv := fmt.Sprint(b[k]), fmt.Sprint(a[k])
		if b[k] == nil {
			ov = ""
		}
		if a[k] == nil {
			nv = ""
		}
		switch {
		case ov == nv:
			continue
		case len(b) == 0:
			out = append(out, web.Fact{Label: k, Value: nv})
		case len(a) == 0:
			out = append(out, web.Fact{Label: k, Value: ov})
		default:
			out = append(out, web.Fact{Label: k, Value: ov + " → " + nv})
		}
	}
	return out
}

// stepRow is a step as a row of its endpoint's steps table.
func stepRow(c catalogEntry, st endpoint.Step) web.StepRow {
	row := web.StepRow{URL: web.StepPageURL(c.Env.ID, c.Endpoint.ID, st.ID), Name: st.Name, Message: st.Message,
		Table: cmp.Or(st.Table, "none"), Stage: st.Stage.Label(), Mode: st.Mode.Label(), State: st.State.Label(),
		Enabled: st.State == endpoint.StepEnabled, FilteringAttributes: strings.Join(st.FilteringAttributes, ", ")}
	var images []string
	for _, im := range st.Images {
		images = append(images, im.Alias+" ("+strings.ToLower(im.Type.Label())+")")
	}
	row.Images = strings.Join(images, ", ")
	return row
}
