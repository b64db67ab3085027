package devidp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// SignIn signs in as a persona without a browser, through the same redirects a browser
// follows: GET signInURL (the portal's sign-in address) up to the persona page, choose the
// persona, and follow the redirects back through the portal's callback. client must have a
// cookie jar. It returns the last response (its body unread) for the caller to check.
func SignIn(ctx context.Context, client *http.Client, signInURL, personaID string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, signInURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("devidp: open sign-in: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	page := resp.Request.URL
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(page.Path, "/oauth2/v2.0/authorize") {
		return nil, fmt.Errorf("%w: ended at %s with status %d", ErrNotSignInPage, page.Redacted(), resp.StatusCode)
	}
	form := url.Values{"persona": {personaID}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, page.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("devidp: choose persona: %w", err)
	}
	return resp, nil
}
