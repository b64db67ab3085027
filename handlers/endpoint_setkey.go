package handlers

import (
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// endpointSetKeyForm asks for the key of an endpoint whose key Dataverse does not hold (after a
// solution import).
func (s *Server) endpointSetKeyForm(w http.ResponseWriter, r *http.Request) error {
	_, c, v, err := s.loadForAction(r, auth.ActionRekey)
	if err != nil {
		return err
	}
	s.renderRekey(w, r, http.StatusOK, c, web.RekeyForm{View: v, Kind: endpoint.KindOf(c.Endpoint), SetKey: true})
	return nil
}

// endpointSetKeySubmit sets the key: a bare key, a whole connection string (the key taken from
// it, its policy checked against the endpoint's) or a SAS token, proved by a test first, then
// written to Dataverse and kept (encrypted). The endpoint's other settings stay as they are,
// so a managed endpoint's key may be set too.
func (s *Server) endpointSetKeySubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := s.loadForAction(r, auth.ActionRekey)
	if err != nil {
		return err
	}
	form := web.RekeyForm{View: v, Kind: endpoint.KindOf(c.Endpoint), SetKey: true}
	in, err := credentialForm(r)
	if err != nil {
		return err
	}
	e, facts, problems := endpoint.SetKey(c.Endpoint, in)
	if problems == nil {
		problems = e.Validate()
	}
	if problems != nil {
		form.Errors = web.FieldErrors{}
		field := secretField(c.Endpoint)
		for _, pr := range problems {
			form.Errors[field] = append(form.Errors[field], pr.Message)
		}
		s.renderRekey(w, r, http.StatusUnprocessableEntity, c, form)
		return nil
	}
	t, err := s.PlanTarget(id, c.Env.ID, RequestID(r.Context()))
	if err != nil {
		return err
	}
	proof, err := t.Prove(r.Context(), e, facts.Emulator || endpoint.IsEmulatorAddress(e.NamespaceAddress))
	if err != nil {
		return err
	}
	if !proof.Passed {
		form.Result = web.ProbeView{Ran: true, Title: "Validation failed", Detail: proof.Summary, Fix: proof.Fix}
		form.Message = "The key did not pass the test, so it was not set."
		s.renderRekey(w, r, http.StatusUnprocessableEntity, c, form)
		return nil
	}
	if err := s.updateAudited(r, id, c, e, "endpoint.setkey", "Dataverse did not take the key"); err != nil {
		return err
	}
	if err := s.keepSecret(r, c.Env.ID, e); err != nil {
		return err
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "The key passed the test and is now set on “" + e.Name + "”."})
	http.Redirect(w, r, web.EndpointURL(c.Env.ID, e.ID), http.StatusSeeOther)
	return nil
}
