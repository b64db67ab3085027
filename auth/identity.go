package auth

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// Identity is the signed-in person as the portal knows them.
type Identity struct {
	// Key identifies the person stably across sign-ins: "<tid>/<oid>" for Entra ID, "<iss>|<sub>"
	// for other providers. Never use the username for this: it can be reassigned.
	Key string
	// Name is the display name; Username the sign-in name (preferred_username or email). Both are
	// for display only, never for decisions.
	Name     string
	Username string
	// Tenant is the Entra ID tenant id ("" for other providers).
	Tenant string
	// Roles are the portal roles the person holds (unknown role values are dropped).
	Roles []Role
	// Teams are the teams the person belongs to, from the configured group or role mapping.
	Teams []string
	// Application is the client id of an application acting on its own behalf (an API caller
	// with an app-only token, such as a release pipeline); "" for a person. Its Name then
	// says "<name> (application <id>)".
	Application string
}

// Has reports whether the person holds role r.
func (id Identity) Has(r Role) bool { return slices.Contains(id.Roles, r) }

// HasAnyRole reports whether the person holds at least one portal role. People without a role
// see a page saying which role to ask for.
func (id Identity) HasAnyRole() bool { return len(id.Roles) > 0 }

type identityKey struct{}

// WithIdentity returns a context carrying id; the sign-in middleware calls it.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the signed-in person of a request's context, and whether there is one.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// ClaimNames say where in the ID token the portal finds each fact. A name may be a dotted path
// into nested objects (Keycloak: "realm_access.roles"). Name and username are read from the ID
// token, and from the provider's userinfo endpoint when the ID token lacks them.
type ClaimNames struct {
	Roles    string // default "roles" (Entra ID app roles)
	Groups   string // default "groups"
	Name     string // default "name"; falls back to "name", then the username
	Username string // default "preferred_username", falling back to "email"
}

func (c ClaimNames) withDefaults() ClaimNames {
	if c.Roles == "" {
		c.Roles = "roles"
	}
	if c.Groups == "" {
		c.Groups = "groups"
	}
	if c.Name == "" {
		c.Name = "name"
	}
	if c.Username == "" {
		c.Username = "preferred_username"
	}
	return c
}

// DefaultRoleValues maps the role claim values the portal expects by default to its roles. In
// Entra ID, create app roles with these values (or configure others).
var DefaultRoleValues = map[string]Role{"Admin": RoleAdmin, "Registrar": RoleRegistrar, "Viewer": RoleViewer}

// GroupsOverageError reports a token whose groups did not fit: Entra ID puts at most 200
// groups in a token and otherwise replaces them with a pointer to Microsoft Graph. The portal
// does not call Graph, so it cannot know the person's teams.
type GroupsOverageError struct {
	Username string
}

func (e *GroupsOverageError) Error() string {
	return "the ID token has too many groups (groups overage); teams cannot be derived from groups"
}

// identityMapping turns verified ID token claims into an Identity.
type identityMapping struct {
	claims       ClaimNames
	roleValues   map[string]Role
	teamsByGroup map[string]string
	teamsByRole  map[string]string
}

// unnamed is the name of a person whose provider tells none (the sign-in logs what to set).
const unnamed = "Signed-in user"

// profileClaims are the claims that name a person, in the order they are tried.
func (m identityMapping) profileClaims() []string {
	var names []string
	for _, n := range []string{m.claims.Name, "name", m.claims.Username, "email"} {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// lacksProfile reports ID token claims without a name or without a username: the provider may
// tell them at its userinfo endpoint.
func (m identityMapping) lacksProfile(claims map[string]any) bool {
	str := func(name string) string { s, _ := lookupClaim(claims, name).(string); return s }
	return str(m.claims.Name) == "" && str("name") == "" || str(m.claims.Username) == "" && str("email") == ""
}

func (m identityMapping) identity(claims map[string]any) (Identity, error) {
	str := func(name string) string { s, _ := lookupClaim(claims, name).(string); return s }
	id := Identity{
		Name:     cmp.Or(str(m.claims.Name), str("name")),
		Username: cmp.Or(str(m.claims.Username), str("email")),
		Tenant:   str("tid"),
	}
	if id.Name == "" {
		id.Name = id.Username
	}
	if oid := str("oid"); id.Tenant != "" && oid != "" {
		id.Key = id.Tenant + "/" + oid
	} else if iss, sub := str("iss"), str("sub"); iss != "" && sub != "" {
		id.Key = iss + "|" + sub
	} else {
		return Identity{}, fmt.Errorf("the ID token has neither tid and oid nor iss and sub")
	}
	if id.Name == "" {
		id.Name = unnamed
	}

	roleValues := claimStrings(lookupClaim(claims, m.claims.Roles))
	for _, v := range roleValues {
		if r, ok := m.roleValues[v]; ok && !slices.Contains(id.Roles, r) {
			id.Roles = append(id.Roles, r)
		}
		if t, ok := m.teamsByRole[v]; ok {
			id.Teams = append(id.Teams, t)
		}
	}
	slices.Sort(id.Roles)

	if len(m.teamsByGroup) > 0 {
		if hasOverage(claims, m.claims.Groups) {
			return Identity{}, &GroupsOverageError{Username: id.Username}
		}
		for _, g := range claimStrings(lookupClaim(claims, m.claims.Groups)) {
			if t, ok := m.teamsByGroup[g]; ok {
				id.Teams = append(id.Teams, t)
			}
		}
	}
	slices.Sort(id.Teams)
	id.Teams = slices.Compact(id.Teams)
	return id, nil
}

// hasOverage reports Entra ID's groups overage marker: "_claim_names": {"groups": "src1"}.
func hasOverage(claims map[string]any, groupsClaim string) bool {
	names, ok := claims["_claim_names"].(map[string]any)
	if !ok {
		return false
	}
	_, ok = names[groupsClaim]
	return ok
}

// lookupClaim finds a claim by name, or by a dotted path into nested objects when no claim
// has the literal name.
func lookupClaim(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[part]
	}
	return cur
}

// claimStrings accepts a claim that is a list of strings or a single string (some providers
// send one role as a plain string).
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
