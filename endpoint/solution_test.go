package endpoint

import (
	"strings"
	"testing"
)

func importedQueue() ServiceEndpoint {
	return ServiceEndpoint{ID: "1", Name: "Orders", Contract: ContractQueue, SolutionNamespace: "orders",
		NamespaceAddress: "sb://orders.servicebus.windows.net/", Path: "orders", AuthType: AuthTypeSASKey, SASKeyName: "send",
		ConnectionMode: ConnectionModeNormal, UserClaim: UserClaimNone, MessageFormat: MessageFormatJSON, NamespaceFormat: NamespaceFormatAddress}
}

const setKeyValue = "0123456789012345678901234567890123456789abc="

func TestSetKey(t *testing.T) {
	for _, tc := range []struct {
		name, pasted, problem string
	}{
		{"a bare key", setKeyValue, ""},
		{"the whole connection string of the endpoint's policy", "Endpoint=sb://orders.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + setKeyValue, ""},
		{"another policy's connection string", "Endpoint=sb://orders.servicebus.windows.net/;SharedAccessKeyName=manage;SharedAccessKey=" + setKeyValue, "signs with the policy send"},
		{"another namespace", "Endpoint=sb://other.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + setKeyValue, "namespace other.servicebus.windows.net"},
		{"a key of the wrong length", "abc", "44 characters"},
		{"nothing", "", "Paste"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, p := SetKey(importedQueue(), CredentialInput{ConnectionString: NewSecret(tc.pasted)})
			if tc.problem == "" {
				if p != nil || got.SASKey.Reveal() != setKeyValue || got.SASKeyName != "send" {
					t.Fatalf("SetKey = %v, key set %v, policy %q", p, got.SASKey.IsSet(), got.SASKeyName)
				}
				return
			}
			if p == nil || !strings.Contains(p.Error(), tc.problem) {
				t.Fatalf("problems = %v, want %q", p, tc.problem)
			}
			if strings.Contains(p.Error(), setKeyValue) {
				t.Fatal("a problem quotes the key")
			}
		})
	}
}

func TestKeyMissingAndReadOnly(t *testing.T) {
	e := importedQueue()
	if !KeyMissing(e) {
		t.Fatal("an imported endpoint without issaskeyset is not flagged")
	}
	e.IsSASKeySet = true
	if KeyMissing(e) {
		t.Fatal("an endpoint with its key is flagged")
	}
	if ReadOnlyReason(e, nil) != "" {
		t.Fatal("an unmanaged endpoint is read-only")
	}
	e.IsManaged = true
	r := ReadOnlyReason(e, []Solution{{UniqueName: "Partner", FriendlyName: "Partner Connector", Managed: true}})
	if !strings.Contains(r, "Partner Connector (Partner)") || !strings.Contains(r, "import a new version") {
		t.Fatalf("reason = %q", r)
	}
}
