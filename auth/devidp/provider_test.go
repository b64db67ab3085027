package devidp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/contoso/sbportal/auth/devidp"
)

const (
	clientID     = "app"
	clientSecret = "s3cret"
	redirectURI  = "http://127.0.0.1:1/cb"
)

func start(t *testing.T) (*devidp.Provider, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	p, err := devidp.New(base, devidp.Options{Clients: []devidp.Client{{ID: clientID, Secret: clientSecret,
		RedirectURIs: []string{redirectURI}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:1/bye"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p
	srv.Start()
	t.Cleanup(srv.Close)
	return p, base
}

var noRedirects = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func challenge(verifier string) string {
	s := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// authorize picks a persona and returns the redirect's query.
func authorize(t *testing.T, p *devidp.Provider, params url.Values) (*http.Response, url.Values) {
	t.Helper()
	u := strings.TrimSuffix(p.Issuer(), "/v2.0") + "/oauth2/v2.0/authorize"
	resp, err := noRedirects.PostForm(u, params)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return resp, loc.Query()
}

func goodParams(verifier string) url.Values {
	return url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid profile"},
		"state": {"st"}, "nonce": {"nn"}, "code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}, "persona": {"admin"}}
}

func redeem(t *testing.T, p *devidp.Provider, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(strings.TrimSuffix(p.Issuer(), "/v2.0")+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestCodeFlowIssuesVerifiableEntraShapedToken(t *testing.T) {
	p, _ := start(t)
	verifier := strings.Repeat("v", 50)
	resp, q := authorize(t, p, goodParams(verifier))
	if resp.StatusCode != http.StatusFound || q.Get("state") != "st" || q.Get("code") == "" {
		t.Fatalf("authorize: %d %v", resp.StatusCode, q)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI},
		"client_id": {clientID}, "client_secret": {clientSecret}, "code_verifier": {verifier}}
	status, body := redeem(t, p, form)
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	provider, err := oidc.NewProvider(context.Background(), p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(context.Background(), body["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	_ = tok.Claims(&claims)
	for k, want := range map[string]any{"tid": devidp.TenantID, "oid": "a0000000-0000-4000-8000-000000000001", "name": "Ada Admin",
		"preferred_username": "ada.admin@contoso.example", "nonce": "nn", "ver": "2.0", "aud": clientID} {
		if claims[k] != want {
			t.Errorf("%s = %v, want %v", k, claims[k], want)
		}
	}
	if r, _ := claims["roles"].([]any); len(r) != 1 || r[0] != "Admin" {
		t.Errorf("roles %v", claims["roles"])
	}
	// The code is single-use.
	if status, body := redeem(t, p, form); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("second redemption: %d %v", status, body)
	}
}

func TestTokenRefusals(t *testing.T) {
	p, _ := start(t)
	verifier := strings.Repeat("w", 50)
	for name, mutate := range map[string]func(url.Values) (int, string){
		"wrong PKCE verifier": func(f url.Values) (int, string) {
			f.Set("code_verifier", strings.Repeat("x", 50))
			return 400, "invalid_grant"
		},
		"no PKCE verifier": func(f url.Values) (int, string) { f.Del("code_verifier"); return 400, "invalid_grant" },
		"wrong secret":     func(f url.Values) (int, string) { f.Set("client_secret", "guess"); return 401, "invalid_client" },
		"other redirect_uri": func(f url.Values) (int, string) {
			f.Set("redirect_uri", "http://127.0.0.1:1/other")
			return 400, "invalid_grant"
		},
		"unknown code": func(f url.Values) (int, string) { f.Set("code", "made-up"); return 400, "invalid_grant" },
	} {
		t.Run(name, func(t *testing.T) {
			_, q := authorize(t, p, goodParams(verifier))
			form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI},
				"client_id": {clientID}, "client_secret": {clientSecret}, "code_verifier": {verifier}}
			wantStatus, wantErr := mutate(form)
			if status, body := redeem(t, p, form); status != wantStatus || body["error"] != wantErr {
				t.Errorf("%d %v, want %d %s", status, body, wantStatus, wantErr)
			}
		})
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	p, _ := start(t)
	// Unregistered redirect URIs and unknown clients get a page, never a redirect.
	for name, mutate := range map[string]func(url.Values){
		"unregistered redirect_uri": func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") },
		"unknown client":            func(v url.Values) { v.Set("client_id", "nobody") },
	} {
		v := goodParams("x")
		mutate(v)
		resp, _ := authorize(t, p, v)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d to %q", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// Other errors go back to the client as OAuth errors.
	for name, c := range map[string]struct {
		mutate func(url.Values)
		err    string
	}{
		"no PKCE":    {func(v url.Values) { v.Del("code_challenge") }, "invalid_request"},
		"plain PKCE": {func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request"},
		"implicit":   {func(v url.Values) { v.Set("response_type", "id_token") }, "unsupported_response_type"},
		"no openid":  {func(v url.Values) { v.Set("scope", "profile") }, "invalid_scope"},
		"cancelled":  {func(v url.Values) { v.Set("cancel", "1") }, "access_denied"},
	} {
		v := goodParams("x")
		c.mutate(v)
		resp, q := authorize(t, p, v)
		if resp.StatusCode != http.StatusFound || q.Get("error") != c.err || q.Get("code") != "" {
			t.Errorf("%s: %d %v", name, resp.StatusCode, q)
		}
	}
}

func TestPickerPageIsStrictAndAccessible(t *testing.T) {
	p, _ := start(t)
	v := goodParams("x")
	v.Del("persona")
	resp, err := http.Get(strings.TrimSuffix(p.Issuer(), "/v2.0") + "/oauth2/v2.0/authorize?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self' http://127.0.0.1:1") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	body := string(b)
	for _, per := range p.Personas() {
		if !strings.Contains(body, `id="persona-`+per.ID+`"`) {
			t.Errorf("no button for %s", per.ID)
		}
	}
	if !strings.Contains(body, "<legend>") || !strings.Contains(body, `<html lang="en">`) {
		t.Error("picker page lacks a legend or a language")
	}
}

func TestMultiTenantDiscoveryUsesPlaceholder(t *testing.T) {
	p, _ := start(t)
	resp, err := http.Get(p.MultiTenantIssuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	if iss, _ := doc["issuer"].(string); !strings.HasSuffix(iss, "/{tenantid}/v2.0") {
		t.Errorf("issuer %q", iss)
	}
}

func TestEndSessionRedirectsOnlyToRegisteredAddresses(t *testing.T) {
	p, _ := start(t)
	logout := strings.TrimSuffix(p.Issuer(), "/v2.0") + "/oauth2/v2.0/logout?"
	get := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noRedirects.Get(logout + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(url.Values{"post_logout_redirect_uri": {"http://127.0.0.1:1/bye"}, "client_id": {clientID}}); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:1/bye" {
		t.Errorf("registered: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Like real providers: an unregistered address, or no application named, is an error page.
	for name, q := range map[string]url.Values{
		"unregistered":   {"post_logout_redirect_uri": {"https://evil.example/"}, "client_id": {clientID}},
		"no client":      {"post_logout_redirect_uri": {"http://127.0.0.1:1/bye"}},
		"forged hint":    {"post_logout_redirect_uri": {"http://127.0.0.1:1/bye"}, "id_token_hint": {"a.b.c"}},
		"unknown client": {"post_logout_redirect_uri": {"http://127.0.0.1:1/bye"}, "client_id": {"other"}},
	} {
		if resp := get(q); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := len(p.Logouts()); n != 5 {
		t.Errorf("%d end-session requests recorded, want 5", n)
	}
}
