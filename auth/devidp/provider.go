package devidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Client is an application registered with the provider.
type Client struct {
	ID     string
	Secret string
	// Name is the application's name shown on the sign-in page ("" shows the id).
	Name string
	// RedirectURIs must match the authorization request's redirect_uri exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where end-session may send the browser back to.
	PostLogoutRedirectURIs []string
}

// Options configure a Provider.
type Options struct {
	Clients []Client
	// Personas to offer; nil means DefaultPersonas.
	Personas []Persona
	// Now is the clock for issued tokens; nil means time.Now.
	Now func() time.Time
	// TokenLifetime of ID tokens; 0 means one hour like Entra ID.
	TokenLifetime time.Duration
	// ProfileOnlyInUserInfo shapes the provider like many generic OpenID providers: ID tokens
	// carry no name, preferred_username or email, which only the userinfo endpoint tells.
	ProfileOnlyInUserInfo bool
	// Apps may get access tokens with the client credentials grant, as pipelines do.
	Apps []App
	// SecureBaseURL, when set, is a second address (https) serving this provider: discovery
	// and tokens asked for there name it as the issuer. azidentity (MSAL) accepts only https
	// authorities, while browsers sign in over plain http on loopback.
	SecureBaseURL string
}

// Provider is the local OpenID provider; it is an http.Handler.
type Provider struct {
	base     string
	opts     Options
	key      *rsa.PrivateKey
	kid      string
	mux      *http.ServeMux
	mu       sync.Mutex
	codes    map[string]authCode
	access   map[string]accessGrant // access tokens, for userinfo
	hook     func(Persona, map[string]any)
	appHook  func(App, map[string]any)
	personas []Persona
	logouts  []url.Values
}

// accessGrant is what an issued access token lets its bearer read at userinfo.
type accessGrant struct {
	persona Persona
	sub     string
	expires time.Time
}

// authCode is an issued authorization code waiting to be redeemed once.
type authCode struct {
	clientID      string
	redirectURI   string
	challenge     string
	nonce         string
	persona       Persona
	tenantSegment string
	expires       time.Time
}

const codeLifetime = 2 * time.Minute

// New returns a provider reachable at baseURL (scheme and host, e.g. http://127.0.0.1:9000).
func New(baseURL string, opts Options) (*Provider, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("devidp: base URL %q must be http(s)://host:port", baseURL)
	}
	if opts.Personas == nil {
		opts.Personas = DefaultPersonas()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devidp: generate signing key: %w", err)
	}
	var kid [8]byte
	_, _ = rand.Read(kid[:])
	p := &Provider{base: strings.TrimSuffix(baseURL, "/"), opts: opts, key: key,
		kid: base64.RawURLEncoding.EncodeToString(kid[:]), codes: map[string]authCode{}, access: map[string]accessGrant{}, personas: opts.Personas}
	m := http.NewServeMux()
	opts.SecureBaseURL = strings.TrimSuffix(opts.SecureBaseURL, "/")
	p.opts = opts
	m.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", p.discovery)
	m.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", p.authorize)
	m.HandleFunc("POST /{tenant}/oauth2/v2.0/authorize", p.authorize)
	m.HandleFunc("POST /{tenant}/oauth2/v2.0/token", p.token)
	m.HandleFunc("GET /{tenant}/discovery/v2.0/keys", p.keys)
	m.HandleFunc("GET /{tenant}/oauth2/v2.0/logout", p.logout)
	m.HandleFunc("GET /{tenant}/openid/userinfo", p.userinfo)
	m.HandleFunc("GET /{$}", p.index)
	p.mux = m
	return p, nil
}

// ServeHTTP implements http.Handler.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	p.mux.ServeHTTP(w, r)
}

// Issuer is the single-tenant issuer URL of the local directory, like
// https://login.microsoftonline.com/<tenant>/v2.0.
func (p *Provider) Issuer() string { return p.base + "/" + TenantID + "/v2.0" }

// MultiTenantIssuer is the multi-tenant issuer, like .../organizations/v2.0: its discovery
// document names the issuer with a {tenantid} placeholder, as Entra ID does.
func (p *Provider) MultiTenantIssuer() string { return p.base + "/organizations/v2.0" }

// Personas returns the people one can sign in as.
func (p *Provider) Personas() []Persona { return slices.Clone(p.personas) }

// SetTokenHook installs a function that may change the claims of every ID token issued from
// now on (nil removes it). Tests use it to mint tokens with a wrong nonce, audience, expiry or
// tenant.
func (p *Provider) SetTokenHook(hook func(persona Persona, claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = hook
}

// SecureIssuer is the single-tenant issuer at Options.SecureBaseURL ("" without one): the
// issuer of access tokens asked for there.
func (p *Provider) SecureIssuer() string {
	if p.opts.SecureBaseURL == "" {
		return ""
	}
	return p.opts.SecureBaseURL + "/" + TenantID + "/v2.0"
}

// tenantIssuer is the issuer of tokens for tenant (the iss claim).
func (p *Provider) tenantIssuer(tenant string) string { return p.base + "/" + tenant + "/v2.0" }

// baseFor is the address a request reached the provider at: the secure one over TLS.
func (p *Provider) baseFor(r *http.Request) string {
	if r.TLS != nil && p.opts.SecureBaseURL != "" {
		return p.opts.SecureBaseURL
	}
	return p.base
}

func isMultiTenant(segment string) bool { return segment == "organizations" || segment == "common" }

func (p *Provider) knownSegment(segment string) bool {
	return segment == TenantID || isMultiTenant(segment)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	if !p.knownSegment(seg) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_tenant", "unknown tenant "+seg)
		return
	}
	base := p.baseFor(r)
	issuer := base + "/" + seg + "/v2.0"
	if isMultiTenant(seg) {
		issuer = base + "/{tenantid}/v2.0"
	}
	prefix := base + "/" + seg
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                prefix + "/oauth2/v2.0/authorize",
		"token_endpoint":                        prefix + "/oauth2/v2.0/token",
		"jwks_uri":                              prefix + "/discovery/v2.0/keys",
		"end_session_endpoint":                  prefix + "/oauth2/v2.0/logout",
		"userinfo_endpoint":                     prefix + "/openid/userinfo",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name", "preferred_username", "email", "oid", "tid", "roles", "groups", "ver"},
	})
}

func (p *Provider) keys(w http.ResponseWriter, r *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": p.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (p *Provider) client(id string) (Client, bool) {
	for _, c := range p.opts.Clients {
		if c.ID == id {
			return c, true
		}
	}
	return Client{}, false
}

func (p *Provider) persona(id string) (Persona, bool) {
	for _, per := range p.personas {
		if per.ID == id {
			return per, true
		}
	}
	return Persona{}, false
}

// authRequest is an authorization request's parameters, carried through the persona page.
type authRequest struct {
	ClientID, RedirectURI, ResponseType, Scope, State, Nonce, Challenge, ChallengeMethod string
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	if err := r.ParseForm(); err != nil || !p.knownSegment(seg) {
		p.errorPage(w, http.StatusBadRequest, "The sign-in request could not be read.")
		return
	}
	f := r.Form
	req := authRequest{ClientID: f.Get("client_id"), RedirectURI: f.Get("redirect_uri"), ResponseType: f.Get("response_type"),
		Scope: f.Get("scope"), State: f.Get("state"), Nonce: f.Get("nonce"), Challenge: f.Get("code_challenge"),
		ChallengeMethod: f.Get("code_challenge_method")}
	c, ok := p.client(req.ClientID)
	if !ok {
		p.errorPage(w, http.StatusBadRequest, "The application asking you to sign in is not registered with this provider (unknown client_id).")
		return
	}
	if !slices.Contains(c.RedirectURIs, req.RedirectURI) {
		// Never redirect to an unregistered address: that is how codes get stolen.
		p.errorPage(w, http.StatusBadRequest, "The application's redirect_uri is not registered with this provider.")
		return
	}
	switch {
	case req.ResponseType != "code":
		p.redirectError(w, r, req, "unsupported_response_type", "only the authorization code flow is supported")
		return
	case req.Challenge == "" || req.ChallengeMethod != "S256":
		p.redirectError(w, r, req, "invalid_request", "PKCE with S256 is required")
		return
	case !slices.Contains(strings.Fields(req.Scope), "openid"):
		p.redirectError(w, r, req, "invalid_scope", "the openid scope is required")
		return
	}
	if r.Method == http.MethodGet {
		p.pickerPage(w, seg, req, c)
		return
	}
	if f.Get("cancel") != "" {
		p.redirectError(w, r, req, "access_denied", "the user cancelled the sign-in")
		return
	}
	per, ok := p.persona(f.Get("persona"))
	if !ok {
		p.errorPage(w, http.StatusBadRequest, "Choose one of the listed people.")
		return
	}
	code := randomString()
	p.mu.Lock()
	now := p.opts.Now()
	for k, v := range p.codes {
		if now.After(v.expires) {
			delete(p.codes, k)
		}
	}
	p.codes[code] = authCode{clientID: c.ID, redirectURI: req.RedirectURI, challenge: req.Challenge, nonce: req.Nonce,
		persona: per, tenantSegment: seg, expires: now.Add(codeLifetime)}
	p.mu.Unlock()
	p.redirect(w, r, req.RedirectURI, url.Values{"code": {code}, "state": {req.State}})
}

func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, req authRequest, code, desc string) {
	p.redirect(w, r, req.RedirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {req.State}})
}

func (p *Provider) redirect(w http.ResponseWriter, r *http.Request, target string, q url.Values) {
	u, _ := url.Parse(target)
	vals := u.Query()
	for k, v := range q {
		vals[k] = v
	}
	u.RawQuery = vals.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	clientID, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 section 2.3.1: form-encode before basic auth.
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if r.PostForm.Get("grant_type") == "client_credentials" {
		p.clientCredentials(w, r, clientID, secret)
		return
	}
	c, ok := p.client(clientID)
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "authorization_code" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code and client_credentials are supported")
		return
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	ac, ok := p.codes[code]
	delete(p.codes, code) // single use, even when the rest fails
	hook := p.hook
	p.mu.Unlock()
	now := p.opts.Now()
	switch {
	case !ok || now.After(ac.expires):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "the code is unknown, used or expired")
		return
	case ac.clientID != c.ID:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "the code was issued to another client")
		return
	case r.PostForm.Get("redirect_uri") != ac.redirectURI:
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request")
		return
	case !pkceMatches(r.PostForm.Get("code_verifier"), ac.challenge):
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	claims := p.idTokenClaims(ac, now)
	sub, _ := claims["sub"].(string) // before the hook: userinfo tells the provider's truth
	if hook != nil {
		hook(ac.persona, claims)
	}
	idToken, err := p.sign(claims)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "could not sign the token")
		return
	}
	access := randomString()
	p.mu.Lock()
	for k, g := range p.access {
		if now.After(g.expires) {
			delete(p.access, k)
		}
	}
	p.access[access] = accessGrant{persona: ac.persona, sub: sub, expires: now.Add(p.opts.TokenLifetime)}
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": int(p.opts.TokenLifetime / time.Second),
		"scope": "openid profile email", "access_token": access, "id_token": idToken,
	})
}

// userinfo answers the OpenID Connect userinfo request of an access token's bearer: the
// person's subject and profile (name, preferred_username, email).
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	g, known := p.access[token]
	p.mu.Unlock()
	if !ok || !known || p.opts.Now().After(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": g.sub, "name": g.persona.Name,
		"preferred_username": g.persona.Username, "email": g.persona.Username})
}

func pkceMatches(verifier, challenge string) bool {
	if verifier == "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// idTokenClaims shapes an ID token like Entra ID v2.0 does.
func (p *Provider) idTokenClaims(ac authCode, now time.Time) map[string]any {
	per := ac.persona
	tenant := per.Tenant
	if tenant == "" {
		tenant = TenantID
	}
	sub := sha256.Sum256([]byte(per.ObjectID + "|" + ac.clientID))
	claims := map[string]any{
		"aud": ac.clientID, "iss": p.tenantIssuer(tenant), "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(p.opts.TokenLifetime).Unix(), "name": per.Name, "preferred_username": per.Username,
		"oid": per.ObjectID, "tid": tenant, "sub": base64.RawURLEncoding.EncodeToString(sub[:]), "ver": "2.0",
		"uti": randomString()[:22],
	}
	if p.opts.ProfileOnlyInUserInfo {
		delete(claims, "name")
		delete(claims, "preferred_username")
	}
	if ac.nonce != "" {
		claims["nonce"] = ac.nonce
	}
	if len(per.Roles) > 0 {
		claims["roles"] = slices.Clone(per.Roles)
	}
	if per.GroupsOverage {
		claims["_claim_names"] = map[string]string{"groups": "src1"}
		claims["_claim_sources"] = map[string]any{"src1": map[string]string{
			"endpoint": "https://graph.microsoft.com/v1.0/users/" + per.ObjectID + "/getMemberObjects"}}
	} else if len(per.Groups) > 0 {
		claims["groups"] = slices.Clone(per.Groups)
	}
	return claims
}

// sign encodes claims as a compact JWS signed with RS256.
func (p *Provider) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": p.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// logout is the end-session endpoint (OpenID Connect RP-Initiated Logout). Like real
// providers it refuses to send the browser to a post_logout_redirect_uri the application has
// not registered, and it needs the application named (client_id, or the aud of an
// id_token_hint, which must be a token it issued) to know which registrations apply.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.logouts = append(p.logouts, q)
	p.mu.Unlock()
	clientID := q.Get("client_id")
	if hint := q.Get("id_token_hint"); hint != "" {
		aud, err := p.verifiedAudience(hint)
		if err != nil || (clientID != "" && aud != clientID) {
			p.errorPage(w, http.StatusBadRequest, "The sign-out request's id_token_hint is not a token this provider issued to the application.")
			return
		}
		clientID = aud
	}
	target := q.Get("post_logout_redirect_uri")
	if target == "" {
		p.messagePage(w, http.StatusOK, "Signed out", "You are signed out of the local identity provider. You can close this tab.")
		return
	}
	c, ok := p.client(clientID)
	if !ok {
		p.errorPage(w, http.StatusBadRequest, "The sign-out request names no registered application (client_id or id_token_hint), so its post_logout_redirect_uri cannot be checked.")
		return
	}
	if !slices.Contains(c.PostLogoutRedirectURIs, target) {
		p.errorPage(w, http.StatusBadRequest, "The post_logout_redirect_uri "+target+" is not registered for application "+c.ID+".")
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// Logouts returns the query of every end-session request so far, for tests.
func (p *Provider) Logouts() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.logouts)
}

// verifiedAudience checks that token is an ID token this provider signed and returns its aud.
func (p *Provider) verifiedAudience(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&p.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return "", err
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims struct {
		Aud string `json:"aud"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", err
	}
	return claims.Aud, nil
}

func (p *Provider) index(w http.ResponseWriter, r *http.Request) {
	p.messagePage(w, http.StatusOK, "Local identity provider",
		"This is the local stack's OpenID provider. Sign in from the portal; discovery is at "+p.Issuer()+"/.well-known/openid-configuration.")
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// ErrNotSignInPage means SignIn did not reach the provider's persona page.
var ErrNotSignInPage = errors.New("devidp: the sign-in did not reach the persona page")
