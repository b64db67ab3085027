package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/auth/devidp"
)

const (
	apiAudience  = "api://service-endpoint-portal"
	portalClient = "portal-web"
)

var testApps = []devidp.App{
	{ID: "pipeline", Secret: "pipeline-secret", Name: "Release pipeline", Roles: []string{"Registrar", "Team.Integration"}},
	{ID: "viewer-app", Secret: "viewer-secret", Name: "Dashboard", Roles: []string{"Viewer", "Team.Integration"}},
	{ID: "no-role-app", Secret: "no-role-secret", Name: "Stranger"},
	{ID: "foreign-app", Secret: "foreign-secret", Tenant: devidp.OtherTenantID, Roles: []string{"Admin"}},
}

// bearerIDP runs the local provider over https (as Entra ID is reached) with the test apps
// and the portal's web client.
func bearerIDP(t *testing.T) (*devidp.Provider, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	idp, err := devidp.New("https://"+srv.Listener.Addr().String(), devidp.Options{Apps: testApps,
		Clients: []devidp.Client{{ID: portalClient, Secret: "web-secret", RedirectURIs: []string{"http://127.0.0.1:1/cb"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = idp
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return idp, srv.Client()
}

func bearerVerifier(t *testing.T, idp *devidp.Provider, client *http.Client, mod func(*auth.BearerConfig)) *auth.BearerVerifier {
	t.Helper()
	cfg := auth.BearerConfig{Issuer: idp.Issuer(), Audience: apiAudience, AllowedTenants: []string{devidp.TenantID},
		TeamsByRole: map[string]string{"Team.Integration": "Integration"}, HTTPClient: client}
	if mod != nil {
		mod(&cfg)
	}
	v, err := auth.NewBearerVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// appToken gets an access token with the client credentials grant, over HTTP.
func appToken(t *testing.T, idp *devidp.Provider, client *http.Client, app, secret, scope string) string {
	t.Helper()
	resp, err := client.PostForm(strings.TrimSuffix(idp.Issuer(), "/v2.0")+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app}, "client_secret": {secret}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token: status %d, error %q, %v", resp.StatusCode, body.Error, err)
	}
	return body.AccessToken
}

// userIDToken signs a persona in with the authorization code flow and returns the ID token.
func userIDToken(t *testing.T, idp *devidp.Provider, client *http.Client, persona string) string {
	t.Helper()
	verifier := "a-verifier-long-enough-to-be-a-real-pkce-verifier-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	noRedirect := *client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	root := strings.TrimSuffix(idp.Issuer(), "/v2.0")
	resp, err := noRedirect.PostForm(root+"/oauth2/v2.0/authorize", url.Values{"client_id": {portalClient},
		"redirect_uri": {"http://127.0.0.1:1/cb"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "persona": {persona}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	resp, err = client.PostForm(root+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {portalClient},
		"client_secret": {"web-secret"}, "code": {loc.Query().Get("code")}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.IDToken == "" {
		t.Fatalf("no ID token: status %d", resp.StatusCode)
	}
	return body.IDToken
}

func TestBearerAcceptsAnApplicationsAccessToken(t *testing.T) {
	idp, client := bearerIDP(t)
	v := bearerVerifier(t, idp, client, nil)
	id, err := v.Verify(context.Background(), appToken(t, idp, client, "pipeline", "pipeline-secret", apiAudience+"/.default"))
	if err != nil {
		t.Fatal(err)
	}
	if !id.Has(auth.RoleRegistrar) || !slices.Equal(id.Teams, []string{"Integration"}) || id.Application != "pipeline" ||
		id.Name != "Release pipeline (application pipeline)" || !strings.HasPrefix(id.Key, devidp.TenantID+"/") {
		t.Fatalf("identity %+v", id)
	}
}

func TestBearerRefusals(t *testing.T) {
	idp, client := bearerIDP(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		token  func() string
		mod    func(*auth.BearerConfig)
		want   string // in the caller's message
		noRole bool
	}{
		{name: "wrong audience", token: func() string {
			return appToken(t, idp, client, "pipeline", "pipeline-secret", "https://graph.microsoft.com/.default")
		}, want: "for another API"},
		{name: "expired", token: func() string {
			idp.SetAccessTokenHook(func(_ devidp.App, c map[string]any) {
				c["exp"] = time.Now().Add(-time.Hour).Unix()
				c["iat"], c["nbf"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix()
			})
			defer idp.SetAccessTokenHook(nil)
			return appToken(t, idp, client, "pipeline", "pipeline-secret", apiAudience+"/.default")
		}, want: "has expired"},
		{name: "other tenant, single-tenant issuer", token: func() string {
			return appToken(t, idp, client, "foreign-app", "foreign-secret", apiAudience+"/.default")
		}, want: "could not be verified"},
		{name: "other tenant, multi-tenant issuer", mod: func(c *auth.BearerConfig) { c.Issuer = idp.MultiTenantIssuer() }, token: func() string {
			return appToken(t, idp, client, "foreign-app", "foreign-secret", apiAudience+"/.default")
		}, want: "tenant"},
		{name: "no role", token: func() string {
			return appToken(t, idp, client, "no-role-app", "no-role-secret", apiAudience+"/.default")
		}, noRole: true},
		{name: "a user's ID token, even with the API's audience", mod: func(c *auth.BearerConfig) { c.Audience = portalClient }, token: func() string {
			return userIDToken(t, idp, client, "admin")
		}, want: "This is an ID token"},
		{name: "an ID token without nonce", mod: func(c *auth.BearerConfig) { c.Audience = portalClient }, token: func() string {
			idp.SetTokenHook(func(_ devidp.Persona, c map[string]any) { delete(c, "nonce") })
			defer idp.SetTokenHook(nil)
			return userIDToken(t, idp, client, "admin")
		}, want: "This is an ID token"},
		{name: "forged signature", token: func() string {
			tok := appToken(t, idp, client, "pipeline", "pipeline-secret", apiAudience+"/.default")
			parts := strings.Split(tok, ".")
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			payload = []byte(strings.Replace(string(payload), `"Registrar"`, `"Admin"`, 1))
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
		}, want: "could not be verified"},
		{name: "not a JWT", token: func() string { return "opaque-token" }, want: "could not be verified"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := bearerVerifier(t, idp, client, tc.mod)
			tok := tc.token()
			id, err := v.Verify(ctx, tok)
			if tc.noRole {
				var nr *auth.NoRoleError
				if !errors.As(err, &nr) || id.HasAnyRole() {
					t.Fatalf("err %v, want NoRoleError", err)
				}
				return
			}
			var te *auth.TokenError
			if !errors.As(err, &te) {
				t.Fatalf("err %v (identity %+v), want a TokenError", err, id)
			}
			if !strings.Contains(te.Message, tc.want) {
				t.Errorf("message %q does not say %q (err %v)", te.Message, tc.want, te.Err)
			}
			if strings.Contains(te.Message+te.Error(), tok) {
				t.Error("the token was echoed")
			}
		})
	}
}
