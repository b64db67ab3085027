package handlers

import (
	"net/http"
	"strconv"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
)

// apiEndpointUpdate changes an endpoint's details through the edit page's path (editEndpoint):
// validated, a delivery change proved by a test first, audited.
func (s *Server) apiEndpointUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionEdit)
	if err != nil {
		return err
	}
	var req api.EndpointChange
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	// The fields the request sets, under the edit page's names: the API changes what the edit
	// page may change for this kind of endpoint, read the same way.
	given := map[string]string{}
	text := func(field string, v *string) {
		if v != nil {
			given[field] = *v
		}
	}
	number := func(field string, v *int) {
		if v != nil {
			given[field] = strconv.Itoa(*v)
		}
	}
	text(endpoint.FieldName, req.Name)
	text(endpoint.FieldDescription, req.Description)
	text(endpoint.FieldPath, req.Path)
	text(endpoint.FieldURL, req.URL)
	number(endpoint.FieldMessageFormat, req.MessageFormat)
	number(endpoint.FieldUserClaim, req.UserClaim)
	e := c.Endpoint
	applyDetails(editFields(endpoint.KindOf(e)), &e, func(name string) (string, bool) { v, ok := given[name]; return v, ok })
	var in endpoint.CredentialInput
	if req.Credential != nil {
		in = req.Credential.Input()
	}
	refusal, err := s.editEndpoint(r, id, c, e, in)
	if err != nil {
		return err
	}
	if refusal != nil {
		if refusal.Result != nil {
			return provedWrong(refusal.Message, *refusal.Result)
		}
		p := invalid("The changes were not saved", refusal.Errors)
		p.Status = refusal.Status
		if refusal.Message != "" {
			p.Detail = refusal.Message
		}
		if refusal.Status == http.StatusConflict {
			p.Type, p.Title = api.TypeConflict, "Re-key first"
		}
		return p
	}
	return s.apiEndpointAfterWrite(w, r, c.Env.ID, e.ID)
}

// apiEndpointAfterWrite answers a change with the endpoint as the catalog now has it.
func (s *Server) apiEndpointAfterWrite(w http.ResponseWriter, r *http.Request, env, endpointID string) error {
	c, _, ok := s.Catalog.Get(r.Context(), env, endpointID)
	if !ok {
		return &Error{Status: http.StatusNotFound, Title: "Endpoint not found", Message: "The endpoint is no longer in the catalog."}
	}
	out, err := s.apiEndpointWithKey(r.Context(), *c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiEndpointDelete deletes an endpoint, with its steps, through the delete page's path.
func (s *Server) apiEndpointDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionDelete)
	if err != nil {
		return err
	}
	if err := s.deleteAs(r.Context(), actorOf(r, id), c); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiEndpointTest sends a test message through an endpoint: with the credential sent for this
// test only, else the stored one. A failed test is a result (200, passed false), not an error:
// the request did what it was asked.
func (s *Server) apiEndpointTest(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionTest)
	if err != nil {
		return err
	}
	var req api.TestRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	var in endpoint.CredentialInput
	if req.Credential != nil {
		in = req.Credential.Input()
	}
	e, emulator, errs, err := s.testCredential(r.Context(), c, in)
	if err != nil {
		return err
	}
	if errs != nil {
		p := invalid("A key is needed to test this endpoint", errs)
		if in.Empty() {
			p.Detail = "The portal keeps no key for “" + c.Endpoint.Name + "”: send one in credential (used for this test only), or set the endpoint's key."
		}
		return p
	}
	if err := s.allowTest(id, c.Env.ID+"/"+c.Endpoint.ID); err != nil {
		return err
	}
	rec, err := s.proveAndRecord(r.Context(), id, c.Env.ID, e, emulator)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, testResult(rec))
}

// apiEndpointSetKey gives an endpoint a new key through the re-key page's path (setKey):
// proved by a test, then written to Dataverse (audited) and kept.
func (s *Server) apiEndpointSetKey(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	c, err := s.loadEndpoint(r, id, auth.ActionRekey)
	if err != nil {
		return err
	}
	var req api.SetKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	_, rec, errs, err := s.setKey(r, id, c, req.Credential.Input())
	switch {
	case err != nil:
		return err
	case errs != nil:
		return invalid("The key could not be used", errs)
	case !rec.Passed:
		return provedWrong(msgKeyNotChanged, rec)
	}
	return writeJSON(w, http.StatusOK, testResult(rec))
}
