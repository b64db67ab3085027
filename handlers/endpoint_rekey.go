package handlers

import (
	"context"
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// renderRekey shows the re-key page.
func (s *Server) renderRekey(w http.ResponseWriter, r *http.Request, status int, c catalogEntry, form web.RekeyForm) {
	s.render(w, r, status, web.RekeyPage(s.page(w, r, "Re-key "+c.Endpoint.Name, web.NavEndpoints), form))
}

// endpointRekeyForm asks for an endpoint's new key.
func (s *Server) endpointRekeyForm(w http.ResponseWriter, r *http.Request) error {
	_, c, v, err := s.loadForAction(r, auth.ActionRekey)
	if err != nil {
		return err
	}
	s.renderRekey(w, r, http.StatusOK, c, web.RekeyForm{View: v, Kind: endpoint.KindOf(c.Endpoint)})
	return nil
}

// endpointRekeySubmit replaces an endpoint's key: the new key is proved by a test first, then
// written to Dataverse and kept (encrypted) for later tests. It is the fix for keys lost at
// solution import and the step in key rotation.
func (s *Server) endpointRekeySubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := s.loadForAction(r, auth.ActionRekey)
	if err != nil {
		return err
	}
	ctx := r.Context()
	form := web.RekeyForm{View: v, Kind: endpoint.KindOf(c.Endpoint)}
	in, err := credentialForm(r)
	if err != nil {
		return err
	}
	e, emulator, errs := pastedCredential(c.Endpoint, in)
	if errs == nil {
		errs = problemsToErrors(e.Validate())
		if errs != nil {
			// The pasted text is one field; put every problem beside it.
			all := web.FieldErrors{}
			for _, msgs := range errs {
				all[secretField(e)] = append(all[secretField(e)], msgs...)
			}
			errs = all
		}
	}
	if errs != nil {
		form.Errors = errs
		s.renderRekey(w, r, http.StatusUnprocessableEntity, c, form)
		return nil
	}
	if err := s.allowTest(id, c.Env.ID+"/"+e.ID); err != nil {
		return err
	}
	rec, err := s.proveAndRecord(ctx, id, c.Env.ID, e, emulator)
	if err != nil {
		return err
	}
	if !rec.Passed {
		form.Result = rec.view("")
		form.Message = "The new key did not pass the test, so the endpoint was not changed."
		s.renderRekey(w, r, http.StatusUnprocessableEntity, c, form)
		return nil
	}
	if err := s.updateAudited(r, id, c, e, "endpoint.rekey", "Dataverse did not take the new key"); err != nil {
		return err
	}
	if err := s.keepSecret(r, c.Env.ID, e); err != nil {
		return err
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "The new key passed the test and “" + e.Name + "” now uses it."})
	http.Redirect(w, r, web.EndpointURL(c.Env.ID, e.ID), http.StatusSeeOther)
	return nil
}

// secretField is the form field a pasted credential came from.
func secretField(e endpoint.ServiceEndpoint) string {
	if endpoint.KindOf(e) == endpoint.KindWebhook {
		if e.AuthType == endpoint.AuthTypeWebhookKey {
			return endpoint.FieldWebhookKey
		}
		return endpoint.FieldPairs
	}
	return endpoint.FieldConnectionString
}

// keepSecret stores the endpoint's current secret for a page's request (see keepSecretOf).
func (s *Server) keepSecret(r *http.Request, env string, e endpoint.ServiceEndpoint) error {
	return s.keepSecretOf(r.Context(), env, e)
}

// keepSecretOf stores the endpoint's current secret (encrypted) and drops the other kinds, so
// later tests use exactly what Dataverse has.
func (s *Server) keepSecretOf(ctx context.Context, env string, e endpoint.ServiceEndpoint) error {
	for _, purpose := range endpoint.SecretPurposes {
		ref := store.SecretRef{Environment: env, EndpointID: e.ID, Purpose: purpose}
		var err error
		if sec := e.Secret(purpose); sec.IsSet() {
			err = s.Store.PutSecret(ctx, ref, sec)
		} else {
			err = s.Store.DeleteSecret(ctx, ref)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
