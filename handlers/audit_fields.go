package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

// auditSnapshot is an endpoint's non-secret fields for the audit trail's before and after.
// Secrets appear only as "is set" flags.
func auditSnapshot(e endpoint.ServiceEndpoint) json.RawMessage {
	m := map[string]any{
		"name":          e.Name,
		"contract":      e.Contract.Label(),
		"messageFormat": e.MessageFormat.Label(),
		"userClaim":     e.UserClaim.Label(),
		"authType":      e.AuthType.Label(),
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("description", e.Description)
	put("namespaceAddress", e.NamespaceAddress)
	put("path", e.Path)
	put("url", e.URL)
	put("keyName", e.SASKeyName)
	if e.SASKey.IsSet() || e.IsSASKeySet {
		m["keyIsSet"] = true
	}
	if e.SASToken.IsSet() || e.IsSASTokenSet {
		m["tokenIsSet"] = true
	}
	if e.AuthValue.IsSet() || e.IsAuthValueSet {
		m["webhookAuthIsSet"] = true
	}
	b, _ := json.Marshal(m)
	return b
}

// updateAudited writes e to Dataverse (c is the endpoint as read before) and records the
// outcome in the audit trail, failed or not.
func (p *pages) updateAudited(r *http.Request, id auth.Identity, c catalogEntry, e endpoint.ServiceEndpoint, action, failTitle string) error {
	ctx := r.Context()
	audit := store.AuditEntry{ActorKey: id.Key, ActorName: id.Name, Action: action, Environment: c.Env.ID,
		EndpointID: e.ID, EndpointName: e.Name, Before: auditSnapshot(c.Endpoint), After: auditSnapshot(e), RequestID: RequestID(ctx)}
	if err := c.Env.Client.UpdateEndpoint(ctx, e); err != nil {
		audit.Outcome, audit.Detail = store.AuditFailed, dataverseMessage(err)
		_, _ = p.Store.AppendAudit(ctx, audit)
		return dataverseError(failTitle, err)
	}
	p.Catalog.Put(ctx, c.Env.ID, e)
	audit.Outcome = store.AuditSucceeded
	_, err := p.Store.AppendAudit(ctx, audit)
	return err
}
