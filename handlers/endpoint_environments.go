package handlers

import (
	"context"
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// environmentFacts adds to an endpoint's view what concerns environments: whether its key is
// set, the solutions it belongs to (read-only when managed), and its copies.
func (s *Server) environmentFacts(ctx context.Context, id auth.Identity, c catalogEntry, v *web.EndpointView, withDetails bool) {
	ep := c.Endpoint
	v.KeyMissing = endpoint.KeyMissing(ep)
	v.CanSetKey = v.KeyMissing && s.cfg.Policy.Can(id, auth.ActionRekey, resourceOf(&c))
	v.CanCopy = c.ViaPortal && len(s.copyTargets(id, c)) > 0
	if ep.IsManaged {
		v.CanEdit, v.CanDelete, v.CanRekey = false, false, false
	}
	if !withDetails {
		return
	}
	solutions, err := s.Catalog.Solutions(ctx, c.Env.ID, ep.ID)
	if err != nil {
		v.Solutions = []string{"not known: " + dataverseMessage(err)}
	}
	for _, sol := range solutions {
		label := sol.Label()
		if sol.Managed {
			label += " (managed)"
		}
		v.Solutions = append(v.Solutions, label)
	}
	v.ReadOnly = endpoint.ReadOnlyReason(ep, solutions)
	links, err := s.Store.CopyLinks(ctx, store.EndpointRef{Environment: c.Env.ID, EndpointID: ep.ID})
	if err != nil {
		return
	}
	for _, l := range links {
		name := l.Environment
		if env, ok := s.Environments.Get(l.Environment); ok {
			name = env.DisplayName
		}
		label := "Copy in " + name
		if l.CopiedFrom {
			label = "Copied from " + name
		}
		v.Copies = append(v.Copies, web.CopyLink{Label: label, URL: web.EndpointURL(l.Environment, l.EndpointID)})
	}
}

// refuseManaged refuses to change a managed endpoint's settings or steps (editing, deleting,
// re-keying to another policy): only its key may be set.
func refuseManaged(_ context.Context, _ *Server, a auth.Action, c catalogEntry) error {
	if !c.Endpoint.IsManaged {
		return nil
	}
	switch a {
	case auth.ActionEdit, auth.ActionDelete:
		return &Error{Status: http.StatusConflict, Title: "Read-only in the portal", Message: endpoint.ReadOnlyReason(c.Endpoint, nil)}
	}
	return nil
}
