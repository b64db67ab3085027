package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

// auditSnapshot is an endpoint's columns for the audit trail's before and after, as the column
// table has them (dataverse.EndpointValues), keyed by their Dataverse names: choices by their
// labels, empty ones left out. A secret appears only as whether it is set ("issaskeyset": true,
// Dataverse's own name for that).
func auditSnapshot(e endpoint.ServiceEndpoint) json.RawMessage {
	m := map[string]any{}
	for name, v := range dataverse.EndpointValues(e) {
		switch v := v.(type) {
		case endpoint.Secret:
			if e.HasSecret(endpoint.SecretPurpose(name)) {
				m["is"+name+"set"] = true
			}
		case interface{ Label() string }:
			if !reflect.ValueOf(v).IsZero() {
				m[name] = v.Label()
			}
		default:
			if !reflect.ValueOf(v).IsZero() {
				m[name] = v
			}
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// updateAudited writes e to Dataverse (c is the endpoint as read before) for a page's request
// and records the outcome in the audit trail, failed or not (see updateAs).
func (s *Server) updateAudited(r *http.Request, id auth.Identity, c catalogEntry, e endpoint.ServiceEndpoint, action, failTitle string) error {
	if err := s.updateAs(r.Context(), actorOf(r, id), c, e, action); err != nil {
		return dataverseError(failTitle, err)
	}
	return nil
}

// auditIntent records that a change is about to be attempted in Dataverse (outcome pending).
// It comes before the call: a change never reaches Dataverse without its audit entry.
func (s *Server) auditIntent(ctx context.Context, a store.AuditEntry) error {
	a.Outcome = store.AuditPending
	_, err := s.Store.AppendAudit(ctx, a)
	return err
}

// auditFailure records a failed Dataverse call as the intent's outcome when Dataverse
// certainly refused it; when the answer never came, the intent stays pending and the recoverer
// records what Dataverse holds.
func (s *Server) auditFailure(ctx context.Context, a store.AuditEntry, err error) {
	if !definitelyRefused(err) {
		return
	}
	a.Outcome, a.Detail = store.AuditFailed, dataverseMessage(err)
	_, _ = s.Store.AppendAudit(context.WithoutCancel(ctx), a)
}
