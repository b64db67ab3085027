package handlers

import (
	"net/http"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// endpointDelete confirms (GET) and performs (POST) the deletion of an endpoint and, with it,
// the steps registered against it.
func (p *pages) endpointDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := p.loadEndpoint(r, id, auth.ActionDelete)
	if err != nil {
		return err
	}
	ctx := r.Context()
	e := c.Endpoint
	if r.Method == http.MethodPost && strings.TrimSpace(r.PostFormValue("confirm")) == e.Name {
		audit := store.AuditEntry{ActorKey: id.Key, ActorName: id.Name, Action: "endpoint.delete", Environment: c.Env.ID,
			EndpointID: e.ID, EndpointName: e.Name, Before: auditSnapshot(e), RequestID: RequestID(ctx)}
		if err := c.Env.Client.DeleteEndpoint(ctx, e.ID); err != nil {
			audit.Outcome, audit.Detail = store.AuditFailed, dataverseMessage(err)
			_, _ = p.Store.AppendAudit(ctx, audit)
			return dataverseError("Dataverse did not delete the endpoint", err)
		}
		p.Catalog.Deleted(ctx, c.Env.ID, e.ID)
		if _, err := p.Store.DeleteEndpointSecrets(ctx, c.Env.ID, e.ID); err != nil {
			return err
		}
		if err := p.Store.DeleteOwnership(ctx, c.Env.ID, e.ID); err != nil {
			return err
		}
		audit.Outcome = store.AuditSucceeded
		if _, err := p.Store.AppendAudit(ctx, audit); err != nil {
			return err
		}
		p.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "“" + e.Name + "” was deleted from " + c.Env.DisplayName + "."})
		http.Redirect(w, r, "/endpoints", http.StatusSeeOther)
		return nil
	}
	v, err := p.endpointView(ctx, id, c, false)
	if err != nil {
		return err
	}
	form := web.DeleteForm{View: v}
	if steps, err := p.Catalog.Steps(ctx, c.Env.ID, e.ID); err == nil {
		form.StepCount, form.StepsKnown = len(steps), true
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusUnprocessableEntity
		form.ConfirmError = "Type the name exactly as shown (" + e.Name + ") to confirm the deletion."
	}
	p.render(w, r, status, web.DeletePage(p.page(w, r, "Delete "+e.Name, web.NavEndpoints), form))
	return nil
}
