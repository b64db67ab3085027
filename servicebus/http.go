package servicebus

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// maxResponseBody is how much of an answer a probe reads: enough to classify, never shown.
const maxResponseBody = 8 << 10

// httpAnswer is what came back from one HTTP probe request.
type httpAnswer struct {
	Status int
	Header http.Header
	Body   string // at most maxResponseBody bytes, for classification only: never shown
}

// postOnce sends one POST through a transport that dials only through the guard, follows no
// redirects, uses no proxy and keeps no connection. dialPort, when non-zero, replaces the
// URL's port for the dial (tests point a namespace host at a local stand-in); the URL, the
// Host header and TLS server name stay the real ones. connected reports whether a connection
// was made, for timeout messages.
func (p *Prober) postOnce(ctx context.Context, target string, header http.Header, body []byte, dialPort int, rule dialRule) (httpAnswer, bool, error) {
	var connected atomic.Bool
	transport := &http.Transport{
		Proxy: nil, // a proxy would dial on our behalf, past the guard
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			host, portText, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			port, err := strconv.Atoi(portText)
			if err != nil {
				return nil, err
			}
			if dialPort != 0 {
				port = dialPort
			}
			return p.guard.dial(ctx, host, port, rule)
		},
		TLSClientConfig:        p.tlsConfig(""),
		TLSHandshakeTimeout:    10 * time.Second,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
		ResponseHeaderTimeout:  0, // the probe's context bounds the wait
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { connected.Store(true) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return httpAnswer{}, false, err
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, query (and so a ?code= key) included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return httpAnswer{}, connected.Load(), err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	return httpAnswer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, true, nil
}

// tlsConfig clones Options.TLSConfig for one connection to serverName ("" lets net/http set it).
func (p *Prober) tlsConfig(serverName string) *tls.Config {
	var c *tls.Config
	if p.opts.TLSConfig != nil {
		c = p.opts.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if serverName != "" {
		c.ServerName = serverName
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// probeWebhook POSTs a sample RemoteExecutionContext to the webhook with its authentication, as
// Dataverse would, and classifies the answer by status.
func (p *Prober) probeWebhook(ctx context.Context, req Request) Result {
	e := req.Endpoint
	if req.Mode == ModeCheck {
		return failed(CauseModeUnsupported, "A webhook cannot be checked without sending it a request.",
			"Choose \"send a test message\": the webhook receives one request marked as the portal's validation ("+ValidationProperty+": true).")
	}
	u, err := p.checkWebhookURL(e.URL)
	if err != nil {
		return p.dialFailure(ctx, err, "webhook")
	}
	secret := secretFor(req)
	header := http.Header{}
	query := u.Query()
	var secrets []string
	switch e.AuthType {
	case endpoint.AuthTypeWebhookKey:
		if !secret.IsSet() {
			return invalid("The webhook key is missing.", "Enter the webhook key (for Azure Functions, the function key).")
		}
		query.Set("code", secret.Reveal())
		secrets = append(secrets, secret.Reveal())
	case endpoint.AuthTypeHTTPHeader, endpoint.AuthTypeHTTPQueryString:
		settings, err := endpoint.ParseWebhookSettings(secret)
		if err != nil {
			return invalid("The webhook authentication settings cannot be read: "+err.Error()+".",
				"Enter each name and value again.")
		}
		for _, s := range settings {
			v := s.Value.Reveal()
			secrets = append(secrets, v)
			if strings.ContainsAny(v, "\r\n") {
				return invalid("The value of "+strconv.Quote(s.Name)+" contains a line break.", "Remove the line break from the value.")
			}
			if e.AuthType == endpoint.AuthTypeHTTPHeader {
				if !endpoint.ValidHeaderName(s.Name) {
					return invalid("Header name "+strconv.Quote(s.Name)+" is not valid.", "Use letters, digits and '-' only, e.g. x-api-key.")
				}
				header.Add(s.Name, v)
			} else {
				query.Add(s.Name, v)
			}
		}
	default:
		return invalid("A webhook needs webhook key, HTTP header or HTTP query string authentication, not "+e.AuthType.Label()+".",
			"Choose one of the webhook authentication types.")
	}
	u.RawQuery = query.Encode()
	u.Fragment = ""

	msg := newTestMessage(req)
	for name, values := range msg.Headers {
		header[name] = values
	}
	header.Set("User-Agent", "sbportal-validation/1")
	body := msg.Body

	where := "webhook at " + endpoint.DisplayURL(e.URL)
	rule := dialRule{Loopback: p.opts.Policy.AllowLoopback, WebPorts: true}
	ans, connected, err := p.postOnce(ctx, u.String(), header, body, 0, rule)
	if err != nil {
		if r, ok := p.contextFailure(ctx, "the "+where, connected); ok {
			return r
		}
		r := p.dialFailure(ctx, err, where)
		r.Summary = redact(r.Summary, secrets...)
		return r
	}
	how := strings.TrimSuffix(endpoint.DescribeWebhookAuth(e), ".")
	status := strconv.Itoa(ans.Status) + " " + http.StatusText(ans.Status)
	res := Result{MessageID: msg.ID}
	switch {
	case ans.Status >= 200 && ans.Status < 300:
		res.Passed = true
		res.Proved = "The " + where + " accepted a test request (HTTP " + status + "). " + how + "."
		if msg.Sample {
			res.Proved = "Sent a sample request to the " + where + ", which accepted it (HTTP " + status + "). " + how + "."
		}
	case ans.Status >= 300 && ans.Status < 400:
		loc := endpoint.DisplayURL(ans.Header.Get("Location"))
		res.Cause, res.Summary = CauseWebhookRedirect, "The "+where+" answered HTTP "+status+" (a redirect"
		if loc != "" {
			res.Summary += " to " + redact(loc, secrets...)
		}
		res.Summary += "), which Dataverse does not follow."
		res.Fix = "Register the final URL the request should reach (often https:// instead of http://, or a trailing '/')."
	case ans.Status == http.StatusUnauthorized || ans.Status == http.StatusForbidden:
		res.Cause, res.Summary = CauseWebhookAuth, "The "+where+" refused the test request's credentials (HTTP "+status+"). "+how+"."
		res.Fix = "Check the webhook's authentication: for Azure Functions use a function or host key of this function; for headers or query parameters, their exact names and values."
	case ans.Status == http.StatusNotFound:
		res.Cause, res.Summary = CauseWebhookNotFound, "The "+where+" does not exist on that server (HTTP 404 Not Found)."
		res.Fix = "Check the URL's path (function name, route, API version) and that the service is deployed."
	case ans.Status >= 400 && ans.Status < 500:
		res.Cause, res.Summary = CauseWebhookClientError, "The "+where+" rejected the test request (HTTP "+status+")."
		res.Fix = "The service did not accept a POST of a Dataverse RemoteExecutionContext in JSON: check that it takes POST and JSON bodies and does not require anything else."
	default:
		res.Cause, res.Summary = CauseWebhookServerError, "The "+where+" failed while handling the test request (HTTP "+status+")."
		res.Fix = "Check the service's own logs for the request with x-ms-correlation-request-id " + msg.ID + "; it must answer 2xx to Dataverse's posts."
	}
	return res
}
