package servicebus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/servicebus/emulator"
)

// closedPort is a loopback port nothing listens on: connecting is refused, as when a firewall
// rejects port 5671.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// webSocketEmulator serves a production-shaped namespace over TLS: AMQPS on one port and AMQP
// over WebSockets on another. It returns both ports and a pool trusting its certificate.
func webSocketEmulator(t *testing.T, host string) (srv *emulator.Server, amqps, wss int, pool *x509.CertPool) {
	t.Helper()
	srvTLS, cert, err := emulator.SelfSignedTLS(host)
	if err != nil {
		t.Fatal(err)
	}
	srv, addr := startEmulator(t, testConfig(), emulator.Options{TLS: srvTLS})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeWebSocket(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, emulator.ErrServerClosed) {
			t.Errorf("ServeWebSocket: %v", err)
		}
	})
	_, port, _ := net.SplitHostPort(addr)
	amqps, _ = strconv.Atoi(port)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return srv, amqps, ln.Addr().(*net.TCPAddr).Port, pool
}

// TestWebSocketFallbackWhenAMQPPortIsBlocked: where port 5671 is blocked, the probe reaches the
// namespace over WebSockets on 443 and says so; with 5671 open it uses AMQP and says that.
func TestWebSocketFallbackWhenAMQPPortIsBlocked(t *testing.T) {
	const host = "sbemulatorns.servicebus.windows.net"
	srv, amqps, wss, pool := webSocketEmulator(t, host)
	dns := newFakeDNS().set(host, "127.0.0.1")
	prober := func(amqpsPort int) *Prober {
		return NewProber(Options{Policy: DevelopmentPolicy(), Resolver: dns, Ports: Ports{AMQPS: amqpsPort, HTTPS: wss},
			TLSConfig: &tls.Config{RootCAs: pool}})
	}
	queue := sbEndpoint(host, endpoint.ContractQueue, siblingQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	hub := sbEndpoint(host, endpoint.ContractEventHub, emulator.DefaultEventHub, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	blocked := prober(closedPort(t))
	for _, req := range []Request{{Endpoint: queue}, {Endpoint: queue, Mode: ModeCheck}, {Endpoint: hub}} {
		r := blocked.Probe(context.Background(), req)
		wantPass(t, r)
		if r.Transport != TransportWebSockets || !strings.Contains(r.Proved, "over WebSockets on port "+strconv.Itoa(wss)) ||
			!strings.Contains(r.Proved, "refused") {
			t.Errorf("%s: transport %q, proved %q", req.Endpoint.Contract.Label(), r.Transport, r.Proved)
		}
		assertNoSecret(t, r, emulator.DefaultSendPrimaryKey)
	}
	if got, err := srv.MessageCount(emulator.DefaultNamespace, siblingQueue); err != nil || got != 1 {
		t.Errorf("the queue holds %d messages (%v), want the one sent over WebSockets", got, err)
	}

	r := prober(amqps).Probe(context.Background(), Request{Endpoint: queue})
	wantPass(t, r)
	if r.Transport != TransportAMQP || !strings.Contains(r.Proved, "over AMQP on port "+strconv.Itoa(amqps)) {
		t.Errorf("with AMQP open: transport %q, proved %q", r.Transport, r.Proved)
	}

	// Both blocked: the failure says what was tried.
	nothing := NewProber(Options{Policy: DevelopmentPolicy(), Resolver: dns, Ports: Ports{AMQPS: closedPort(t), HTTPS: closedPort(t)}})
	r = nothing.Probe(context.Background(), Request{Endpoint: queue})
	wantCause(t, r, CauseUnreachable)
	if !strings.Contains(r.Summary, "WebSockets") {
		t.Errorf("summary does not say WebSockets were tried: %q", r.Summary)
	}
}

func TestWebSocketConstantsMatchTheEmulator(t *testing.T) {
	if webSocketPath != emulator.WebSocketPath || webSocketSubprotocol != emulator.WebSocketSubprotocol {
		t.Fatal("the probe and the emulator disagree on where AMQP over WebSockets is served")
	}
}

// TestRefusalNamesTheSetting: a namespace refused by the policy is refused with the name of
// the setting that would allow it.
func TestRefusalNamesTheSetting(t *testing.T) {
	e := sbEndpoint("x", endpoint.ContractQueue, "orders", emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	e.NamespaceAddress = "sb://mybus.servicebus.contoso.internal/"
	r := NewProber(Options{Policy: DefaultPolicy()}).Probe(context.Background(), Request{Endpoint: e})
	wantCause(t, r, CauseHostNotAllowed)
	if !strings.Contains(r.Fix, `"servicebus.contoso.internal" to probes.serviceBusSuffixes`) {
		t.Errorf("unknown suffix: fix %q does not name the setting", r.Fix)
	}

	e.NamespaceAddress = "sb://mybus.servicebus.windows.net/"
	dns := newFakeDNS().set("mybus.servicebus.windows.net", "10.1.2.3")
	r = NewProber(Options{Policy: DefaultPolicy(), Resolver: dns}).Probe(context.Background(), Request{Endpoint: e})
	wantCause(t, r, CauseHostNotAllowed)
	if !strings.Contains(r.Summary, "10.1.2.3") || !strings.Contains(r.Fix, "probes.allowPrivateServiceBus to true") {
		t.Errorf("private address: summary %q, fix %q", r.Summary, r.Fix)
	}

	// Look-alikes and webhooks get no such hint.
	e.NamespaceAddress = "sb://a.b.servicebus.windows.net/"
	if r := NewProber(Options{Policy: DefaultPolicy()}).Probe(context.Background(), Request{Endpoint: e}); strings.Contains(r.Fix, "probes.") {
		t.Errorf("nested label: fix %q names a setting", r.Fix)
	}
}
