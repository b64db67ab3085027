package store

import (
	"testing"

	"github.com/contoso/sbportal/endpoint"
)

// The store keeps secrets for exactly the endpoint package's purposes.
func TestCheckPurpose(t *testing.T) {
	for _, p := range endpoint.SecretPurposes {
		if err := checkPurpose(p); err != nil {
			t.Errorf("checkPurpose(%q) = %v", p, err)
		}
	}
	for _, p := range []endpoint.SecretPurpose{"", "connectionstring", "SASKEY", "saskey "} {
		if err := checkPurpose(p); err == nil {
			t.Errorf("checkPurpose(%q) accepted", p)
		}
	}
}
