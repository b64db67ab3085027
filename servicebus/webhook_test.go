package servicebus

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

const (
	hookKey       = "fnkey-SECRET-0123456789abcdef"
	hookHeaderVal = "hdr-SECRET-42"
	hookQueryVal  = "qs-SECRET-77"
)

func webhookEndpoint(url string, auth endpoint.AuthType, value string) endpoint.ServiceEndpoint {
	return endpoint.ServiceEndpoint{
		Name: "hook", Contract: endpoint.ContractWebhook, URL: url, AuthType: auth,
		AuthValue: endpoint.NewSecret(value), MessageFormat: endpoint.MessageFormatJSON,
	}
}

// recordingHook is a webhook that checks the authentication it receives and answers status
// (200 when the credentials match). It records what Dataverse-like headers and body arrived.
type recordingHook struct {
	calls    atomic.Int32
	lastBody atomic.Value // []byte
	lastHdr  atomic.Value // http.Header
}

func (h *recordingHook) handler(check func(r *http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		h.lastBody.Store(b)
		h.lastHdr.Store(r.Header.Clone())
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if !check(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

func TestWebhookAuthTypesReceivedCorrectly(t *testing.T) {
	cases := []struct {
		name  string
		auth  endpoint.AuthType
		value string
		check func(r *http.Request) bool
	}{
		{"webhook key as ?code=", endpoint.AuthTypeWebhookKey, hookKey,
			func(r *http.Request) bool { return r.URL.Query().Get("code") == hookKey }},
		{"http headers", endpoint.AuthTypeHTTPHeader,
			`<settings><setting name="x-api-key" value="` + hookHeaderVal + `" /><setting name="x-tenant" value="contoso" /></settings>`,
			func(r *http.Request) bool {
				return r.Header.Get("x-api-key") == hookHeaderVal && r.Header.Get("x-tenant") == "contoso" && r.URL.RawQuery == "route=1"
			}},
		{"query string", endpoint.AuthTypeHTTPQueryString,
			`<settings><setting name="apikey" value="` + hookQueryVal + `" /><setting name="env" value="a&amp;b" /></settings>`,
			func(r *http.Request) bool {
				q := r.URL.Query()
				return q.Get("apikey") == hookQueryVal && q.Get("env") == "a&b" && q.Get("route") == "1"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hook := &recordingHook{}
			srv := httptest.NewServer(hook.handler(tc.check))
			defer srv.Close()
			p := NewProber(Options{Policy: DevelopmentPolicy()})
			url := srv.URL + "/api/dataverse"
			if tc.auth != endpoint.AuthTypeWebhookKey {
				url += "?route=1"
			}
			r := p.Probe(context.Background(), Request{Endpoint: webhookEndpoint(url, tc.auth, tc.value), Organization: "contoso.crm.dynamics.com"})
			wantPass(t, r)
			assertNoSecret(t, r, hookKey, hookHeaderVal, hookQueryVal)
			if hook.calls.Load() != 1 {
				t.Fatalf("webhook called %d times, want 1", hook.calls.Load())
			}
			h := hook.lastHdr.Load().(http.Header)
			if h.Get("x-ms-dynamics-organization") != "contoso.crm.dynamics.com" || h.Get("x-ms-dynamics-request-name") != ValidationRequestName ||
				h.Get("x-ms-dynamics-entity-name") == "" || h.Get("x-ms-correlation-request-id") != r.MessageID || h.Get(ValidationProperty) != "true" {
				t.Errorf("Dataverse headers missing or wrong: %v", h)
			}
			var body map[string]any
			if err := json.Unmarshal(hook.lastBody.Load().([]byte), &body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if body["MessageName"] != ValidationRequestName || body["CorrelationId"] != r.MessageID || body["OrganizationName"] != "contoso.crm.dynamics.com" {
				t.Errorf("body is not a marked RemoteExecutionContext: %v", body)
			}
		})
	}
}

func TestWebhookCausesByStatus(t *testing.T) {
	cases := []struct {
		status int
		want   Cause
	}{
		{http.StatusUnauthorized, CauseWebhookAuth},
		{http.StatusForbidden, CauseWebhookAuth},
		{http.StatusNotFound, CauseWebhookNotFound},
		{http.StatusBadRequest, CauseWebhookClientError},
		{http.StatusMethodNotAllowed, CauseWebhookClientError},
		{http.StatusInternalServerError, CauseWebhookServerError},
		{http.StatusBadGateway, CauseWebhookServerError},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, "echo of your key: "+r.URL.Query().Get("code"))
			}))
			defer srv.Close()
			p := NewProber(Options{Policy: DevelopmentPolicy()})
			r := p.Probe(context.Background(), Request{Endpoint: webhookEndpoint(srv.URL+"/api", endpoint.AuthTypeWebhookKey, hookKey)})
			wantCause(t, r, tc.want)
			assertNoSecret(t, r, hookKey)
			if !strings.Contains(r.Summary, srv.URL+"/api") {
				t.Errorf("summary does not name the webhook: %q", r.Summary)
			}
		})
	}
}

func TestWebhookWrongKeyIsRefused(t *testing.T) {
	hook := &recordingHook{}
	srv := httptest.NewServer(hook.handler(func(r *http.Request) bool { return r.URL.Query().Get("code") == hookKey }))
	defer srv.Close()
	p := NewProber(Options{Policy: DevelopmentPolicy()})
	r := p.Probe(context.Background(), Request{Endpoint: webhookEndpoint(srv.URL, endpoint.AuthTypeWebhookKey, "not-the-key-SECRET")})
	wantCause(t, r, CauseWebhookAuth)
	assertNoSecret(t, r, "not-the-key-SECRET")
}

func TestWebhookRedirectIsNotFollowed(t *testing.T) {
	var metadataHits atomic.Int32
	metadata := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { metadataHits.Add(1) }))
	defer metadata.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, metadata.URL+"/latest/meta-data/?token=x", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	p := NewProber(Options{Policy: DevelopmentPolicy()})
	r := p.Probe(context.Background(), Request{Endpoint: webhookEndpoint(srv.URL, endpoint.AuthTypeWebhookKey, hookKey)})
	wantCause(t, r, CauseWebhookRedirect)
	if metadataHits.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
	if strings.Contains(r.Summary, "token=x") {
		t.Errorf("summary shows the redirect's query: %q", r.Summary)
	}
}

func TestWebhookTimeoutWhenServerNeverAnswers(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	p := NewProber(Options{Policy: DevelopmentPolicy(), Timeout: 300 * time.Millisecond})
	r := p.Probe(context.Background(), Request{Endpoint: webhookEndpoint(srv.URL, endpoint.AuthTypeWebhookKey, hookKey)})
	wantCause(t, r, CauseTimeout)
	if !strings.Contains(r.Summary, "Connected") {
		t.Errorf("timeout after connecting should say so: %q", r.Summary)
	}
}

func TestWebhookCancelledByCaller(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	p := NewProber(Options{Policy: DevelopmentPolicy()})
	r := p.Probe(ctx, Request{Endpoint: webhookEndpoint(srv.URL, endpoint.AuthTypeWebhookKey, hookKey)})
	wantCause(t, r, CauseCancelled)
}

func TestWebhookNetworkFailures(t *testing.T) {
	// A port that was just listening and is now closed: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String() + "/hook"
	ln.Close()

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()

	dns := newFakeDNS()
	cases := []struct {
		name string
		url  string
		opts Options
		want Cause
	}{
		{"refused", closedURL, Options{Policy: DevelopmentPolicy()}, CauseUnreachable},
		{"unknown host", "https://no-such-host.example/hook", Options{Policy: DevelopmentPolicy(), Resolver: dns}, CauseDNS},
		{"untrusted certificate", tlsSrv.URL, Options{Policy: DevelopmentPolicy()}, CauseTLS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewProber(tc.opts).Probe(context.Background(), Request{Endpoint: webhookEndpoint(tc.url, endpoint.AuthTypeWebhookKey, hookKey)})
			wantCause(t, r, tc.want)
			assertNoSecret(t, r, hookKey)
		})
	}

	// The same TLS server passes once its certificate is trusted.
	pool := tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	r := NewProber(Options{Policy: DevelopmentPolicy(), TLSConfig: &tls.Config{RootCAs: pool}}).
		Probe(context.Background(), Request{Endpoint: webhookEndpoint(tlsSrv.URL, endpoint.AuthTypeWebhookKey, hookKey)})
	wantPass(t, r)
}

func TestWebhookCheckModeIsRefusedWithoutARequest(t *testing.T) {
	hook := &recordingHook{}
	srv := httptest.NewServer(hook.handler(func(*http.Request) bool { return true }))
	defer srv.Close()
	r := NewProber(Options{Policy: DevelopmentPolicy()}).Probe(context.Background(),
		Request{Endpoint: webhookEndpoint(srv.URL, endpoint.AuthTypeWebhookKey, hookKey), Mode: ModeCheck})
	wantCause(t, r, CauseModeUnsupported)
	if hook.calls.Load() != 0 {
		t.Fatal("check mode sent a request")
	}
}

func TestWebhookBadAuthInput(t *testing.T) {
	cases := []struct {
		name  string
		auth  endpoint.AuthType
		value string
	}{
		{"no key", endpoint.AuthTypeWebhookKey, ""},
		{"broken settings", endpoint.AuthTypeHTTPHeader, "<settings><setting name="},
		{"bad header name", endpoint.AuthTypeHTTPHeader, `<settings><setting name="x y" value="v" /></settings>`},
		{"line break in value", endpoint.AuthTypeHTTPHeader, `<settings><setting name="x" value="a&#10;Injected: 1" /></settings>`},
		{"sas auth on a webhook", endpoint.AuthTypeSASKey, "k"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewProber(Options{Policy: DevelopmentPolicy()}).Probe(context.Background(),
				Request{Endpoint: webhookEndpoint("http://127.0.0.1:1/hook", tc.auth, tc.value)})
			wantCause(t, r, CauseInvalidEndpoint)
		})
	}
}
