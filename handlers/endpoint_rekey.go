package handlers

import (
	"cmp"
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

// endpointRekeySubmit replaces an endpoint's key (see setKey): the fix for keys lost at
// solution import and the step in key rotation.
func (s *Server) endpointRekeySubmit(w http.ResponseWriter, r *http.Request) error {
	id, c, v, err := s.loadForAction(r, auth.ActionRekey)
	if err != nil {
		return err
	}
	form := web.RekeyForm{View: v, Kind: endpoint.KindOf(c.Endpoint)}
	in, err := credentialForm(r)
	if err != nil {
		return err
	}
	e, rec, errs, err := s.setKey(r, id, c, in)
	switch {
	case err != nil:
		return err
	case errs != nil:
		form.Errors = errs
		s.renderRekey(w, r, http.StatusUnprocessableEntity, c, form)
		return nil
	case !rec.Passed:
		form.Result = rec.view("")
		form.Message = msgKeyNotChanged
		s.renderRekey(w, r, http.StatusUnprocessableEntity, c, form)
		return nil
	}
	s.addFlash(w, r, web.Flash{Kind: web.FlashSuccess, Message: "The new key passed the test and “" + e.Name + "” now uses it."})
	http.Redirect(w, r, web.EndpointURL(c.Env.ID, e.ID), http.StatusSeeOther)
	return nil
}

const msgKeyNotChanged = "The new key did not pass the test, so the endpoint was not changed."

// setKey gives an endpoint a new secret, the one path for pages and API: the credential is
// read with the wizard's rules (errs, keyed by form field, when it cannot be used), proved by a
// test message (rec, recorded in the history and audit), and only when the test passes written
// to Dataverse (audited intent and outcome) and kept, encrypted, for later tests.
func (s *Server) setKey(r *http.Request, id auth.Identity, c catalogEntry, in endpoint.CredentialInput) (e endpoint.ServiceEndpoint, rec runRecord, errs web.FieldErrors, err error) {
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
	if errs == nil && c.Endpoint.IsManaged && !sameSettings(c.Endpoint, e) {
		// A managed endpoint's settings come from its solution: only its key may be set, for
		// the policy and address it has.
		errs = web.FieldErrors{secretField(e): {"“" + c.Endpoint.Name + "” is part of a managed solution, so the portal sets only its key, " +
			"for the settings it already has (policy " + cmp.Or(c.Endpoint.SASKeyName, "as registered") + "). Paste that policy's key or connection string."}}
	}
	if errs != nil {
		return e, rec, errs, nil
	}
	if err := s.allowTest(id, c.Env.ID+"/"+e.ID); err != nil {
		return e, rec, nil, err
	}
	if rec, err = s.proveAndRecord(r.Context(), id, c.Env.ID, e, emulator); err != nil || !rec.Passed {
		return e, rec, nil, err
	}
	if err := s.updateAudited(r, id, c, e, "endpoint.rekey", "Dataverse did not take the new key"); err != nil {
		return e, rec, nil, err
	}
	return e, rec, nil, s.keepSecret(r, c.Env.ID, e)
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
