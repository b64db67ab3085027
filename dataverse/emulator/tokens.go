package emulator

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DevTenantID is the tenant the local token issuer serves unless told otherwise.
const DevTenantID = "00000000-0000-4000-8000-00000000d0de"

// AppRegistration is an application the token issuer knows: what a confidential client
// presents (client id and secret) and the identity its tokens carry.
type AppRegistration struct {
	ClientID     string
	ClientSecret string
	DisplayName  string
	// ObjectID is the service principal's object id (the token's oid); derived from the
	// client id when empty.
	ObjectID string
	// Certificate, when set, lets the app authenticate with a client assertion signed by the
	// certificate's RSA key (what azidentity's ClientCertificateCredential sends).
	Certificate *x509.Certificate
}

// TokenIssuerOptions configure StartTokenIssuer.
type TokenIssuerOptions struct {
	// Addr to listen on; default "127.0.0.1:0".
	Addr string
	// TenantID served; default DevTenantID.
	TenantID string
	// Apps that may obtain tokens (client credentials grant).
	Apps []AppRegistration
	// TokenLifetime of access tokens; default one hour.
	TokenLifetime time.Duration
}

// TokenIssuer is a local Entra-compatible token endpoint over https with its own self-signed
// certificate: the discovery document azidentity (MSAL) reads, the v2.0 token endpoint for the
// client credentials grant (client secret, or a client assertion signed with a registered
// certificate), and the signing keys (JWKS). Tokens are RS256 JWTs whose audience
// is the resource of the requested "<resource>/.default" scope.
//
// It is for tests and local development only: it never reaches Entra and its keys live in
// memory.
type TokenIssuer struct {
	tenant   string
	lifetime time.Duration
	key      *rsa.PrivateKey
	kid      string
	cert     tls.Certificate
	certPEM  []byte
	pool     *x509.CertPool
	srv      *http.Server
	ln       net.Listener
	base     string // https://127.0.0.1:port

	mu   sync.RWMutex
	apps map[string]AppRegistration
}

// StartTokenIssuer starts the issuer on its own https listener.
func StartTokenIssuer(opts TokenIssuerOptions) (*TokenIssuer, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.TenantID == "" {
		opts.TenantID = DevTenantID
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("token issuer: signing key: %w", err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(der)
	t := &TokenIssuer{
		tenant:   opts.TenantID,
		lifetime: opts.TokenLifetime,
		key:      key,
		kid:      base64.RawURLEncoding.EncodeToString(sum[:12]),
		apps:     map[string]AppRegistration{},
	}
	for _, a := range opts.Apps {
		t.AddApp(a)
	}
	cert, certPEM, err := selfSignedCert()
	if err != nil {
		return nil, fmt.Errorf("token issuer: certificate: %w", err)
	}
	t.cert, t.certPEM = cert, certPEM
	t.pool = x509.NewCertPool()
	t.pool.AppendCertsFromPEM(certPEM)
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("token issuer: listen on %s: %w", opts.Addr, err)
	}
	t.ln = ln
	t.base = "https://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", t.discovery)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", t.token)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", t.jwks)
	t.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = t.srv.ServeTLS(ln, "", "") }()
	return t, nil
}

// selfSignedCert makes a certificate for 127.0.0.1, ::1 and localhost that is its own CA.
func selfSignedCert() (tls.Certificate, []byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sbportal local token issuer"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, certPEM, nil
}

// AddApp registers (or replaces) an application.
func (t *TokenIssuer) AddApp(a AppRegistration) {
	if a.ObjectID == "" {
		a.ObjectID = derivedGUID("sp:" + a.ClientID)
	}
	t.mu.Lock()
	t.apps[a.ClientID] = a
	t.mu.Unlock()
}

// AuthorityHost is the value for azcore's cloud.Configuration.ActiveDirectoryAuthorityHost.
func (t *TokenIssuer) AuthorityHost() string { return t.base + "/" }

// TenantID is the tenant the issuer serves.
func (t *TokenIssuer) TenantID() string { return t.tenant }

// Issuer is the iss claim of its tokens (and of its discovery document).
func (t *TokenIssuer) Issuer() string { return t.base + "/" + t.tenant + "/v2.0" }

// TokenURL is the token endpoint.
func (t *TokenIssuer) TokenURL() string { return t.base + "/" + t.tenant + "/oauth2/v2.0/token" }

// CACertPEM is the issuer's self-signed certificate, to trust for its https endpoint.
func (t *TokenIssuer) CACertPEM() []byte { return append([]byte(nil), t.certPEM...) }

// CertPool holds the issuer's certificate. A client signs in as an app with the client
// credentials grant against tenant TenantID() at AuthorityHost(), trusting this pool (or
// CACertPEM, written to a file, in another process).
func (t *TokenIssuer) CertPool() *x509.CertPool { return t.pool }

// Close stops the issuer.
func (t *TokenIssuer) Close() error { return t.srv.Close() }

func (t *TokenIssuer) discovery(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("tenant") != t.tenant {
		writeOAuthError(w, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID.", r.PathValue("tenant")))
		return
	}
	root := t.base + "/" + t.tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                t.Issuer(),
		"authorization_endpoint":                root + "/oauth2/v2.0/authorize",
		"token_endpoint":                        root + "/oauth2/v2.0/token",
		"jwks_uri":                              root + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"tenant_region_scope":                   "EU",
	})
}

func (t *TokenIssuer) jwks(w http.ResponseWriter, r *http.Request) {
	pub := t.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": t.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (t *TokenIssuer) token(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("tenant") != t.tenant {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", 90002,
			fmt.Sprintf("Tenant '%s' not found.", r.PathValue("tenant")))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain a form.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The local token issuer supports only grant_type=client_credentials, not %q.", gt))
		return
	}
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	assertion := r.PostForm.Get("client_assertion")
	t.mu.RLock()
	app, ok := t.apps[clientID]
	t.mu.RUnlock()
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, t.tenant))
		return
	}
	if assertion != "" {
		if err := t.checkAssertion(app, assertion); err != nil {
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", 700027,
				fmt.Sprintf("Client assertion failed signature validation or is not valid for app '%s': %v.", clientID, err))
			return
		}
	} else if app.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", 7000215,
			fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
		return
	}
	resource := ""
	for _, s := range strings.Fields(r.PostForm.Get("scope")) {
		if strings.HasSuffix(s, "/.default") {
			resource = strings.TrimSuffix(s, "/.default")
			break
		}
	}
	if resource == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", 1002012,
			"The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	tok, err := t.Issue(app.ClientID, resource)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", 0, "could not sign the token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(t.lifetime.Seconds()) - 1,
		"ext_expires_in": int(t.lifetime.Seconds()) - 1,
		"access_token":   tok,
	})
}

func writeOAuthError(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s", aadsts, desc),
		"error_codes":       []int{aadsts},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}

// checkAssertion verifies a client assertion (RFC 7523) as MSAL makes it: PS256 (or RS256)
// over the app's certificate key, x5t#S256 (or x5t) naming the certificate, aud the token
// endpoint, iss and sub the client id, not expired.
func (t *TokenIssuer) checkAssertion(app AppRegistration, assertion string) error {
	if app.Certificate == nil {
		return errors.New("the app has no certificate registered")
	}
	pub, ok := app.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("the registered certificate has no RSA key")
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return errTokenMalformed
	}
	hdrJSON, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	body, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return errTokenMalformed
	}
	var hdr struct {
		Alg     string `json:"alg"`
		X5tS256 string `json:"x5t#S256"`
		X5t     string `json:"x5t"`
	}
	if json.Unmarshal(hdrJSON, &hdr) != nil {
		return errTokenMalformed
	}
	sum256 := sha256.Sum256(app.Certificate.Raw)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch hdr.Alg {
	case "PS256":
		if hdr.X5tS256 != base64.StdEncoding.EncodeToString(sum256[:]) {
			return errors.New("x5t#S256 does not name the registered certificate")
		}
		if rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) != nil {
			return errTokenSignature
		}
	case "RS256":
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
			return errTokenSignature
		}
	default:
		return fmt.Errorf("unsupported assertion algorithm %q", hdr.Alg)
	}
	var c struct {
		Aud string      `json:"aud"`
		Iss string      `json:"iss"`
		Sub string      `json:"sub"`
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(body, &c) != nil {
		return errTokenMalformed
	}
	if c.Aud != t.TokenURL() {
		return fmt.Errorf("aud %q is not this token endpoint", c.Aud)
	}
	if c.Iss != app.ClientID || c.Sub != app.ClientID {
		return errors.New("iss and sub must be the client id")
	}
	if exp, err := c.Exp.Int64(); err != nil || exp <= time.Now().Unix() {
		return errTokenExpired
	}
	return nil
}

// Claims are the claims of an access token the issuer signed.
type Claims struct {
	Audience  string `json:"aud"`
	Issuer    string `json:"iss"`
	TenantID  string `json:"tid"`
	ObjectID  string `json:"oid"`
	AppID     string `json:"appid"`
	Subject   string `json:"sub"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	Expires   int64  `json:"exp"`
	IDType    string `json:"idtyp"`
	Version   string `json:"ver"`
}

// Issue signs an app-only access token for clientID with audience resource. Tests use it to
// make tokens directly; the token endpoint uses it after checking the client's secret.
func (t *TokenIssuer) Issue(clientID, resource string) (string, error) {
	t.mu.RLock()
	app, ok := t.apps[clientID]
	t.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("token issuer: unknown application %q", clientID)
	}
	now := time.Now()
	c := Claims{
		Audience: resource, Issuer: t.Issuer(), TenantID: t.tenant, ObjectID: app.ObjectID,
		AppID: app.ClientID, Subject: app.ObjectID, IssuedAt: now.Unix(), NotBefore: now.Unix() - 60,
		Expires: now.Add(t.lifetime).Unix(), IDType: "app", Version: "1.0",
	}
	return t.sign(c)
}

func (t *TokenIssuer) sign(c Claims) (string, error) {
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": t.kid})
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, t.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// Token verification failures; the Dataverse emulator answers 401 for each.
var (
	errTokenMalformed = errors.New("the access token is malformed")
	errTokenSignature = errors.New("the access token's signature is invalid")
	errTokenExpired   = errors.New("the access token has expired")
	errTokenAudience  = errors.New("the access token's audience is not this environment")
	errTokenIssuer    = errors.New("the access token was not issued by the trusted issuer")
)

// Verify checks token's signature (RS256 with the issuer's key), issuer, audience and
// lifetime, and returns its claims.
func (t *TokenIssuer) Verify(token, audience string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errTokenMalformed
	}
	hdrJSON, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	body, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return Claims{}, errTokenMalformed
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(hdrJSON, &hdr) != nil {
		return Claims{}, errTokenMalformed
	}
	if hdr.Alg != "RS256" || hdr.Kid != t.kid {
		return Claims{}, errTokenSignature
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&t.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return Claims{}, errTokenSignature
	}
	var c Claims
	if json.Unmarshal(body, &c) != nil {
		return Claims{}, errTokenMalformed
	}
	if c.Issuer != t.Issuer() {
		return Claims{}, errTokenIssuer
	}
	now := time.Now().Unix()
	if c.Expires <= now || c.NotBefore > now+60 {
		return Claims{}, errTokenExpired
	}
	if strings.TrimSuffix(c.Audience, "/") != strings.TrimSuffix(audience, "/") {
		return Claims{}, errTokenAudience
	}
	return c, nil
}

// derivedGUID makes a stable GUID from a name, so seeded ids survive restarts.
func derivedGUID(name string) string {
	sum := sha256.Sum256([]byte(name))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	h := fmt.Sprintf("%x", b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
