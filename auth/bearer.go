package auth

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// BearerConfig configures a BearerVerifier: the access tokens the portal's API accepts.
type BearerConfig struct {
	// Issuer is the provider's issuer URL, as for sign-in (an Entra ID tenant, organizations
	// with AllowedTenants, or another OpenID provider).
	Issuer string
	// Audience is the portal API's identifier that tokens must be issued for (aud): with Entra
	// ID the Application ID URI (api://...) of the portal's app registration, or its
	// application id when the registration issues v2.0 access tokens.
	Audience       string
	AllowedTenants []string
	// Claims, RoleValues, TeamsByGroup and TeamsByRole map the token's claims to roles and
	// teams exactly as sign-in does (Config); applications get them through app roles.
	Claims       ClaimNames
	RoleValues   map[string]Role
	TeamsByGroup map[string]string
	TeamsByRole  map[string]string
	// HTTPClient fetches discovery and keys; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// BearerVerifier checks the access tokens presented to the portal's API: signature (the
// provider's keys), issuer or allowed tenant, audience, expiry, and that the token is an
// access token and not someone's ID token.
type BearerVerifier struct {
	cfg            BearerConfig
	verifier       *oidc.IDTokenVerifier
	issuers        []string // accepted iss values of a single-tenant issuer
	tenantIssuer   *regexp.Regexp
	allowedTenants []string
	mapping        identityMapping
}

// TokenError is a refused access token. Message is for the caller (what to fix, never the
// token); Err says precisely why, for the log.
type TokenError struct {
	Message string
	Err     error
}

func (e *TokenError) Error() string { return "access token refused: " + e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }

// NoRoleError is a valid token whose application (or person) holds no portal role.
type NoRoleError struct{ Identity Identity }

func (e *NoRoleError) Error() string {
	return e.Identity.Name + " holds no portal role: assign it an app role of the portal's app registration (Admin, Registrar or Viewer, as PORTAL_OIDC_ROLE_VALUES names them)"
}

// entraV2Issuer matches an Entra ID v2.0 tenant issuer; access tokens of app registrations
// that accept v1.0 tokens (the default) carry the tenant's v1.0 issuer instead.
var entraV2Issuer = regexp.MustCompile(`^https://login\.microsoftonline\.(com|us)/([0-9a-fA-F-]{36})/v2\.0$`)

// NewBearerVerifier discovers the provider at cfg.Issuer and returns a verifier.
func NewBearerVerifier(ctx context.Context, cfg BearerConfig) (*BearerVerifier, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("auth: the API's issuer URL is empty")
	case cfg.Audience == "":
		return nil, errors.New("auth: the API's audience is empty")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RoleValues == nil {
		cfg.RoleValues = DefaultRoleValues
	}
	if cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	}
	provider, tenantIssuer, err := discover(ctx, cfg.Issuer, cfg.AllowedTenants)
	if err != nil {
		return nil, err
	}
	v := &BearerVerifier{cfg: cfg, tenantIssuer: tenantIssuer, allowedTenants: slices.Clone(cfg.AllowedTenants),
		mapping: identityMapping{claims: cfg.Claims.withDefaults(), roleValues: cfg.RoleValues,
			teamsByGroup: cfg.TeamsByGroup, teamsByRole: cfg.TeamsByRole}}
	if tenantIssuer == nil {
		v.issuers = []string{cfg.Issuer}
		if m := entraV2Issuer.FindStringSubmatch(cfg.Issuer); m != nil {
			v.issuers = append(v.issuers, "https://sts.windows.net/"+m[2]+"/")
		}
	}
	// The issuer is checked below against the accepted list (v1.0 and v2.0 forms for Entra).
	v.verifier = provider.Verifier(&oidc.Config{ClientID: cfg.Audience, SkipIssuerCheck: true, Now: cfg.Now})
	return v, nil
}

// Messages for refused tokens: what is wrong and what to do.
const (
	msgBearerInvalid = "The access token could not be verified (signature, issuer or format). Get a new token from the portal's identity provider."
	msgBearerExpired = "The access token has expired. Get a new one; tokens last about an hour."
	msgBearerIDToken = "This is an ID token, which proves a sign-in to an application, not an access token for the portal's API. " +
		"Ask the identity provider for an access token for the scope <PORTAL_API_AUDIENCE>/.default (client credentials, workload identity or az account get-access-token)."
	msgBearerTenant = "The token's directory (tenant) is not allowed to use this portal. Use an application registered in an allowed tenant."
)

// Verify checks raw and returns the identity it carries. Errors are *TokenError (the token is
// refused: 401) or *NoRoleError (valid, but no portal role: 403).
func (v *BearerVerifier) Verify(ctx context.Context, raw string) (Identity, error) {
	if v.cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, v.cfg.HTTPClient)
	}
	header, claims, err := peekJWT(raw)
	if err != nil {
		return Identity{}, &TokenError{Message: msgBearerInvalid, Err: err}
	}
	// An audience check alone cannot tell an ID token from an access token: when the portal's
	// sign-in and its API share one app registration, users' ID tokens carry the API's
	// audience too. These marks can.
	if why := idTokenMark(header, claims); why != "" {
		return Identity{}, &TokenError{Message: msgBearerIDToken, Err: errors.New(why)}
	}
	if aud := claimStrings(claims["aud"]); !slices.Contains(aud, v.cfg.Audience) {
		return Identity{}, &TokenError{Message: fmt.Sprintf("The access token is for another API (audience %q), not for this portal (%q). Ask for a token for the scope %s/.default.",
			strings.Join(aud, " "), v.cfg.Audience, v.cfg.Audience), Err: fmt.Errorf("audience %q, want %q", aud, v.cfg.Audience)}
	}
	tok, err := v.verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return Identity{}, &TokenError{Message: msgBearerExpired, Err: err}
		}
		return Identity{}, &TokenError{Message: msgBearerInvalid, Err: err}
	}
	if v.tenantIssuer == nil && !slices.Contains(v.issuers, tok.Issuer) {
		return Identity{}, &TokenError{Message: msgBearerInvalid, Err: fmt.Errorf("issuer %q is not %q", tok.Issuer, v.issuers)}
	}
	if problem, notAllowed := tenantProblem(v.tenantIssuer, v.allowedTenants, tok.Issuer, claims); problem != "" {
		msg := msgBearerInvalid
		if notAllowed {
			msg = msgBearerTenant
		}
		return Identity{}, &TokenError{Message: msg, Err: errors.New(problem)}
	}
	id, err := v.mapping.identity(claims)
	if err != nil {
		return Identity{}, &TokenError{Message: msgBearerInvalid, Err: err}
	}
	if app := cmp.Or(str(claims, "azp"), str(claims, "appid"), str(claims, "client_id")); app != "" && str(claims, "scp") == "" {
		// An application on its own (client credentials, workload or managed identity): its
		// name and id are what the audit records.
		id.Application = app
		name := cmp.Or(str(claims, "app_displayname"), str(claims, "name"))
		id.Name = "application " + app
		if name != "" {
			id.Name = name + " (application " + app + ")"
		}
		id.Username = ""
	}
	if !id.HasAnyRole() {
		return id, &NoRoleError{Identity: id}
	}
	return id, nil
}

func str(claims map[string]any, name string) string { s, _ := claims[name].(string); return s }

// idTokenMark says why a token is an ID token rather than an access token ("" when it is
// not): a JOSE type other than a JWT or an access token (RFC 9068's at+jwt), Keycloak's
// typ "ID", Entra's idtyp other than app or user, claims only ID tokens carry (nonce,
// at_hash, c_hash), or no client named (access tokens carry azp, appid or client_id).
func idTokenMark(header, claims map[string]any) string {
	switch typ := strings.ToLower(str(header, "typ")); typ {
	case "", "jwt", "at+jwt", "application/at+jwt":
	default:
		return fmt.Sprintf("the token's type (typ header) is %q, not an access token", typ)
	}
	if strings.EqualFold(str(claims, "typ"), "ID") {
		return `the token's typ claim is "ID"`
	}
	if t := str(claims, "idtyp"); t != "" && t != "app" && t != "user" {
		return fmt.Sprintf("the token's idtyp is %q", t)
	}
	for _, c := range []string{"nonce", "at_hash", "c_hash"} {
		if _, ok := claims[c]; ok {
			return "the token carries " + c + ", a claim of ID tokens"
		}
	}
	if str(claims, "azp") == "" && str(claims, "appid") == "" && str(claims, "client_id") == "" {
		return "the token names no client (azp, appid or client_id), as ID tokens do not"
	}
	return ""
}

// peekJWT decodes a compact JWS's header and claims without verifying them, to tell which
// checks to apply; Verify checks the signature before anything in them is trusted.
func peekJWT(raw string) (header, claims map[string]any, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a JWT (three dot-separated parts)")
	}
	for i, out := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, nil, fmt.Errorf("JWT part %d is not base64url", i+1)
		}
		if err := json.Unmarshal(b, out); err != nil {
			return nil, nil, fmt.Errorf("JWT part %d is not a JSON object", i+1)
		}
	}
	return header, claims, nil
}
