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

// fingerprint identifies exactly the values a validation tested: every field that affects
// delivery and every secret. It is keyed so the stored value reveals nothing about the
// secrets.
func (p *Pages) fingerprint(e endpoint.ServiceEndpoint) string {
	fields, _ := json.Marshal([]any{e.Contract, e.NamespaceAddress, e.SolutionNamespace, e.Path, e.URL,
		e.AuthType, e.SASKeyName, e.MessageFormat, e.UserClaim, e.Name, e.Description})
	m := hmac.New(sha256.New, p.FingerprintKey)
	m.Write(fields)
	for _, s := range []endpoint.Secret{e.SASKey, e.SASToken, e.AuthValue} {
		m.Write([]byte{0})
		m.Write([]byte(s.Reveal()))
	}
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
	r.Get("/drafts/{draft}/where", p.handle(p.draftWhere))
	r.Post("/drafts/{draft}/where", p.handle(p.draftWhere))
	r.Get("/drafts/{draft}/connection", p.handle(p.draftConnection))
	r.Post("/drafts/{draft}/connection", p.handle(p.draftConnection))
	r.Get("/drafts/{draft}/details", p.handle(p.draftDetails))
	r.Post("/drafts/{draft}/details", p.handle(p.draftDetails))
	r.Get("/drafts/{draft}/validate", p.handle(p.draftValidate))
	r.Post("/drafts/{draft}/validate", p.handle(p.draftValidate))
	r.Get("/drafts/{draft}/review", p.handle(p.draftReview))
	r.Post("/drafts/{draft}/review", p.handle(p.draftReview))
	r.Get("/endpoints/{env}/{id}", p.handle(p.endpointShow))
	r.Get("/endpoints/{env}/{id}/test", p.handle(p.endpointTestForm))
	r.Post("/endpoints/{env}/{id}/test", p.handle(p.endpointTestSend))
	r.Get("/endpoints/{env}/{id}/rekey", p.handle(p.endpointRekey))
	r.Post("/endpoints/{env}/{id}/rekey", p.handle(p.endpointRekey))
	r.Get("/endpoints/{env}/{id}/edit", p.handle(p.endpointEdit))
	r.Post("/endpoints/{env}/{id}/edit", p.handle(p.endpointEdit))
	r.Get("/endpoints/{env}/{id}/delete", p.handle(p.endpointDelete))
	r.Post("/endpoints/{env}/{id}/delete", p.handle(p.endpointDelete))
	r.Get("/audit", p.handle(p.auditLog))
}
