package devidp

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
	"time"
)

// App is an application (a service principal) that gets access tokens with the client
// credentials grant, as a release pipeline does with Entra ID.
type App struct {
	ID     string // application (client) id: the token's azp and appid
	Secret string
	Name   string // display name (app_displayname)
	// ObjectID is the service principal's object id (oid); "" derives one from ID.
	ObjectID string
	// Tenant is the directory the app lives in; "" means TenantID.
	Tenant string
	// Roles are the app roles assigned to it (the roles claim), e.g. "Registrar" and a team's
	// role.
	Roles []string
}

// SetAccessTokenHook installs a function that may change the claims of every access token
// issued from now on (nil removes it). Tests use it to mint tokens with a wrong audience,
// expiry or tenant.
func (p *Provider) SetAccessTokenHook(hook func(app App, claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.appHook = hook
}

func (p *Provider) app(id string) (App, bool) {
	for _, a := range p.opts.Apps {
		if a.ID == id {
			return a, true
		}
	}
	return App{}, false
}

// clientCredentials answers the client credentials grant: an access token for the resource
// named by scope "<resource>/.default", shaped like an Entra ID v2.0 app-only token (aud the
// resource, azp and appid the client, oid the service principal, roles, idtyp "app", no scp).
func (p *Provider) clientCredentials(w http.ResponseWriter, r *http.Request, clientID, secret string) {
	a, ok := p.app(clientID)
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(a.Secret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	// MSAL adds openid, profile and offline_access, which Entra ID ignores here.
	var resources []string
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		if res, ok := strings.CutSuffix(sc, "/.default"); ok && res != "" {
			resources = append(resources, res)
		}
	}
	if len(resources) != 1 {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", "the client credentials grant takes one scope, <resource>/.default")
		return
	}
	resource := resources[0]
	tenant := a.Tenant
	if tenant == "" {
		tenant = TenantID
	}
	oid := a.ObjectID
	if oid == "" {
		oid = derivedID("sp:" + a.ID)
	}
	now := p.opts.Now()
	claims := map[string]any{
		"aud": resource, "iss": p.baseFor(r) + "/" + tenant + "/v2.0", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(p.opts.TokenLifetime).Unix(), "azp": a.ID, "appid": a.ID, "azpacr": "1", "idtyp": "app",
		"oid": oid, "sub": oid, "tid": tenant, "ver": "2.0", "uti": randomString()[:22],
	}
	if a.Name != "" {
		claims["app_displayname"] = a.Name
	}
	if len(a.Roles) > 0 {
		claims["roles"] = slices.Clone(a.Roles)
	}
	p.mu.Lock()
	hook := p.appHook
	p.mu.Unlock()
	if hook != nil {
		hook(a, claims)
	}
	tok, err := p.sign(claims)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "could not sign the token")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": int(p.opts.TokenLifetime / time.Second),
		"ext_expires_in": int(p.opts.TokenLifetime / time.Second), "access_token": tok})
}

// derivedID makes a stable GUID-shaped id from a name.
func derivedID(name string) string {
	var h [16]byte
	for i, c := range []byte(name) {
		h[i%16] = h[i%16]*31 + c
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i, v := range h {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b.WriteByte('-')
		}
		b.WriteByte(hex[v>>4])
		b.WriteByte(hex[v&15])
	}
	return b.String()
}
