package auth

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"
)

// Paths the handlers route to the Authenticator. The callback path is part of the redirect URI
// registered with the provider: BaseURL + CallbackPath.
const (
	SignInPath    = "/auth/signin"
	CallbackPath  = "/auth/callback"
	SignOutPath   = "/auth/signout"
	SignedOutPath = "/auth/signed-out"
)

// Session lifetime defaults. Idle: a working day without activity ends the session. Absolute:
// roles and teams are read at sign-in only, so a removed role stops working within a day even
// for someone who never stops clicking; signing in again is silent while the Entra ID session
// lasts.
const (
	DefaultIdleTimeout = 8 * time.Hour
	DefaultMaxAge      = 24 * time.Hour
)

const (
	// signInFlowTTL bounds the time between leaving for the provider and coming back.
	signInFlowTTL = 10 * time.Minute
	// touchInterval limits writes: LastSeenAt moves at most once a minute, so idle expiry is
	// precise to a minute.
	touchInterval = time.Minute
)

// Config configures an Authenticator.
type Config struct {
	// Issuer is the provider's issuer URL. Entra ID single-tenant:
	// https://login.microsoftonline.com/<tenant-id>/v2.0; multi-tenant: .../organizations/v2.0
	// (or common), which requires AllowedTenants.
	Issuer       string
	ClientID     string
	ClientSecret string
	// BaseURL is the portal's external address; the redirect URI is BaseURL + CallbackPath and
	// cookies are Secure with the __Host- prefix when its scheme is https.
	BaseURL *url.URL
	// AllowedTenants lists the Entra ID tenant ids (tid) that may sign in. Required for a
	// multi-tenant issuer; optional (an extra check) for a single tenant.
	AllowedTenants []string
	// Claims says which claims hold roles, groups, name and username.
	Claims ClaimNames
	// RoleValues maps role claim values to portal roles; nil means DefaultRoleValues.
	RoleValues map[string]Role
	// TeamsByGroup maps group ids (groups claim) to team names; TeamsByRole maps role claim
	// values to team names. A person's teams are the union of both.
	TeamsByGroup map[string]string
	TeamsByRole  map[string]string
	// ExtraScopes are requested besides openid, profile and email.
	ExtraScopes []string
	// SessionKey signs and encrypts the portal's sign-in cookies; at least 32 random bytes.
	SessionKey []byte
	// Sessions keeps the server-side sessions.
	Sessions SessionStore
	// IdleTimeout and MaxAge bound sessions; zero means the defaults above.
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// HTTPClient talks to the provider (discovery, keys, token); nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now. Tests move it to check expiry.
	Now func() time.Time
	// Logger receives what an operator should fix in the provider's setup (a sign-out the
	// provider did not complete, a userinfo answer that could not be used); nil discards.
	Logger *slog.Logger
}

// Authenticator signs people in and out and finds the session of each request.
type Authenticator struct {
	cfg        Config
	oauth      oauth2.Config
	provider   *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	endSession string
	log        *slog.Logger
	// tenantIssuer matches the iss of a multi-tenant provider and captures its tenant id; nil
	// for a single-tenant issuer, whose iss go-oidc checks exactly.
	tenantIssuer   *regexp.Regexp
	allowedTenants []string
	mapping        identityMapping
	secure         bool
	sessionCookie  string
	flowCookie     string
	hintCookie     string // the ID token for the provider's sign-out (id_token_hint)
	signOutCookie  string // a sign-out sent to the provider that has not come back yet
	sessionIDs     *securecookie.SecureCookie
	verified       verifiedCookies
	flows          *securecookie.SecureCookie
	hints          cipher.AEAD
	now            func() time.Time
}

// tenantPlaceholder is how Entra ID's organizations/common discovery documents write the issuer:
// https://login.microsoftonline.com/{tenantid}/v2.0.
const tenantPlaceholder = "{tenantid}"

// New discovers the provider at cfg.Issuer and returns an Authenticator. It fails when the
// provider cannot be reached or the configuration is incomplete.
func New(ctx context.Context, cfg Config) (*Authenticator, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("auth: the issuer URL is empty")
	case cfg.ClientID == "":
		return nil, errors.New("auth: the client id is empty")
	case cfg.BaseURL == nil || cfg.BaseURL.Host == "" || (cfg.BaseURL.Scheme != "https" && cfg.BaseURL.Scheme != "http"):
		return nil, errors.New("auth: the base URL must be an absolute http(s) URL")
	case len(cfg.SessionKey) < 32:
		return nil, errors.New("auth: the session key must have at least 32 bytes")
	case cfg.Sessions == nil:
		return nil, errors.New("auth: no session store")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
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

	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Authenticator{cfg: cfg, now: cfg.Now, secure: cfg.BaseURL.Scheme == "https", log: cfg.Logger}
	provider, tenantIssuer, err := discover(ctx, cfg.Issuer, cfg.AllowedTenants)
	if err != nil {
		return nil, err
	}
	a.provider, a.tenantIssuer = provider, tenantIssuer
	a.allowedTenants = slices.Clone(cfg.AllowedTenants)
	a.verifier = provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, SkipIssuerCheck: a.tenantIssuer != nil, Now: cfg.Now})

	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err == nil && meta.EndSession != "" {
		if u, err := url.Parse(meta.EndSession); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			a.endSession = meta.EndSession
		}
	}

	base := strings.TrimSuffix(cfg.BaseURL.String(), "/")
	a.oauth = oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  base + CallbackPath,
		Scopes:       append([]string{oidc.ScopeOpenID, "profile", "email"}, cfg.ExtraScopes...),
	}
	a.mapping = identityMapping{claims: cfg.Claims.withDefaults(), roleValues: cfg.RoleValues,
		teamsByGroup: cfg.TeamsByGroup, teamsByRole: cfg.TeamsByRole}

	a.sessionCookie, a.flowCookie, a.hintCookie, a.signOutCookie = "portal_session", "portal_signin", "portal_idhint", "portal_signout"
	if a.secure {
		// __Host- cookies are only accepted over https, for path /, without a Domain: no
		// subdomain can set or shadow them.
		for _, name := range []*string{&a.sessionCookie, &a.flowCookie, &a.hintCookie, &a.signOutCookie} {
			*name = "__Host-" + *name
		}
	}
	block, _ := aes.NewCipher(deriveKey(cfg.SessionKey, "id token hint encryption"))
	a.hints, _ = cipher.NewGCM(block)
	a.sessionIDs = securecookie.New(deriveKey(cfg.SessionKey, "session id signing"), nil)
	a.sessionIDs.MaxAge(int(cfg.MaxAge / time.Second))
	a.sessionIDs.SetSerializer(securecookie.JSONEncoder{})
	a.flows = securecookie.New(deriveKey(cfg.SessionKey, "sign-in flow signing"), deriveKey(cfg.SessionKey, "sign-in flow encryption"))
	a.flows.MaxAge(int(signInFlowTTL / time.Second))
	a.flows.SetSerializer(securecookie.JSONEncoder{})
	return a, nil
}

// discover reads the provider's discovery document at issuer. For a multi-tenant endpoint
// (Entra ID's organizations or common) it returns the pattern that iss must match, capturing
// the tenant id, and requires an allowed-tenant list; nil for a single-tenant issuer, whose
// iss go-oidc checks exactly.
func discover(ctx context.Context, issuer string, allowedTenants []string) (*oidc.Provider, *regexp.Regexp, error) {
	provider, err := oidc.NewProvider(ctx, issuer)
	var mismatch *oidc.IssuerMismatchError
	var tenantIssuer *regexp.Regexp
	if errors.As(err, &mismatch) && strings.Count(mismatch.Discovered, tenantPlaceholder) == 1 {
		// A multi-tenant endpoint: tokens carry the signing-in person's tenant in iss, so the
		// exact issuer check is replaced by the pattern and the allowed-tenant list.
		before, after, _ := strings.Cut(mismatch.Discovered, tenantPlaceholder)
		tenantIssuer = regexp.MustCompile("^" + regexp.QuoteMeta(before) + "([0-9A-Za-z-]+)" + regexp.QuoteMeta(after) + "$")
		if len(allowedTenants) == 0 {
			return nil, nil, fmt.Errorf("auth: %s is a multi-tenant issuer: list the tenant ids allowed to sign in", issuer)
		}
		provider, err = oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, mismatch.Discovered), issuer)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: discover the OpenID provider at %s: %w", issuer, err)
	}
	return provider, tenantIssuer, nil
}

// deriveKey gives each cookie purpose its own 32-byte key, so one cookie can never be replayed
// as another.
func deriveKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sbportal auth: " + purpose))
	return m.Sum(nil)
}

// SessionCookieName is the name of the cookie carrying the session id.
func (a *Authenticator) SessionCookieName() string { return a.sessionCookie }

// EndSessionOrigin is the origin of the provider's sign-out page ("" when it has none): the
// Content-Security-Policy must allow the sign-out form to continue there.
func (a *Authenticator) EndSessionOrigin() string {
	if a.endSession == "" {
		return ""
	}
	u, _ := url.Parse(a.endSession)
	return u.Scheme + "://" + u.Host
}

// SignInURL is the portal's sign-in address that returns to returnTo afterwards.
func (a *Authenticator) SignInURL(returnTo string) string {
	return SignInPath + "?return=" + url.QueryEscape(SafeReturnPath(returnTo))
}

// flowState is the shape of the states StartSignIn makes (32 random bytes, base64url).
var flowState = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// flowCookieName names a sign-in flow's cookie after its state, so sign-ins started in
// several tabs at once (each expired tab is sent to sign in) do not overwrite each other.
func (a *Authenticator) flowCookieName(state string) string { return a.flowCookie + "_" + state[:12] }

// signInFlow is what the browser carries, encrypted, between leaving for the provider and
// coming back: it binds the callback to this browser.
type signInFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Return   string `json:"r"`
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *Authenticator) cookieOptions(maxAge int) *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: maxAge, Secure: a.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// StartSignIn begins the authorization code flow: it stores state, nonce and the PKCE verifier
// in an encrypted cookie and returns the provider's authorization URL to redirect to.
func (a *Authenticator) StartSignIn(w http.ResponseWriter, returnTo string) (string, error) {
	flow := signInFlow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Return: SafeReturnPath(returnTo)}
	name := a.flowCookieName(flow.State)
	v, err := a.flows.Encode(name, flow)
	if err != nil {
		return "", fmt.Errorf("auth: encode sign-in cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(name, v, a.cookieOptions(int(signInFlowTTL/time.Second))))
	return a.oauth.AuthCodeURL(flow.State, oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier)), nil
}

// SignInError is a sign-in that did not complete. Message is for the person; Err is for the
// log and never contains tokens or codes.
type SignInError struct {
	Message string
	Err     error
}

func (e *SignInError) Error() string { return "sign-in failed: " + e.Err.Error() }
func (e *SignInError) Unwrap() error { return e.Err }

func signInFailed(message string, format string, args ...any) error {
	return &SignInError{Message: message, Err: fmt.Errorf(format, args...)}
}

// Messages for failed sign-ins: what happened and what to do.
const (
	msgStartAgain   = "The sign-in took too long or was started in another tab. Start again from the sign-in button."
	msgProvider     = "The identity provider did not sign you in. Try again; if it keeps happening, ask your administrator to check the portal's app registration."
	msgTokenInvalid = "The identity provider's answer could not be verified, so you were not signed in. Try again; if it keeps happening, tell your administrator."
	msgTenant       = "Your organization's directory (tenant) is not allowed to use this portal. Sign in with an account of an allowed organization, or ask the portal's administrator to allow your tenant."
)

var providerErrorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// FinishSignIn completes the flow at the callback: it checks state, exchanges the code with the
// PKCE verifier, verifies the ID token (signature, issuer or allowed tenant, audience, expiry)
// and its nonce, and starts a fresh session. It returns the session and the path to go back to.
// Errors are *SignInError, *GroupsOverageError, or an error of the session store.
func (a *Authenticator) FinishSignIn(w http.ResponseWriter, r *http.Request) (Session, string, error) {
	var flow signInFlow
	q := r.URL.Query()
	state := q.Get("state")
	if !flowState.MatchString(state) {
		return Session{}, "", signInFailed(msgStartAgain, "the callback's state is missing or malformed")
	}
	name := a.flowCookieName(state)
	c, err := r.Cookie(name)
	if err != nil {
		return Session{}, "", signInFailed(msgStartAgain, "no sign-in cookie for this state: the flow expired, was already completed, or was started in another browser")
	}
	// The flow cookie is single-use whatever happens next.
	http.SetCookie(w, sessions.NewCookie(name, "", a.cookieOptions(-1)))
	if err := a.flows.Decode(name, c.Value, &flow); err != nil {
		return Session{}, "", signInFailed(msgStartAgain, "sign-in cookie not valid: %v", err)
	}
	if code := q.Get("error"); code != "" {
		if !providerErrorCode.MatchString(code) {
			code = "unrecognized"
		}
		return Session{}, "", signInFailed(msgProvider, "the provider answered error %q", code)
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(flow.State)) != 1 {
		return Session{}, "", signInFailed(msgStartAgain, "state does not match the sign-in cookie")
	}
	code := q.Get("code")
	if code == "" {
		return Session{}, "", signInFailed(msgProvider, "the callback has no authorization code")
	}

	ctx := r.Context()
	if a.cfg.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
	}
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Session{}, "", signInFailed(msgProvider, "token request refused: status %d, error %q", re.Response.StatusCode, re.ErrorCode)
		}
		return Session{}, "", signInFailed(msgProvider, "token request failed: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Session{}, "", signInFailed(msgProvider, "the token response has no ID token")
	}
	idToken, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return Session{}, "", signInFailed(msgTokenInvalid, "ID token rejected: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(flow.Nonce)) != 1 {
		return Session{}, "", signInFailed(msgTokenInvalid, "ID token nonce does not match this sign-in")
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return Session{}, "", signInFailed(msgTokenInvalid, "ID token claims: %v", err)
	}
	if err := a.checkTenant(idToken.Issuer, claims); err != nil {
		return Session{}, "", err
	}
	if a.mapping.lacksProfile(claims) {
		a.addUserInfo(ctx, tok, idToken.Subject, claims)
	}
	id, err := a.mapping.identity(claims)
	if err != nil {
		var overage *GroupsOverageError
		if errors.As(err, &overage) {
			return Session{}, "", err
		}
		return Session{}, "", signInFailed(msgTokenInvalid, "%v", err)
	}

	// A fresh id at every sign-in: whatever session this browser had before ends here, so a
	// planted session id can never become a signed-in one.
	if old, ok := a.sessionID(r); ok {
		if err := a.cfg.Sessions.DeleteSession(ctx, old); err != nil {
			return Session{}, "", fmt.Errorf("auth: end the previous session: %w", err)
		}
	}
	sess, err := a.StartSession(ctx, w, id)
	if err != nil {
		return Session{}, "", err
	}
	if id.Name == unnamed {
		a.log.WarnContext(ctx, "sign-in: neither the ID token nor userinfo names the person, so pages show \""+unnamed+"\"; "+
			"set PORTAL_OIDC_NAME_CLAIM to the claim that holds the name, or have the provider issue name, preferred_username or email",
			slog.String("user", id.Key), slog.String("name_claim", a.mapping.claims.Name))
	}
	hint, _ := claims["login_hint"].(string)
	a.setSignOutHint(w, raw, hint)
	return sess, flow.Return, nil
}

// addUserInfo fills the profile claims the ID token lacks (the configured name claim, name,
// preferred_username, email) from the provider's userinfo endpoint, as many providers put
// them only there. Only profile claims are taken: roles, groups and the identity itself come
// from the verified ID token alone. An answer for another subject is ignored.
func (a *Authenticator) addUserInfo(ctx context.Context, tok *oauth2.Token, subject string, claims map[string]any) {
	if a.provider.UserInfoEndpoint() == "" {
		return
	}
	info, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		a.log.WarnContext(ctx, "sign-in: the provider's userinfo endpoint did not answer; names come from the ID token only", slog.String("err", err.Error()))
		return
	}
	if info.Subject != subject {
		a.log.WarnContext(ctx, "sign-in: userinfo answered for another subject than the ID token's; ignored")
		return
	}
	var profile map[string]any
	if err := info.Claims(&profile); err != nil {
		return
	}
	for _, name := range a.mapping.profileClaims() {
		if s, _ := lookupClaim(claims, name).(string); s != "" {
			continue
		}
		if v, ok := lookupClaim(profile, name).(string); ok && v != "" {
			claims[name] = v
		}
	}
}

// checkTenant enforces the allowed-tenant list: for a multi-tenant issuer, iss must name the
// same tenant as tid and that tenant must be allowed.
func (a *Authenticator) checkTenant(iss string, claims map[string]any) error {
	problem, notAllowed := tenantProblem(a.tenantIssuer, a.allowedTenants, iss, claims)
	switch {
	case notAllowed:
		return signInFailed(msgTenant, "ID token %s", problem)
	case problem != "":
		return signInFailed(msgTokenInvalid, "ID token %s", problem)
	}
	return nil
}

// tenantProblem checks a token's iss and tid against a multi-tenant issuer pattern (nil for a
// single tenant) and the allowed tenants. It says what is wrong ("" when nothing), and whether
// that is a tenant that is not allowed (rather than a malformed token).
func tenantProblem(tenantIssuer *regexp.Regexp, allowed []string, iss string, claims map[string]any) (problem string, notAllowed bool) {
	tid, _ := claims["tid"].(string)
	if tenantIssuer != nil {
		m := tenantIssuer.FindStringSubmatch(iss)
		if m == nil {
			return fmt.Sprintf("issuer %q does not match the provider's tenant issuer pattern", iss), false
		}
		if tid == "" || !strings.EqualFold(m[1], tid) {
			return fmt.Sprintf("issuer %q does not name its tenant %q", iss, tid), false
		}
	}
	if len(allowed) > 0 && !slices.ContainsFunc(allowed, func(t string) bool { return strings.EqualFold(t, tid) }) {
		return fmt.Sprintf("tenant %q is not in the allowed list", tid), true
	}
	return "", false
}

// StartSession creates a server-side session for id and sets its cookie. FinishSignIn calls it
// after a verified sign-in; tests of other packages use it to get a signed-in browser.
func (a *Authenticator) StartSession(ctx context.Context, w http.ResponseWriter, id Identity) (Session, error) {
	now := a.now()
	roles := make([]string, 0, len(id.Roles))
	for _, r := range id.Roles {
		roles = append(roles, string(r))
	}
	sess := Session{ID: randomString(), UserKey: id.Key, Name: id.Name, Username: id.Username, Tenant: id.Tenant,
		Roles: roles, Teams: slices.Clone(id.Teams), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.cfg.MaxAge)}
	if err := a.cfg.Sessions.SaveSession(ctx, sess); err != nil {
		return Session{}, fmt.Errorf("auth: save new session: %w", err)
	}
	v, err := a.sessionIDs.Encode(a.sessionCookie, sess.ID)
	if err != nil {
		return Session{}, fmt.Errorf("auth: encode session cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(a.sessionCookie, v, a.cookieOptions(int(a.cfg.MaxAge/time.Second))))
	return sess, nil
}

// ErrNoSession means the request has no valid session: no cookie, a cookie that fails its
// signature, an unknown id, or an expired session. Errors wrapping it say which.
var ErrNoSession = errors.New("not signed in")

// sessionID returns the verified session id of the request's cookie.
func (a *Authenticator) sessionID(r *http.Request) (string, bool) {
	c, err := r.Cookie(a.sessionCookie)
	if err != nil {
		return "", false
	}
	return a.sessionIDOf(c.Value)
}

// sessionIDOf checks a session cookie's value and returns the session id it holds.
func (a *Authenticator) sessionIDOf(value string) (string, bool) {
	now := a.now()
	if id, ok := a.verified.get(value, now); ok {
		return id, true
	}
	var id string
	if err := a.sessionIDs.Decode(a.sessionCookie, value, &id); err != nil || id == "" {
		return "", false
	}
	a.verified.put(value, id, now)
	return id, true
}

func (a *Authenticator) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, sessions.NewCookie(a.sessionCookie, "", a.cookieOptions(-1)))
}

// Authenticate returns the request's session, checking idle and absolute expiry and noting the
// activity. Without a valid session it clears the cookie and returns an error wrapping
// ErrNoSession; other errors come from the session store.
func (a *Authenticator) Authenticate(w http.ResponseWriter, r *http.Request) (Session, error) {
	c, err := r.Cookie(a.sessionCookie)
	if err != nil {
		return Session{}, fmt.Errorf("%w: no session cookie", ErrNoSession)
	}
	id, ok := a.sessionIDOf(c.Value)
	if !ok {
		a.clearSessionCookie(w)
		return Session{}, fmt.Errorf("%w: the session cookie is not valid (altered, too old, or signed with another key)", ErrNoSession)
	}
	ctx := r.Context()
	sess, err := a.cfg.Sessions.GetSession(ctx, id)
	if errors.Is(err, ErrSessionNotFound) {
		a.clearSessionCookie(w)
		return Session{}, fmt.Errorf("%w: the session has ended", ErrNoSession)
	}
	if err != nil {
		return Session{}, fmt.Errorf("auth: read session: %w", err)
	}
	now := a.now()
	var expired string
	switch {
	case !now.Before(sess.ExpiresAt):
		expired = "the session reached its maximum age"
	case now.Sub(sess.LastSeenAt) >= a.cfg.IdleTimeout:
		expired = "the session was idle too long"
	}
	if expired != "" {
		a.clearSessionCookie(w)
		if err := a.cfg.Sessions.DeleteSession(ctx, id); err != nil {
			return Session{}, fmt.Errorf("auth: delete expired session: %w", err)
		}
		return Session{}, fmt.Errorf("%w: %s", ErrNoSession, expired)
	}
	if now.Sub(sess.LastSeenAt) >= touchInterval {
		sess.LastSeenAt = now
		if err := a.cfg.Sessions.SaveSession(ctx, sess); err != nil {
			return Session{}, fmt.Errorf("auth: note session activity: %w", err)
		}
	}
	return sess, nil
}

// SignOut ends the request's session (server-side and cookie) and returns where to send the
// browser: the provider's end-session endpoint when it has one (which comes back to
// SignedOutPath), otherwise SignedOutPath itself. The provider is told which application signs
// out (client_id) and who (id_token_hint, the ID token of the sign-in; logout_hint when Entra
// ID sent a login_hint claim), so it can return to SignedOutPath without asking; it does so
// only when that address is registered with it (see PostLogoutRedirectURI).
func (a *Authenticator) SignOut(w http.ResponseWriter, r *http.Request) (string, error) {
	if id, ok := a.sessionID(r); ok {
		if err := a.cfg.Sessions.DeleteSession(r.Context(), id); err != nil {
			return "", fmt.Errorf("auth: delete session: %w", err)
		}
	}
	if _, err := r.Cookie(a.sessionCookie); err == nil {
		a.clearSessionCookie(w)
	}
	idToken, loginHint := a.signOutHint(w, r)
	if a.endSession == "" {
		return SignedOutPath, nil
	}
	u, _ := url.Parse(a.endSession)
	q := u.Query()
	q.Set("post_logout_redirect_uri", a.PostLogoutRedirectURI())
	q.Set("client_id", a.cfg.ClientID)
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	if loginHint != "" {
		q.Set("logout_hint", loginHint)
	}
	u.RawQuery = q.Encode()
	// Noted until the provider sends the browser back: if it never does, the next visit says so
	// (SignOutNotCompleted).
	http.SetCookie(w, sessions.NewCookie(a.signOutCookie, strconv.FormatInt(a.now().Unix(), 10), a.cookieOptions(int(signOutReturnTTL/time.Second))))
	return u.String(), nil
}

// signOutReturnTTL is how long a sign-out waits for the provider to send the browser back.
const signOutReturnTTL = 15 * time.Minute

// PostLogoutRedirectURI is where the provider sends the browser after signing out:
// BaseURL + SignedOutPath. It must be registered with the provider (Entra ID: as a redirect
// URI of the app registration).
func (a *Authenticator) PostLogoutRedirectURI() string {
	return strings.TrimSuffix(a.cfg.BaseURL.String(), "/") + SignedOutPath
}

// SignedOut notes that the provider sent the browser back after signing out.
func (a *Authenticator) SignedOut(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(a.signOutCookie); err == nil {
		http.SetCookie(w, sessions.NewCookie(a.signOutCookie, "", a.cookieOptions(-1)))
	}
}

// SignOutNotCompleted reports, once, that this browser was sent to the provider to sign out
// and came back to the portal without passing SignedOutPath: the provider did not redirect,
// most often because PostLogoutRedirectURI is not registered with it. The message says what
// to register, for the log.
func (a *Authenticator) SignOutNotCompleted(w http.ResponseWriter, r *http.Request) (string, bool) {
	if _, err := r.Cookie(a.signOutCookie); err != nil {
		return "", false
	}
	http.SetCookie(w, sessions.NewCookie(a.signOutCookie, "", a.cookieOptions(-1)))
	return "the identity provider did not send the browser back to " + a.PostLogoutRedirectURI() + " after sign-out, so people see the provider's page (often an error) instead of the portal's: " +
		"register " + a.PostLogoutRedirectURI() + " as a post-logout redirect URI of application " + a.cfg.ClientID +
		" (Entra ID: App registrations > the portal > Authentication > Web > Redirect URIs)", true
}

// signOutHintPayload is what the sign-out hint cookie carries, sealed.
type signOutHintPayload struct {
	IDToken   string `json:"t"`
	LoginHint string `json:"h,omitempty"`
}

// maxHintCookie keeps the hint cookie within what every browser stores (4096 bytes with its
// name and attributes). An ID token too large for it (very many groups) is not kept; sign-out
// then names the application only.
const maxHintCookie = 3800

// setSignOutHint keeps the ID token (and Entra's login_hint) for the provider's sign-out in a
// cookie, compressed and sealed with AES-GCM: the session holds no tokens, and the ID token
// names the person.
func (a *Authenticator) setSignOutHint(w http.ResponseWriter, idToken, loginHint string) {
	plain, _ := json.Marshal(signOutHintPayload{IDToken: idToken, LoginHint: loginHint})
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = zw.Write(plain)
	_ = zw.Close()
	nonce := make([]byte, a.hints.NonceSize())
	_, _ = rand.Read(nonce)
	v := base64.RawURLEncoding.EncodeToString(a.hints.Seal(nonce, nonce, buf.Bytes(), []byte(a.hintCookie)))
	if len(v) > maxHintCookie {
		a.log.Info("sign-in: the ID token is too large to keep for sign-out; sign-out names the application only", slog.Int("bytes", len(idToken)))
		v = ""
	}
	maxAge := int(a.cfg.MaxAge / time.Second)
	if v == "" {
		maxAge = -1
	}
	http.SetCookie(w, sessions.NewCookie(a.hintCookie, v, a.cookieOptions(maxAge)))
}

// signOutHint reads and clears the sign-out hint cookie; empty strings when there is none.
func (a *Authenticator) signOutHint(w http.ResponseWriter, r *http.Request) (idToken, loginHint string) {
	c, err := r.Cookie(a.hintCookie)
	if err != nil {
		return "", ""
	}
	http.SetCookie(w, sessions.NewCookie(a.hintCookie, "", a.cookieOptions(-1)))
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(sealed) < a.hints.NonceSize() {
		return "", ""
	}
	nonce, ct := sealed[:a.hints.NonceSize()], sealed[a.hints.NonceSize():]
	zipped, err := a.hints.Open(nil, nonce, ct, []byte(a.hintCookie))
	if err != nil {
		return "", ""
	}
	plain, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(zipped)), 64<<10))
	if err != nil {
		return "", ""
	}
	var p signOutHintPayload
	if json.Unmarshal(plain, &p) != nil {
		return "", ""
	}
	return p.IDToken, p.LoginHint
}
