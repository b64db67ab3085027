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
// not here: they travel in store.Draft.Secrets, encrypted.
type draftData struct {
	Team    string         `json:"team"`
	Kind    endpoint.Kind  `json:"kind"`
	Reached web.WizardStep `json:"reached"`

	Fields draftFields `json:"fields"`
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

// draftFields are the registration's non-secret columns.
type draftFields struct {
	Name              string `json:"name"`
	Description       string `json:"description,omitempty"`
	Contract          int    `json:"contract,omitempty"`
	MessageFormat     int    `json:"messageFormat,omitempty"`
	UserClaim         int    `json:"userClaim,omitempty"`
	AuthType          int    `json:"authType,omitempty"`
	Path              string `json:"path,omitempty"`
	NamespaceAddress  string `json:"namespaceAddress,omitempty"`
	SolutionNamespace string `json:"solutionNamespace,omitempty"`
	SASKeyName        string `json:"sasKeyName,omitempty"`
	URL               string `json:"url,omitempty"`
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

// serviceEndpoint assembles the registration from the draft's fields and secrets.
func (d wizardDraft) serviceEndpoint() endpoint.ServiceEndpoint {
	f := d.data.Fields
	e := endpoint.ServiceEndpoint{
		ID:                d.EndpointID,
		Name:              f.Name,
		Description:       f.Description,
		Contract:          endpoint.Contract(f.Contract),
		MessageFormat:     endpoint.MessageFormat(f.MessageFormat),
		UserClaim:         endpoint.UserClaim(f.UserClaim),
		AuthType:          endpoint.AuthType(f.AuthType),
		ConnectionMode:    endpoint.ConnectionModeNormal,
		MessageCharset:    endpoint.MessageCharsetDefault,
		Path:              f.Path,
		URL:               f.URL,
		SASKeyName:        f.SASKeyName,
		NamespaceAddress:  f.NamespaceAddress,
		SolutionNamespace: f.SolutionNamespace,
	}
	if d.data.Kind == endpoint.KindServiceBus {
		e.NamespaceFormat = endpoint.NamespaceFormatAddress
	}
	for purpose, s := range d.Secrets {
		e.SetSecret(purpose, s)
	}
	return e
}

// draftFieldsOf is the registration's non-secret columns as a draft keeps them.
func draftFieldsOf(e endpoint.ServiceEndpoint) draftFields {
	return draftFields{Name: e.Name, Description: e.Description, Contract: int(e.Contract), MessageFormat: int(e.MessageFormat),
		UserClaim: int(e.UserClaim), AuthType: int(e.AuthType), Path: e.Path, NamespaceAddress: e.NamespaceAddress,
		SolutionNamespace: e.SolutionNamespace, SASKeyName: e.SASKeyName, URL: e.URL}
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
func (p *pages) loadDraft(r *http.Request) (auth.Identity, wizardDraft, error) {
	id, err := identity(r)
	if err != nil {
		return id, wizardDraft{}, err
	}
	draftID := chi.URLParam(r, "draft")
	d, err := p.Store.GetDraft(r.Context(), draftID, id.Key)
	if errors.Is(err, store.ErrNotFound) {
		return id, wizardDraft{}, &Error{Status: http.StatusNotFound, Title: "This registration draft is gone",
			Message: "Drafts are kept for 24 hours and belong to the person who started them. Start a new registration."}
	}
	if err != nil {
		return id, wizardDraft{}, err
	}
	w := wizardDraft{Draft: d}
	if len(d.Data) > 0 {
		if err := json.Unmarshal(d.Data, &w.data); err != nil {
			return id, wizardDraft{}, fmt.Errorf("decode draft %s: %w", d.ID, err)
		}
	}
	return id, w, nil
}

// saveDraft writes the draft's state back; a concurrent change (another tab) is reported as a
// conflict the person can resolve by reloading.
func (p *pages) saveDraft(r *http.Request, d *wizardDraft) error {
	b, err := json.Marshal(d.data)
	if err != nil {
		return err
	}
	d.Data = b
	updated, err := p.Store.UpdateDraft(r.Context(), d.Draft)
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
func (p *pages) advance(w http.ResponseWriter, r *http.Request, d *wizardDraft, step web.WizardStep) error {
	if d.data.Reached < step {
		d.data.Reached = step
	}
	if err := p.saveDraft(r, d); err != nil {
		return err
	}
	http.Redirect(w, r, web.StepURL(d.ID, step), http.StatusSeeOther)
	return nil
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
