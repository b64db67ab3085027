package dataverse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// APIPath is the Web API root every request goes under.
const APIPath = "/api/data/v9.2/"

// MaxPageSize is the largest page Dataverse serves (and its default).
const MaxPageSize = 5000

// Options configure a Client. Credential is required; the rest have production defaults.
type Options struct {
	// Credential obtains tokens for the scope "<environment URL>/.default".
	Credential azcore.TokenCredential
	// HTTPClient sends the requests; nil means a client with sensible transport timeouts.
	// Redirects are never followed (a redirect could carry the bearer token elsewhere).
	HTTPClient *http.Client
	// AllowHTTP accepts an http:// environment URL. Only for tests and the local emulator:
	// bearer tokens would travel in clear.
	AllowHTTP bool
	// Retry bounds the retries of throttled and failed calls; zero fields take defaults.
	Retry RetryPolicy
	// UserAgent is sent with every request; empty means "sbportal".
	UserAgent string
	// Sleep waits between retries; nil means a timer that stops when ctx ends. Tests set it to
	// record the waits the client asked for.
	Sleep func(ctx context.Context, d time.Duration) error
	// Observe, when set, is told of every HTTP request sent to the Web API (each attempt of a
	// retried call, not token requests), for metrics. It runs on the caller's goroutine: keep
	// it quick.
	Observe func(Attempt)
}

// Attempt is one HTTP request to the Web API as Options.Observe sees it. It holds no URL, body
// or header: nothing that could carry an id or a secret.
type Attempt struct {
	Method string
	// Status is the answer's status code; 0 when no answer came (network failure, timeout,
	// cancellation).
	Status int
	// Duration is from sending the request until the answer's headers arrived (or it failed).
	Duration time.Duration
}

// DefaultMaxWait is RetryPolicy.MaxWait's default.
const DefaultMaxWait = 5 * time.Second

// RetryPolicy bounds how a Client retries 429, 502, 503, 504 and lost connections.
type RetryPolicy struct {
	// MaxAttempts is the number of requests sent at most, first included (default 5; 1
	// disables retries).
	MaxAttempts int
	// MaxWait is the total time spent waiting between attempts (default 5s). A Retry-After
	// that would exceed it ends the call with a Throttled error instead of waiting: a person
	// is told at once, and background work (the catalog) waits out Retry-After itself. Short,
	// so that a failure is named while a page still waits for it.
	MaxWait time.Duration
	// BaseDelay is the first backoff when the server gave no Retry-After (default 500ms);
	// it doubles per attempt up to MaxDelay (default 10s), with jitter.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultMaxWait
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 10 * time.Second
	}
	return p
}

// Client calls one Dataverse environment's Web API. It is safe for concurrent use.
type Client struct {
	envURL    string // scheme://host[:port], no trailing slash
	origin    *url.URL
	api       string // envURL + APIPath
	scope     string
	cred      azcore.TokenCredential
	hc        *http.Client
	retry     RetryPolicy
	sleep     func(ctx context.Context, d time.Duration) error
	userAgent string
	observe   func(Attempt)

	tokMu sync.Mutex
	tok   azcore.AccessToken
}

// New returns a Client for the environment at environmentURL, e.g.
// "https://contoso.crm4.dynamics.com". The URL must be an origin (no path, query or fragment).
func New(environmentURL string, opts Options) (*Client, error) {
	u, err := ParseEnvironmentURL(environmentURL, opts.AllowHTTP)
	if err != nil {
		return nil, err
	}
	if opts.Credential == nil {
		return nil, errors.New("dataverse: new client: a credential is required (see EnvironmentConfig.Credential)")
	}
	hc := defaultHTTPClient()
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		hc = &c
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	env := u.Scheme + "://" + u.Host
	c := &Client{
		envURL:    env,
		origin:    u,
		api:       env + APIPath,
		scope:     env + "/.default",
		cred:      opts.Credential,
		hc:        hc,
		retry:     opts.Retry.withDefaults(),
		sleep:     opts.Sleep,
		userAgent: opts.UserAgent,
		observe:   opts.Observe,
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.userAgent == "" {
		c.userAgent = "sbportal"
	}
	return c, nil
}

// ParseEnvironmentURL checks that s is a Dataverse environment URL: https (http only when
// allowHTTP), a host, and nothing after it but an optional "/".
func ParseEnvironmentURL(s string, allowHTTP bool) (*url.URL, error) {
	const example = "https://contoso.crm.dynamics.com"
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("dataverse: environment URL %q is not an absolute URL; set it like %s", s, example)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP {
			return nil, fmt.Errorf("dataverse: environment URL %q uses http; Dataverse is only reachable over https (like %s); plain http is allowed only for local emulators", s, example)
		}
	default:
		return nil, fmt.Errorf("dataverse: environment URL %q must start with https://, like %s", s, example)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("dataverse: environment URL %q must be only the scheme and host, like %s (the client adds %s itself)", s, example, APIPath)
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
}

// URL is the environment URL, e.g. "https://contoso.crm4.dynamics.com".
func (c *Client) URL() string { return c.envURL }

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 2 * time.Minute
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: t}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request is one logical Web API call, possibly sent several times.
type request struct {
	op     string // for errors: "get serviceendpoint <id>"
	method string
	url    string // absolute
	body   []byte // JSON or nil
	header map[string]string
	// safe says whether sending the request again cannot change the outcome.
	safe bool
}

// token returns a bearer token for the environment, reusing it until shortly before expiry.
func (c *Client) token(ctx context.Context) (string, error) {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	now := time.Now()
	if c.tok.Token != "" && now.Add(2*time.Minute).Before(c.tok.ExpiresOn) &&
		(c.tok.RefreshOn.IsZero() || now.Before(c.tok.RefreshOn)) {
		return c.tok.Token, nil
	}
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return "", err
	}
	c.tok = tok
	return tok.Token, nil
}

// forgetToken drops a token Dataverse refused, so the next call asks the credential again.
func (c *Client) forgetToken(token string) {
	c.tokMu.Lock()
	if c.tok.Token == token {
		c.tok = azcore.AccessToken{}
	}
	c.tokMu.Unlock()
}

// send runs r with retries and returns a 2xx response whose body the caller must close, or an
// error: *Error for Dataverse and transport failures, or the context's error wrapped with the
// operation.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	var (
		waited   time.Duration
		last     *Error
		reauthed bool
	)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("dataverse: %s: %w", r.op, err)
		}
		tok, err := c.token(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("dataverse: %s: %w", r.op, ctx.Err())
			}
			return nil, &Error{Kind: Unauthorized, Op: r.op, Attempts: attempt - 1,
				Message: "could not obtain an access token for " + c.scope, Err: err}
		}
		resp, err := c.do(ctx, r, tok)
		var delay time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("dataverse: %s: %w", r.op, ctx.Err())
			}
			last = &Error{Kind: Unavailable, Op: r.op, Message: "no answer from " + c.envURL, Err: err, url: c.envURL}
			if !r.safe || retryCannotHelp(err) {
				last.Attempts = attempt
				return nil, last
			}
			delay = c.backoff(attempt)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return resp, nil
		default:
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			e := errorFromResponse(r.op, resp.StatusCode, resp.Header, body)
			e.Attempts = attempt
			if resp.StatusCode == http.StatusUnauthorized && !reauthed && r.safe {
				// The token may have been revoked or the environment rotated keys: one fresh
				// token is worth a try; a second refusal is final.
				reauthed = true
				c.forgetToken(tok)
				last = e
				continue
			}
			if !r.safe || !retryableStatus(resp.StatusCode) {
				return nil, e
			}
			last = e
			if e.RetryAfter > 0 {
				delay = e.RetryAfter
			} else {
				delay = c.backoff(attempt)
			}
		}
		if attempt >= c.retry.MaxAttempts || waited+delay > c.retry.MaxWait {
			last.Attempts = attempt
			return nil, last
		}
		// Jitter on top (never below Retry-After), so throttled clients do not return in step.
		delay += rand.N(delay/10 + 50*time.Millisecond)
		if err := c.sleep(ctx, delay); err != nil {
			// Keep why we were waiting: "context deadline exceeded" alone says too little.
			return nil, fmt.Errorf("dataverse: %s: %w (while waiting to retry after: %s)", r.op, err, last.withoutOp())
		}
		waited += delay
	}
}

// do sends one attempt.
func (c *Client) do(ctx context.Context, r request, token string) (*http.Response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+token)
	h.Set("Accept", "application/json")
	h.Set("OData-MaxVersion", "4.0")
	h.Set("OData-Version", "4.0")
	h.Set("User-Agent", c.userAgent)
	if r.body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	for k, v := range r.header {
		h.Set(k, v)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if c.observe != nil {
		a := Attempt{Method: r.method, Duration: time.Since(start)}
		if resp != nil {
			a.Status = resp.StatusCode
		}
		c.observe(a)
	}
	if err != nil {
		// *url.Error repeats the URL, which holds no secrets; keep only the cause to stay short.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	return resp, nil
}

func retryableStatus(s int) bool {
	return s == http.StatusTooManyRequests || s == http.StatusBadGateway ||
		s == http.StatusServiceUnavailable || s == http.StatusGatewayTimeout
}

// backoff is the exponential delay before attempt+1 when the server named none.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.retry.BaseDelay << (attempt - 1)
	if d > c.retry.MaxDelay || d <= 0 {
		d = c.retry.MaxDelay
	}
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// getJSON runs a safe GET and decodes the answer into v.
func (c *Client) getJSON(ctx context.Context, op, u string, v any) error {
	return c.get(ctx, op, u, func(dec *json.Decoder) error { return dec.Decode(v) })
}

// get runs a safe GET and reads the answer with decode.
func (c *Client) get(ctx context.Context, op, u string, decode func(*json.Decoder) error) error {
	resp, err := c.send(ctx, request{op: op, method: http.MethodGet, url: u, safe: true})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := decode(json.NewDecoder(resp.Body)); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("dataverse: %s: %w", op, ctx.Err())
		}
		return &Error{Kind: Unknown, Op: op, Status: resp.StatusCode, Message: "could not read Dataverse's answer", Err: err}
	}
	return nil
}

// WhoAmI is Dataverse's answer to WhoAmI: who the portal is in that environment.
type WhoAmI struct {
	BusinessUnitID string `json:"BusinessUnitId"`
	UserID         string `json:"UserId"`
	OrganizationID string `json:"OrganizationId"`
}

// WhoAmI asks the environment who the portal's application user is; it proves the token,
// the application user and the network path all work.
func (c *Client) WhoAmI(ctx context.Context) (WhoAmI, error) {
	var w WhoAmI
	err := c.getJSON(ctx, "WhoAmI", c.api+"WhoAmI", &w)
	return w, err
}

// sameOrigin reports whether link points at this environment (nextLink is followed as is,
// but never to another host: the bearer token goes with it).
func (c *Client) sameOrigin(link string) bool {
	u, err := url.Parse(link)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Host)
	if host == c.origin.Host {
		return u.Scheme == c.origin.Scheme
	}
	// Accept an explicit default port.
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		return false
	}
	return u.Scheme == c.origin.Scheme && h == c.origin.Host &&
		((p == "443" && u.Scheme == "https") || (p == "80" && u.Scheme == "http"))
}
