package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/auth"
)

func TestCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		base       string
		wantName   string
		wantSecure bool
	}{
		{"https://portal.contoso.example", "__Host-portal_session", true},
		{"http://127.0.0.1:8080", "portal_session", false},
	} {
		t.Run(tc.base, func(t *testing.T) {
			idp, _ := newIDP(t, tc.base)
			base, _ := url.Parse(tc.base)
			a, err := auth.New(context.Background(), auth.Config{Issuer: idp.Issuer(), ClientID: testClientID, ClientSecret: testClientSecret,
				BaseURL: base, SessionKey: make([]byte, 32), Sessions: auth.NewMemoryStore(), MaxAge: 2 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			sess, err := a.StartSession(context.Background(), rec, auth.Identity{Key: "t/o", Name: "N", Roles: []auth.Role{auth.RoleViewer}})
			if err != nil {
				t.Fatal(err)
			}
			cookies := rec.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("%d cookies", len(cookies))
			}
			c := cookies[0]
			if c.Name != tc.wantName || c.Secure != tc.wantSecure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
				c.Path != "/" || c.Domain != "" || c.MaxAge != 7200 {
				t.Errorf("cookie %+v", c)
			}
			if strings.Contains(c.Value, sess.ID) {
				t.Error("the cookie carries the bare session id")
			}
			if len(c.Value) > 300 {
				t.Errorf("cookie is %d bytes: it should carry only the id", len(c.Value))
			}

			// The sign-in flow cookie has the same attributes and a short life.
			rec = httptest.NewRecorder()
			authURL, err := a.StartSignIn(rec, "/x")
			if err != nil {
				t.Fatal(err)
			}
			flow := rec.Result().Cookies()[0]
			if !strings.HasPrefix(flow.Name, strings.TrimSuffix(tc.wantName, "portal_session")+"portal_signin_") || flow.Secure != tc.wantSecure || !flow.HttpOnly ||
				flow.SameSite != http.SameSiteLaxMode || flow.MaxAge != 600 {
				t.Errorf("flow cookie %+v", flow)
			}
			u, _ := url.Parse(authURL)
			q := u.Query()
			for k, want := range map[string]string{"response_type": "code", "code_challenge_method": "S256", "client_id": testClientID,
				"redirect_uri": tc.base + auth.CallbackPath} {
				if q.Get(k) != want {
					t.Errorf("%s = %q, want %q", k, q.Get(k), want)
				}
			}
			for _, k := range []string{"state", "nonce", "code_challenge"} {
				if len(q.Get(k)) < 43 {
					t.Errorf("%s %q is too short to be unguessable", k, q.Get(k))
				}
			}
			if strings.Contains(flow.Value, q.Get("nonce")) || strings.Contains(flow.Value, q.Get("state")) {
				t.Error("the flow cookie is not encrypted")
			}
		})
	}
}
