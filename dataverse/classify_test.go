package dataverse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/dataverse/emulator"
)

// staticToken is a credential that always has a token: for tests of what happens after it.
type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// failingCall calls WhoAmI on a client for url built with opts and returns its *Error and
// the waits the client asked for.
func failingCall(t *testing.T, url string, opts dataverse.Options) (*dataverse.Error, []time.Duration) {
	t.Helper()
	rec := &sleepRecorder{}
	opts.Credential, opts.Sleep = staticToken{}, rec.sleep
	c, err := dataverse.New(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WhoAmI(context.Background())
	var de *dataverse.Error
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *dataverse.Error", err)
	}
	return de, rec.all()
}

func wantExplained(t *testing.T, de *dataverse.Error, want ...string) {
	t.Helper()
	got := dataverse.Explain(de)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("Explain = %q, want %q", got, w)
		}
	}
}

// TestUntrustedCertificateFailsAtOnce: a certificate the portal does not trust is named as
// such after one attempt, not retried into "no answer in time".
func TestUntrustedCertificateFailsAtOnce(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	de, waits := failingCall(t, srv.URL, dataverse.Options{})
	if de.Cause() != dataverse.CauseTLS || de.Attempts != 1 || len(waits) != 0 {
		t.Fatalf("cause %q after %d attempts and waits %v, want tls after 1 attempt", de.Cause(), de.Attempts, waits)
	}
	wantExplained(t, de, "does not trust "+srv.URL, "authority the portal does not trust", "Retrying will not help")
}

func TestUnknownHostFailsAtOnce(t *testing.T) {
	tr := &http.Transport{DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}}
	de, waits := failingCall(t, "https://contoso-typo.crm.dynamics.com", dataverse.Options{HTTPClient: &http.Client{Transport: tr}})
	if de.Cause() != dataverse.CauseDNS || de.Attempts != 1 || len(waits) != 0 {
		t.Fatalf("cause %q after %d attempts, want dns after 1", de.Cause(), de.Attempts)
	}
	wantExplained(t, de, "does not exist in DNS", "environment URL")
}

func TestRefusedConnectionIsNamed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	de, waits := failingCall(t, "http://"+addr, dataverse.Options{AllowHTTP: true, Retry: dataverse.RetryPolicy{MaxAttempts: 2}})
	if de.Cause() != dataverse.CauseRefused || len(waits) != 1 {
		t.Fatalf("cause %q with waits %v, want refused after one retry", de.Cause(), waits)
	}
	wantExplained(t, de, "connection refused", "port 443")
}

// TestSustainedThrottlingEndsWithinBudget: a Dataverse that keeps answering 429 is reported
// as throttling (with its Retry-After) after a few seconds of waiting, not after a minute.
func TestSustainedThrottlingEndsWithinBudget(t *testing.T) {
	s := newStack(t)
	s.org.InjectFault(emulator.Fault{Status: 429, RetryAfter: 2 * time.Second, Times: -1})
	_, err := s.client.WhoAmI(context.Background())
	var de *dataverse.Error
	if !errors.As(err, &de) || de.Cause() != dataverse.CauseThrottled || de.RetryAfter != 2*time.Second {
		t.Fatalf("err = %v, want throttled with Retry-After 2s", err)
	}
	var waited time.Duration
	for _, w := range s.sleeps.all() {
		waited += w
	}
	if waited > dataverse.DefaultMaxWait {
		t.Fatalf("waited %v in all, more than %v", waited, dataverse.DefaultMaxWait)
	}
	wantExplained(t, de, "throttling", "Try again in 2s")
}

func TestExpiredSecretIsExplained(t *testing.T) {
	expired := &dataverse.Error{Kind: dataverse.Unauthorized, Err: errors.New(`{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app 'x' are expired."}`)}
	wantExplained(t, expired, "AADSTS7000222", "client secret has expired", "Certificates & secrets", "Retrying will not help")
}

// TestErrorLogsItsCause: a logged *Error carries its cause, status and explanation as fields.
func TestErrorLogsItsCause(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	var err error = &dataverse.Error{Kind: dataverse.Throttled, Op: "list serviceendpoints", Status: 429, Code: "0x80072322", RetryAfter: 30 * time.Second, Attempts: 2}
	log.Warn("refresh failed", "err", err)
	var line struct {
		Err map[string]any `json:"err"`
	}
	if e := json.Unmarshal(buf.Bytes(), &line); e != nil {
		t.Fatal(e)
	}
	if line.Err["cause"] != "throttled" || line.Err["status"] != float64(429) || line.Err["retry_after"] == nil ||
		!strings.Contains(line.Err["explain"].(string), "Try again in 30s") {
		t.Fatalf("logged %s", buf.String())
	}
}
