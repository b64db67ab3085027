package auth

import (
	"errors"
	"slices"
	"testing"
)

func TestIdentityFromClaims(t *testing.T) {
	m := identityMapping{claims: ClaimNames{}.withDefaults(), roleValues: map[string]Role{"Portal.Admin": RoleAdmin, "Portal.Viewer": RoleViewer},
		teamsByGroup: map[string]string{"g1": "Integration", "g2": "Finance"}, teamsByRole: map[string]string{"Team.Ops": "Ops"}}
	id, err := m.identity(map[string]any{"tid": "t1", "oid": "o1", "iss": "https://i", "sub": "s", "name": "Ann",
		"preferred_username": "ann@x", "roles": []any{"Portal.Viewer", "Unknown", "Team.Ops", "Portal.Viewer"}, "groups": []any{"g2", "g9", "g1"}})
	if err != nil {
		t.Fatal(err)
	}
	if id.Key != "t1/o1" || id.Name != "Ann" || id.Username != "ann@x" || id.Tenant != "t1" ||
		!slices.Equal(id.Roles, []Role{RoleViewer}) || !slices.Equal(id.Teams, []string{"Finance", "Integration", "Ops"}) {
		t.Errorf("%+v", id)
	}

	// A generic provider (Keycloak): nested roles, no tid/oid, a single role as a string.
	m2 := identityMapping{claims: ClaimNames{Roles: "realm_access.roles", Groups: "grp"}.withDefaults(), roleValues: DefaultRoleValues,
		teamsByGroup: map[string]string{"/integration": "Integration"}}
	id, err = m2.identity(map[string]any{"iss": "https://kc/realms/x", "sub": "u-1", "email": "bob@x",
		"realm_access": map[string]any{"roles": []any{"Registrar"}}, "grp": "/integration"})
	if err != nil {
		t.Fatal(err)
	}
	if id.Key != "https://kc/realms/x|u-1" || id.Name != "bob@x" || id.Username != "bob@x" ||
		!slices.Equal(id.Roles, []Role{RoleRegistrar}) || !slices.Equal(id.Teams, []string{"Integration"}) {
		t.Errorf("%+v", id)
	}

	if _, err := m.identity(map[string]any{"name": "x"}); err == nil {
		t.Error("a token without a stable id was accepted")
	}
	_, err = m.identity(map[string]any{"tid": "t", "oid": "o", "_claim_names": map[string]any{"groups": "src1"}})
	var overage *GroupsOverageError
	if !errors.As(err, &overage) {
		t.Errorf("overage not detected: %v", err)
	}
}
