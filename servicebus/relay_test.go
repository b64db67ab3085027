package servicebus

import (
	"context"
	"crypto/hmac"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

const (
	relayHost      = "myrelay.servicebus.windows.net"
	relaySendKey   = "RelaySendKeyRelaySendKeyRelaySendKeyRelay12="
	relayListenKey = "RelayListenKeyRelayListenKeyRelayListenKey="
)

// relayStandIn is an HTTPS server that answers like Azure Relay's HTTP sender endpoint: it
// checks the SAS token in ServiceBusAuthorization (signature, expiry, resource, Send right)
// and answers 401, 403, 404, 503 (no listener) or 200 (a listener took the request).
type relayStandIn struct {
	srv       *httptest.Server
	port      int
	pool      *tls.Config
	delivered atomic.Int32
	lastHdr   atomic.Value
}

func startRelay(t *testing.T) *relayStandIn {
	t.Helper()
	cert, pool := testCert(t, relayHost)
	policies := map[string]struct {
		key  string
		send bool
	}{"RelaySend": {relaySendKey, true}, "RelayListen": {relayListenKey, false}}
	listening := map[string]bool{"orders": true, "idle": false}

	rs := &relayStandIn{}
	rs.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		tok, err := endpoint.ParseSASToken(r.Header.Get("ServiceBusAuthorization"))
		if err != nil {
			http.Error(w, "MalformedToken", http.StatusUnauthorized)
			return
		}
		pol, ok := policies[tok.KeyName]
		sr := strings.ToLower(url.QueryEscape(tok.Resource))
		se := strconv.FormatInt(tok.Expiry.Unix(), 10)
		if !ok || !hmac.Equal([]byte(endpoint.SASSignature(sr, se, endpoint.NewSecret(pol.key))), []byte(tok.Signature)) {
			http.Error(w, "InvalidSignature: The token has an invalid signature.", http.StatusUnauthorized)
			return
		}
		if tok.Expired(time.Now()) {
			http.Error(w, "ExpiredToken: The token is expired.", http.StatusUnauthorized)
			return
		}
		path := strings.Trim(r.URL.Path, "/")
		if !tok.Covers("https://" + r.Host + "/" + path) {
			http.Error(w, "InvalidAudience: The token's audience does not match.", http.StatusUnauthorized)
			return
		}
		listener, exists := listening[path]
		switch {
		case !exists:
			http.Error(w, "Endpoint not found.", http.StatusNotFound)
		case !pol.send:
			http.Error(w, "Unauthorized access. 'Send' claim(s) are required to perform this operation.", http.StatusForbidden)
		case !listener:
			http.Error(w, "No service is hosted at the specified address.", http.StatusServiceUnavailable)
		default:
			rs.delivered.Add(1)
			rs.lastHdr.Store(r.Header.Clone())
			w.WriteHeader(http.StatusOK)
		}
	}))
	rs.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	rs.srv.StartTLS()
	t.Cleanup(rs.srv.Close)
	_, port, _ := net.SplitHostPort(rs.srv.Listener.Addr().String())
	rs.port, _ = strconv.Atoi(port)
	rs.pool = &tls.Config{RootCAs: pool}
	return rs
}

func (rs *relayStandIn) prober() *Prober {
	return NewProber(Options{Policy: DevelopmentPolicy(), Resolver: newFakeDNS().set(relayHost, "127.0.0.1"),
		Ports: Ports{HTTPS: rs.port}, TLSConfig: rs.pool})
}

func relayEndpoint(c endpoint.Contract, path, policy, key string) endpoint.ServiceEndpoint {
	return endpoint.ServiceEndpoint{Name: "relay", Contract: c, NamespaceAddress: "https://" + relayHost + "/", SolutionNamespace: "myrelay",
		Path: path, AuthType: endpoint.AuthTypeSASKey, SASKeyName: policy, SASKey: endpoint.NewSecret(key), MessageFormat: endpoint.MessageFormatTextXML}
}

func TestRelaySend(t *testing.T) {
	rs := startRelay(t)
	r := rs.prober().Probe(context.Background(), Request{Endpoint: relayEndpoint(endpoint.ContractOneWay, "orders", "RelaySend", relaySendKey)})
	wantPass(t, r)
	assertNoSecret(t, r, relaySendKey)
	if rs.delivered.Load() != 1 || hasWarning(r, WarnListenNotProved) {
		t.Fatalf("delivered %d, warnings %v", rs.delivered.Load(), r.Warnings)
	}
	h := rs.lastHdr.Load().(http.Header)
	if h.Get("Content-Type") != "application/xml" || h.Get(ValidationProperty) != "true" {
		t.Errorf("relay request headers: %v", h)
	}

	// Two-way: Send is proved, Listen cannot be over HTTPS and is flagged.
	r = rs.prober().Probe(context.Background(), Request{Endpoint: relayEndpoint(endpoint.ContractTwoWay, "orders", "RelaySend", relaySendKey)})
	wantPass(t, r)
	if !hasWarning(r, WarnListenNotProved) {
		t.Errorf("two-way relay should warn that Listen is not proved: %v", r.Warnings)
	}

	// SAS token authentication.
	tok := endpoint.SignSAS("https://"+relayHost+"/orders", "RelaySend", endpoint.NewSecret(relaySendKey), time.Now().Add(time.Hour))
	e := relayEndpoint(endpoint.ContractRest, "orders", "", "")
	e.AuthType, e.SASToken = endpoint.AuthTypeSASToken, tok
	r = rs.prober().Probe(context.Background(), Request{Endpoint: e})
	wantPass(t, r)
	assertNoSecret(t, r, tok.Reveal())
}

func TestRelayCauses(t *testing.T) {
	rs := startRelay(t)
	expired := endpoint.SignSAS("https://"+relayHost+"/orders", "RelaySend", endpoint.NewSecret(relaySendKey), time.Now().Add(-time.Hour))
	expiredEndpoint := relayEndpoint(endpoint.ContractOneWay, "orders", "", "")
	expiredEndpoint.AuthType, expiredEndpoint.SASToken = endpoint.AuthTypeSASToken, expired
	cases := []struct {
		name string
		e    endpoint.ServiceEndpoint
		want Cause
	}{
		{"wrong key", relayEndpoint(endpoint.ContractOneWay, "orders", "RelaySend", relayListenKey), CauseWrongKey},
		{"policy without Send", relayEndpoint(endpoint.ContractOneWay, "orders", "RelayListen", relayListenKey), CauseMissingSend},
		{"expired token", expiredEndpoint, CauseTokenExpired},
		{"unknown relay", relayEndpoint(endpoint.ContractOneWay, "nothing-here", "RelaySend", relaySendKey), CauseEntityNotFound},
		{"no listener", relayEndpoint(endpoint.ContractTwoWay, "idle", "RelaySend", relaySendKey), CauseNoListener},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rs.prober().Probe(context.Background(), Request{Endpoint: tc.e})
			wantCause(t, r, tc.want)
			assertNoSecret(t, r, relaySendKey, relayListenKey, expired.Reveal())
		})
	}
	if rs.delivered.Load() != 0 {
		t.Fatalf("failed probes delivered %d requests", rs.delivered.Load())
	}

	// Check mode sends nothing to a relay.
	r := rs.prober().Probe(context.Background(), Request{Endpoint: relayEndpoint(endpoint.ContractOneWay, "orders", "RelaySend", relaySendKey), Mode: ModeCheck})
	wantCause(t, r, CauseModeUnsupported)

	// A relay address outside Service Bus is refused before dialling.
	e := relayEndpoint(endpoint.ContractOneWay, "orders", "RelaySend", relaySendKey)
	e.NamespaceAddress = "https://myrelay.servicebus.windows.net.evil.example/"
	wantCause(t, rs.prober().Probe(context.Background(), Request{Endpoint: e}), CauseHostNotAllowed)

	if rs.delivered.Load() != 0 {
		t.Fatalf("refused probes delivered %d requests", rs.delivered.Load())
	}
}
