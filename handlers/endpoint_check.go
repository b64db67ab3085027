package handlers

import (
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// endpointCheck asks Dataverse to validate the endpoint's configuration itself (the bound
// action TriggerServiceEndpointCheck, which returns nothing on success and an error naming the
// problem otherwise) and shows the answer. It changes nothing; it is audited as a test is.
func (s *Server) endpointCheck(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionTest)
	if err != nil {
		return err
	}
	if refused, err := s.refuseTest(w, r, id, c.Env.ID+"/"+c.Endpoint.ID); refused {
		return err
	}
	ctx := r.Context()
	started := s.now()
	view := web.ProbeView{Ran: true, Passed: true, When: started, Title: "Dataverse accepted the configuration",
		Detail: "TriggerServiceEndpointCheck found nothing wrong with this endpoint's settings in " + c.Env.DisplayName + "."}
	outcome := store.AuditSucceeded
	if cerr := c.Env.Client.TriggerServiceEndpointCheck(ctx, c.Endpoint.ID); cerr != nil {
		view.Passed, view.Title, view.Detail = false, "Dataverse reported a problem", dataverseMessage(cerr)
		outcome = store.AuditFailed
	}
	view.Duration = s.now().Sub(started).Round(1e6).String()
	if _, err := s.Store.AppendAudit(ctx, store.AuditEntry{ActorKey: id.Key, ActorName: id.Name, Action: "endpoint.check",
		Environment: c.Env.ID, EndpointID: c.Endpoint.ID, EndpointName: c.Endpoint.Name, Outcome: outcome,
		Detail: view.Title + ": " + view.Detail, RequestID: RequestID(ctx)}); err != nil {
		return err
	}
	if isHTMX(r) {
		s.render(w, r, http.StatusOK, web.ProbeOutcome(view))
		return nil
	}
	v, err := s.endpointView(ctx, id, c, true)
	if err != nil {
		return err
	}
	v.Health.Check = view
	s.render(w, r, http.StatusOK, web.EndpointPage(s.page(w, r, c.Endpoint.Name, web.NavEndpoints), v))
	return nil
}
