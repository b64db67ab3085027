package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/internal/browsertest"
)

// TestDevSignInAndOutInBrowser runs the real `portal dev`, signs in through the local identity
// provider as a persona in headless Chromium, sees their name, signs out, and checks the old
// session cookie no longer works.
func TestDevSignInAndOutInBrowser(t *testing.T) {
	base, _ := startDev(t)
	browser := browsertest.New(t)
	ctx := browsertest.WithTimeout(t, browser, 90*time.Second)

	// Asking for a page without a session leads to the provider's persona picker.
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/?from=browser-test"),
		chromedp.WaitVisible(chromedp.CSS("#persona-integration-registrar")),
	)
	if err != nil {
		t.Fatalf("open the portal: %v", err)
	}
	browsertest.Screenshot(t, ctx, "1-persona-picker")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#persona-integration-registrar")),
		chromedp.WaitVisible(chromedp.CSS(".user-menu summary")),
	); err != nil {
		t.Fatalf("sign in as a persona: %v", err)
	}
	name, err := browsertest.Text(ctx, ".user-menu summary")
	if err != nil || strings.TrimSpace(name) != "Rita Registrar" {
		t.Fatalf("signed-in name %q (%v)", name, err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != base+"/?from=browser-test" {
		t.Errorf("after sign-in the browser is at %q (%v), want the page it asked for", loc, err)
	}
	browsertest.Screenshot(t, ctx, "2-signed-in")

	cookies, err := browsertest.Cookies(ctx, base+"/")
	if err != nil {
		t.Fatal(err)
	}
	var session *http.Cookie
	for _, c := range cookies {
		if c.Name == "portal_session" {
			if !c.HTTPOnly || c.SameSite != "Lax" {
				t.Errorf("session cookie attributes: HttpOnly=%v SameSite=%q", c.HTTPOnly, c.SameSite)
			}
			session = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	if session == nil {
		t.Fatalf("no portal_session cookie among %d cookies", len(cookies))
	}
	if status := getWithCookie(t, base+"/", session); status != http.StatusOK {
		t.Fatalf("the session cookie does not work outside the browser: %d", status)
	}

	// Sign out through the user menu: the portal ends the session, the provider's
	// end-session page sends the browser back to the signed-out page.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(".user-menu summary")),
		chromedp.WaitVisible(chromedp.CSS(".user-menu form button")),
		chromedp.Click(chromedp.CSS(".user-menu form button")),
		chromedp.WaitVisible(chromedp.CSS("#signedout-title")),
	); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+auth.SignedOutPath {
		t.Errorf("after sign-out the browser is at %q", loc)
	}
	browsertest.Screenshot(t, ctx, "3-signed-out")

	if status := getWithCookie(t, base+"/", session); status != http.StatusFound {
		t.Errorf("the old session cookie still works after sign-out: %d, want 302 to sign-in", status)
	}
	// In the browser too, the portal asks for sign-in again.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#persona-admin")),
	); err != nil {
		t.Fatalf("after sign-out the portal did not ask to sign in: %v", err)
	}

	// Someone without a role learns whom to ask; they can still sign out.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#persona-no-role")),
		chromedp.WaitVisible(chromedp.CSS("#norole-title")),
	); err != nil {
		t.Fatalf("sign in without a role: %v", err)
	}
	if contact, err := browsertest.Text(ctx, "#role-contact"); err != nil || !strings.Contains(contact, "Ada Admin") {
		t.Errorf("no-role page names %q as the contact (%v)", contact, err)
	}
	browsertest.Screenshot(t, ctx, "4-no-role")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(".user-menu summary")),
		chromedp.Click(chromedp.CSS(".user-menu form button")),
		chromedp.WaitVisible(chromedp.CSS("#signedout-title")),
		// Someone in too many groups learns what the administrator should configure.
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.Click(chromedp.CSS("#persona-groups-overage")),
		chromedp.WaitVisible(chromedp.CSS("#overage-title")),
	); err != nil {
		t.Fatalf("sign in with groups overage: %v", err)
	}
	browsertest.Screenshot(t, ctx, "5-groups-overage")
}

// getWithCookie requests url with only the given cookie, without following redirects.
func getWithCookie(t *testing.T, url string, c *http.Cookie) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(c)
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
