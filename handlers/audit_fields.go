package handlers

import (
	"encoding/json"

	"github.com/contoso/sbportal/endpoint"
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
