package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/notify"
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

	// Faults stops saves at chosen points in fault-injection tests; nil in production.
	Faults *Faults
	// TestLimits bound how often people may test endpoints; zero fields take the defaults.
	TestLimits TestLimits
	// Notifier describes where teams' notifications go (the Notifications page); nil: nowhere.
	Notifier *notify.Notifier
	// NotificationsNote tells, on the local stack's Notifications page, where they are sent.
	NotificationsNote string

	testLimiter testLimiter
	listPages   pageCache
	listRows    rowCache
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
		if sec, ok := v.(endpoint.Secret); ok {
			v = sec.Reveal()
		}
		values[name] = v
	}
	b, _ := json.Marshal(values) // sorted keys: the same values, the same bytes
	m := hmac.New(sha256.New, p.FingerprintKey)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}
