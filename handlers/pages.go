package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/servicebus"
	"github.com/contoso/sbportal/store"
)

// Pages are the endpoint pages' dependencies: the registration wizard, the list, the endpoint
// page and its actions, and the audit log.
type Pages struct {
	Store        *store.Store
	Environments *dataverse.Environments
	Prober       *servicebus.Prober
	// Catalog is the read model the pages read endpoints from (never Dataverse per view).
	Catalog *catalog.Catalog
	// FingerprintKey keys the fingerprints that tie a passing validation to exactly the values
	// it tested; at least 32 bytes.
	FingerprintKey []byte
	// ListTimeout bounds how long the list waits for one environment.
	ListTimeout time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time

	listPages pageCache
}

func (p *Pages) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// identity returns the signed-in person; the sign-in middleware guarantees one on these routes.
func identity(r *http.Request) (auth.Identity, error) {
	id, ok := auth.IdentityFrom(r.Context())
	if !ok {
		return auth.Identity{}, &Error{Status: http.StatusUnauthorized}
	}
	return id, nil
}

// fingerprint identifies exactly the values a validation tested: every column a person sets
// (dataverse.EndpointValues), secrets included. It is keyed so the stored value reveals nothing
// about the secrets.
func (p *Pages) fingerprint(e endpoint.ServiceEndpoint) string {
	values := map[string]any{}
	for name, v := range dataverse.EndpointValues(e) {
		if s, ok := v.(endpoint.Secret); ok {
			v = s.Reveal()
		}
		values[name] = v
	}
	b, _ := json.Marshal(values) // sorted keys: the same values, the same bytes
	m := hmac.New(sha256.New, p.FingerprintKey)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// pages is the endpoint pages' handler set: the server's rendering and error handling plus the
// pages' dependencies.
type pages struct {
	*Server
	*Pages
}

// routes registers the endpoint pages on r (every one needs a signed-in person).
func (p *pages) routes(r chi.Router) {
	r.Get("/endpoints", p.handle(p.endpointList))
	r.Post("/endpoints/refresh", p.handle(p.endpointRefresh))
	r.Get("/endpoints/new", p.handle(p.newEndpointForm))
	r.Post("/endpoints/new", p.handle(p.newEndpointCreate))
	r.Get("/drafts/{draft}/where", p.handle(p.draftWhereForm))
	r.Post("/drafts/{draft}/where", p.handle(p.draftWhereSubmit))
	r.Get("/drafts/{draft}/connection", p.handle(p.draftConnectionForm))
	r.Post("/drafts/{draft}/connection", p.handle(p.draftConnectionSubmit))
	r.Get("/drafts/{draft}/details", p.handle(p.draftDetailsForm))
	r.Post("/drafts/{draft}/details", p.handle(p.draftDetailsSubmit))
	r.Get("/drafts/{draft}/validate", p.handle(p.draftValidateForm))
	r.Post("/drafts/{draft}/validate", p.handle(p.draftValidateSubmit))
	r.Get("/drafts/{draft}/review", p.handle(p.draftReviewForm))
	r.Post("/drafts/{draft}/review", p.handle(p.draftReviewSubmit))
	r.Get("/endpoints/{env}/{id}", p.handle(p.endpointShow))
	r.Get("/endpoints/{env}/{id}/test", p.handle(p.endpointTestForm))
	r.Post("/endpoints/{env}/{id}/test", p.handle(p.endpointTestSend))
	r.Get("/endpoints/{env}/{id}/rekey", p.handle(p.endpointRekeyForm))
	r.Post("/endpoints/{env}/{id}/rekey", p.handle(p.endpointRekeySubmit))
	r.Get("/endpoints/{env}/{id}/edit", p.handle(p.endpointEditForm))
	r.Post("/endpoints/{env}/{id}/edit", p.handle(p.endpointEditSubmit))
	r.Get("/endpoints/{env}/{id}/delete", p.handle(p.endpointDeleteForm))
	r.Post("/endpoints/{env}/{id}/delete", p.handle(p.endpointDeleteSubmit))
	r.Get("/audit", p.handle(p.auditLog))
}
