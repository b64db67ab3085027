package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// draftData is the wizard's state, kept in the store as the draft's JSON document. Secrets are
// not here: they travel in store.Draft.Secrets, encrypted, and the endpoint's JSON holds none.
type draftData struct {
	Team string        `json:"team"`
	Kind endpoint.Kind `json:"kind"`
	// Author is the name of the person registering, for finishing a save in the background.
	Author  string         `json:"author,omitempty"`
	Reached web.WizardStep `json:"reached"`

	// Endpoint is the registration as entered so far, without its secrets.
	Endpoint endpoint.ServiceEndpoint `json:"endpoint"`
	// Service Bus: what the connection string said (non-secret parts).
	HasConnection bool   `json:"hasConnection,omitempty"`
	Redacted      string `json:"redacted,omitempty"`
	Emulator      bool   `json:"emulator,omitempty"`
	NamespaceWide bool   `json:"namespaceWide,omitempty"`
	// Webhook: how it authenticates and the names of its header or query settings.
	WebhookAuth endpoint.WebhookAuth `json:"webhookAuth,omitempty"`
	PairNames   []string             `json:"pairNames,omitempty"`

	Mode    endpoint.ProbeMode `json:"mode,omitempty"`
	LastRun *runRecord         `json:"lastRun,omitempty"`
}

// newDraftData is a new registration of kind: nothing entered yet but the choices tools always
// set.
func newDraftData(team string, kind endpoint.Kind) draftData {
	e := endpoint.ServiceEndpoint{ConnectionMode: endpoint.ConnectionModeNormal}
	if kind == endpoint.KindServiceBus {
		e.NamespaceFormat = endpoint.NamespaceFormatAddress
	}
	return draftData{Team: team, Kind: kind, Reached: web.StepConnection, Endpoint: e}
}

// decodeDraftData reads a draft's JSON document. Drafts saved before drafts kept the endpoint
// whole (they live 24 hours, so this can go a release later) hold its columns in "fields",
// under the names the endpoint's JSON uses, without the choices tools always set.
func decodeDraftData(b []byte) (draftData, error) {
	var d struct {
		draftData
		Fields json.RawMessage `json:"fields"`
	}
	if len(b) == 0 {
		return draftData{}, nil
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return draftData{}, err
	}
	if d.Fields != nil {
		d.Endpoint = newDraftData(d.Team, d.Kind).Endpoint
		if err := json.Unmarshal(d.Fields, &d.Endpoint); err != nil {
			return draftData{}, err
		}
	}
	return d.draftData, nil
}

// runRecord is the last validation's outcome and the fingerprint of the values it tested.
type runRecord struct {
	Passed      bool          `json:"passed"`
	Title       string        `json:"title"`
	Detail      string        `json:"detail"`
	Fix         string        `json:"fix,omitempty"`
	Cause       string        `json:"cause,omitempty"`
	MessageID   string        `json:"messageId,omitempty"`
	Duration    time.Duration `json:"duration"`
	Warnings    []string      `json:"warnings,omitempty"`
	At          time.Time     `json:"at"`
	Fingerprint string        `json:"fingerprint"`
}

// wizardDraft is a loaded draft with its decoded state.
type wizardDraft struct {
	store.Draft
	data draftData
}

// serviceEndpoint is the registration the draft holds, with its secrets and the id chosen for
// it.
func (d wizardDraft) serviceEndpoint() endpoint.ServiceEndpoint {
	e := d.data.Endpoint
	e.ID = d.EndpointID
	for purpose, s := range d.Secrets {
		e.SetSecret(purpose, s)
	}
	return e
}

// setEndpoint keeps e as the draft's registration: its secrets apart, to be encrypted.
func (d *wizardDraft) setEndpoint(e endpoint.ServiceEndpoint) {
	d.Secrets = secretsOf(e)
	d.data.Endpoint = e.WithoutSecrets()
}

// secretsOf is the endpoint's secrets by purpose, as a draft keeps them (unset ones left out).
func secretsOf(e endpoint.ServiceEndpoint) map[endpoint.SecretPurpose]endpoint.Secret {
	out := map[endpoint.SecretPurpose]endpoint.Secret{}
	for _, purpose := range endpoint.SecretPurposes {
		if s := e.Secret(purpose); s.IsSet() {
			out[purpose] = s
		}
	}
	return out
}

// loadDraft reads the draft named in the URL, which must belong to the signed-in person, and
// returns that person too.
func (s *Server) loadDraft(r *http.Request) (auth.Identity, wizardDraft, error) {
	id, err := identity(r)
	if err != nil {
		return id, wizardDraft{}, err
	}
	draftID := chi.URLParam(r, "draft")
	d, err := s.Store.GetDraft(r.Context(), draftID, id.Key)
	if errors.Is(err, store.ErrNotFound) {
		return id, wizardDraft{}, &Error{Status: http.StatusNotFound, Title: "This registration draft is gone",
			Message: "Drafts are kept for 24 hours and belong to the person who started them. Start a new registration."}
	}
	if err != nil {
		return id, wizardDraft{}, err
	}
	data, err := decodeDraftData(d.Data)
	if err != nil {
		return id, wizardDraft{}, fmt.Errorf("decode draft %s: %w", d.ID, err)
	}
	return id, wizardDraft{Draft: d, data: data}, nil
}

// saveDraft writes the draft's state back; a concurrent change (another tab) is reported as a
// conflict the person can resolve by reloading.
func (s *Server) saveDraft(r *http.Request, d *wizardDraft) error {
	b, err := json.Marshal(d.data)
	if err != nil {
		return err
	}
	d.Data = b
	updated, err := s.Store.UpdateDraft(r.Context(), d.Draft)
	switch {
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Title: "This draft changed in another window",
			Message: "Reload the page to see the latest values, then make your change again."}
	case errors.Is(err, store.ErrDraftSaving), errors.Is(err, store.ErrDraftSaved):
		return &Error{Status: http.StatusConflict, Title: "This draft is being saved",
			Message: "It can no longer be changed. Open the endpoints list to find the saved endpoint."}
	case err != nil:
		return err
	}
	d.Draft = updated
	return nil
}

// wizard returns the frame state for a step of a draft.
func (d wizardDraft) wizard(step web.WizardStep, errs web.FieldErrors) web.Wizard {
	reached := d.data.Reached
	if reached < step {
		reached = step
	}
	return web.Wizard{DraftID: d.ID, Version: d.Version, Current: step, Reached: reached, Errors: errs}
}

// advance records that the person reached step and redirects there (POST, then GET).
func (s *Server) advance(w http.ResponseWriter, r *http.Request, d *wizardDraft, step web.WizardStep) error {
	if d.data.Reached < step {
		d.data.Reached = step
	}
	if err := s.saveDraft(r, d); err != nil {
		return err
	}
	http.Redirect(w, r, web.StepURL(d.ID, step), http.StatusSeeOther)
	return nil
}

// formStatus is a form page's status: 422 when it shows problems to fix.
func formStatus(errs web.FieldErrors) int {
	if errs != nil {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

// problemsToErrors maps the domain's problems to form fields (the Dataverse column names are
// the form's field names).
func problemsToErrors(ps endpoint.Problems) web.FieldErrors {
	if len(ps) == 0 {
		return nil
	}
	errs := web.FieldErrors{}
	for _, pr := range ps {
		errs[pr.Field] = append(errs[pr.Field], pr.Message)
	}
	return errs
}
