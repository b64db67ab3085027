package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// withStoredSecret fills the endpoint's write-only secret from the portal's encrypted copy.
// ok is false when the portal keeps none.
func (p *pages) withStoredSecret(ctx context.Context, c catalogEntry) (e endpoint.ServiceEndpoint, emulator bool, ok bool, err error) {
	e = c.Endpoint
	for _, purpose := range []string{store.PurposeSASKey, store.PurposeSASToken, store.PurposeAuthValue} {
		s, err := p.Store.GetSecret(ctx, store.SecretRef{Environment: c.Env.ID, EndpointID: e.ID, Purpose: purpose})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return e, false, false, err
		}
		ok = true
		switch purpose {
		case store.PurposeSASKey:
			e.SASKey = endpoint.NewSecret(s.Reveal())
		case store.PurposeSASToken:
			e.SASToken = endpoint.NewSecret(s.Reveal())
		case store.PurposeAuthValue:
			e.AuthValue = endpoint.NewSecret(s.Reveal())
		}
	}
	return e, isEmulatorAddress(e.NamespaceAddress), ok, nil
}

// isEmulatorAddress reports whether a namespace address points at the local emulator
// (loopback); such endpoints exist only in the local stack, where the probe policy allows them.
func isEmulatorAddress(addr string) bool {
	a := strings.ToLower(addr)
	return strings.HasPrefix(a, "sb://127.0.0.1") || strings.HasPrefix(a, "sb://localhost") || strings.HasPrefix(a, "sb://[::1]")
}

// pastedSecret reads a pasted connection string, key or webhook credentials into e (for a
// test with a key used once, or a re-key). It returns field errors when the input is unusable.
func pastedSecret(e endpoint.ServiceEndpoint, raw, webhookKey, pairs string) (endpoint.ServiceEndpoint, bool, web.FieldErrors) {
	emulator := false
	if e.Contract == endpoint.ContractWebhook {
		switch e.AuthType {
		case endpoint.AuthTypeWebhookKey:
			k := strings.TrimSpace(webhookKey)
			if k == "" {
				return e, false, web.FieldErrors{"webhookkey": {"Enter the webhook key."}}
			}
			e.AuthValue = endpoint.NewSecret(k)
		default:
			var settings []endpoint.WebhookSetting
			for _, line := range strings.Split(pairs, "\n") {
				line = strings.TrimSpace(line)
				if line == "" {
					continue
				}
				n, v, ok := strings.Cut(line, "=")
				if !ok || strings.TrimSpace(n) == "" {
					return e, false, web.FieldErrors{"pairs": {"Write one name=value per line."}}
				}
				settings = append(settings, endpoint.WebhookSetting{Name: strings.TrimSpace(n), Value: endpoint.NewSecret(strings.TrimSpace(v))})
			}
			if len(settings) == 0 {
				return e, false, web.FieldErrors{"pairs": {"Enter at least one name=value line."}}
			}
			e.AuthValue = endpoint.FormatWebhookSettings(settings)
		}
		return e, false, nil
	}
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return e, false, web.FieldErrors{"connectionstring": {"Paste the policy's connection string or its key."}}
	case endpoint.LooksLikeConnectionString(raw):
		cs, err := endpoint.ParseConnectionString(raw)
		if err != nil {
			return e, false, web.FieldErrors{"connectionstring": {err.Error()}}
		}
		emulator = cs.Emulator
		if !strings.EqualFold(strings.TrimSuffix(cs.NamespaceAddress(), "/"), strings.TrimSuffix(e.NamespaceAddress, "/")) {
			return e, false, web.FieldErrors{"connectionstring": {"This connection string is for namespace " + cs.Host +
				", but the endpoint uses " + e.NamespaceAddress + ". Copy the connection string of a policy in the endpoint's namespace."}}
		}
		if cs.UsesSASToken() {
			e.AuthType, e.SASToken, e.SASKey = endpoint.AuthTypeSASToken, cs.SASToken, endpoint.Secret{}
		} else {
			e.AuthType, e.SASKeyName, e.SASKey, e.SASToken = endpoint.AuthTypeSASKey, cs.KeyName, cs.Key, endpoint.Secret{}
		}
	case strings.HasPrefix(raw, "SharedAccessSignature "):
		e.AuthType, e.SASToken, e.SASKey = endpoint.AuthTypeSASToken, endpoint.NewSecret(raw), endpoint.Secret{}
	default:
		if len(raw) != endpoint.SASKeyLen {
			return e, false, web.FieldErrors{"connectionstring": {"A SAS key has 44 characters; this has " + strconv.Itoa(len(raw)) +
				". Copy the Primary Key (or the whole Primary Connection String) of the policy."}}
		}
		e.AuthType, e.SASKey = endpoint.AuthTypeSASKey, endpoint.NewSecret(raw)
	}
	return e, emulator || isEmulatorAddress(e.NamespaceAddress), nil
}
