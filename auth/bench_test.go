package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/contoso/sbportal/auth"
)

// BenchmarkAuthenticate measures the per-request cost of finding a session: cookie signature
// check, store lookup (in memory) and expiry checks.
func BenchmarkAuthenticate(b *testing.B) {
	h := newHarnessTB(b)
	rec := httptest.NewRecorder()
	if _, err := h.StartSession(context.Background(), rec, auth.Identity{Key: "t/o", Name: "N", Roles: []auth.Role{auth.RoleViewer}}); err != nil {
		b.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(cookie)
	w := httptest.NewRecorder()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.Authenticate(w, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	id := auth.Identity{Roles: []auth.Role{auth.RoleRegistrar}, Teams: []string{"Finance", "Integration", "Ops"}}
	r := auth.Resource{Environment: "prod", EnvironmentTeams: []string{"Integration", "Finance"}, OwnerTeam: "Integration"}
	var p auth.Policy
	for b.Loop() {
		if !p.Can(id, auth.ActionEdit, r) {
			b.Fatal("refused")
		}
	}
}

// newHarnessTB builds an Authenticator against a devidp for benchmarks.
func newHarnessTB(b *testing.B) *auth.Authenticator {
	idp, _ := newIDP(b, "http://127.0.0.1:1")
	base := mustURL("http://127.0.0.1:1")
	a, err := auth.New(context.Background(), auth.Config{Issuer: idp.Issuer(), ClientID: testClientID, ClientSecret: testClientSecret,
		BaseURL: base, SessionKey: make([]byte, 32), Sessions: auth.NewMemoryStore()})
	if err != nil {
		b.Fatal(err)
	}
	return a
}
