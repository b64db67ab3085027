package handlers

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/contoso/sbportal/api"
	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// apiEndpointCreate registers an endpoint the way the wizard does, in one request: where and
// for which team (the policy and the wizard's first step), the credential read with the
// wizard's rules, the details validated, a test message sent, and the save (finishSave) only
// after a passing test of exactly these values. A draft owned by the caller carries it, so the
// save is idempotent like the wizard's: endpoint.id, when given, is the id the endpoint gets,
// and sending the request again cannot create a second one.
func (s *Server) apiEndpointCreate(w http.ResponseWriter, r *http.Request) error {
	id, err := identity(r)
	if err != nil {
		return err
	}
	var req api.NewEndpoint
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	kind := endpoint.KindOf(req.Endpoint)
	if env, ok := s.Environments.Get(req.Environment); ok {
		if err := s.authorize(r, auth.ActionRegister, auth.Resource{Environment: env.ID, EnvironmentTeams: env.Teams, OwnerTeam: req.Team}); err != nil {
			return err
		}
	}
	if errs := s.checkWhere(id, req.Environment, req.Team, kind); errs != nil {
		return invalid("Choose where the endpoint goes", errs)
	}
	data := newDraftData(req.Team, kind)
	data.Author = id.Name
	e, facts, errs := apiRegistration(data.Endpoint, req)
	if errs != nil {
		return invalid("The endpoint could not be registered as sent", errs)
	}
	data.HasConnection, data.Redacted, data.Emulator, data.NamespaceWide = kind == endpoint.KindServiceBus, facts.Redacted, facts.Emulator, facts.NamespaceWide
	data.WebhookAuth, _ = endpoint.WebhookAuthOf(e.AuthType)
	data.PairNames = facts.PairNames
	data.Reached = web.StepReview
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	draftID := ""
	if endpoint.IsGUID(strings.ToLower(req.Endpoint.ID)) {
		draftID = strings.ToLower(req.Endpoint.ID)
	}
	created, err := s.Store.CreateDraft(r.Context(), store.Draft{Owner: id.Key, Environment: req.Environment, EndpointID: draftID, Data: b})
	if err != nil {
		return err
	}
	d := wizardDraft{Draft: created, data: data}
	d.setEndpoint(e)
	e = d.serviceEndpoint()
	if err := s.allowTest(id, "draft/"+d.ID); err != nil {
		return err
	}
	rec := s.probe(r.Context(), e, endpoint.ProbeSend, data.Emulator, data.NamespaceWide)
	d.data.Mode, d.data.LastRun = endpoint.ProbeSend, &rec
	if err := s.recordRun(r.Context(), id, d.Environment, "", e.Name, d.ID, d.Version, rec); err != nil {
		return err
	}
	if err := s.saveDraft(r, &d); err != nil {
		return err
	}
	if !rec.Passed {
		return provedWrong("The endpoint did not pass its test, so it was not registered", rec)
	}
	if _, _, why := s.reviewOf(d); why != "" {
		return &Error{Status: http.StatusConflict, Title: "Not saved", Message: why}
	}
	if _, _, err := s.saveRegistration(r, id, d); err != nil {
		return err
	}
	w.Header().Set("Location", APIPrefix+"/endpoints/"+d.Environment+"/"+d.EndpointID)
	c, _, ok := s.Catalog.Get(r.Context(), d.Environment, d.EndpointID)
	if !ok { // saved by another request, not in this replica's catalog yet
		return writeJSON(w, http.StatusCreated, api.Endpoint{Environment: d.Environment, Endpoint: endpoint.ServiceEndpoint{ID: d.EndpointID, Name: e.Name}})
	}
	out, err := s.apiEndpointWithKey(r.Context(), *c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

// apiRegistration is the registration a request describes, read as the wizard reads its
// connection and details steps: for Service Bus the connection string says where (and its
// suggestions give way to the details sent); a webhook's address and authentication come as
// sent. It is validated with the rules Dataverse applies.
func apiRegistration(base endpoint.ServiceEndpoint, req api.NewEndpoint) (endpoint.ServiceEndpoint, endpoint.CredentialFacts, web.FieldErrors) {
	sent := req.Endpoint
	e := base
	if endpoint.KindOf(sent) == endpoint.KindWebhook {
		e.Contract, e.URL = endpoint.ContractWebhook, strings.TrimSpace(sent.URL)
		e.MessageFormat, e.UserClaim = endpoint.MessageFormatJSON, endpoint.UserClaimNone
		if e.URL != "" {
			e.Name = suggestWebhookName(e.URL)
		}
	}
	got, facts, problems := endpoint.ParseCredential(e, req.Credential.Input())
	if problems != nil {
		return got, facts, problemsToErrors(problems)
	}
	keepEdits(&got, sent, endpoint.ServiceEndpoint{}, facts)
	if sent.Description != "" {
		got.Description = sent.Description
	}
	if sent.MessageFormat != 0 {
		got.MessageFormat = sent.MessageFormat
	}
	if sent.UserClaim != 0 {
		got.UserClaim = sent.UserClaim
	}
	if sent.Contract != 0 && endpoint.KindOf(sent) == endpoint.KindServiceBus {
		got.Contract = sent.Contract
	}
	return got, facts, problemsToErrors(got.Validate())
}
