package servicebus

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/contoso/sbportal/endpoint"
)

func TestNamespaceAddressPolicy(t *testing.T) {
	prod := NewProber(Options{Policy: DefaultPolicy()})
	dev := NewProber(Options{Policy: DevelopmentPolicy()})
	cases := []struct {
		address  string
		emulator bool
		prod     bool // allowed by the production policy
		dev      bool // allowed by the development policy
	}{
		{"sb://mybus.servicebus.windows.net/", false, true, true},
		{"sb://MyBus.ServiceBus.Windows.NET", false, true, true},
		{"sb://mybus.servicebus.usgovcloudapi.net/", false, true, true},
		{"sb://mybus.servicebus.chinacloudapi.cn/", false, true, true},
		{"sb://mybus.servicebus.cloudapi.de/", false, false, false}, // retired cloud
		{"sb://mybus.servicebus.windows.net.evil.example/", false, false, false},
		{"sb://mybus.servicebus.windows.net./", false, false, false},
		{"sb://a.b.servicebus.windows.net/", false, false, false},
		{"sb://servicebus.windows.net/", false, false, false},
		{"sb://.servicebus.windows.net/", false, false, false},
		{"sb://-bus.servicebus.windows.net/", false, false, false},
		{"sb://my_bus.servicebus.windows.net/", false, false, false},
		{"sb://evilservicebus.windows.net/", false, false, false},
		{"sb://user@mybus.servicebus.windows.net/", false, false, false},
		{"sb://mybus.servicebus.windows.net@evil.example/", false, false, false},
		{"sb://mybus.servicebus.windows.net:8080/", false, false, false},
		{"https://mybus.servicebus.windows.net/", false, false, false}, // wrong scheme for a queue
		{"sb://10.0.0.4/", false, false, false},
		{"sb://169.254.169.254/", false, false, false},
		{"sb://[fd00::1]/", false, false, false},
		{"sb://127.0.0.1:5671/", false, false, true},
		{"sb://localhost:5671/", false, false, true},
		{"sb://[::1]:5671/", false, false, true},
		{"sb://127.0.0.1:5672/", true, false, true},
		{"sb://localhost:5672", true, false, true},
		{"sb://localhost", true, false, true},
		{"sb://emulator.example:5672/", true, false, false}, // an emulator must be local
		{"sb://mybus.servicebus.windows.net/", true, false, false},
		{"mybus.servicebus.windows.net", false, false, false},
		{"", false, false, false},
	}
	for _, tc := range cases {
		for _, pc := range []struct {
			name  string
			p     *Prober
			allow bool
		}{{"prod", prod, tc.prod}, {"dev", dev, tc.dev}} {
			_, err := pc.p.checkNamespaceAddress(tc.address, tc.emulator, "sb")
			var refused *hostRefusedError
			if got := err == nil; got != pc.allow {
				t.Errorf("%s policy, %q (emulator=%v): allowed=%v, want %v (err %v)", pc.name, tc.address, tc.emulator, got, pc.allow, err)
			} else if err != nil && !errors.As(err, &refused) {
				t.Errorf("%q: error %T is not a hostRefusedError", tc.address, err)
			}
		}
	}
}

func TestAddressProblem(t *testing.T) {
	cases := []struct {
		addr          string
		allowed       bool // with loopback not allowed
		allowedWithLB bool
	}{
		{"8.8.8.8", true, true},
		{"20.38.0.1", true, true},
		{"2606:4700::1111", true, true},
		{"127.0.0.1", false, true},
		{"127.9.9.9", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"10.1.2.3", false, false},
		{"172.16.0.1", false, false},
		{"172.31.255.255", false, false},
		{"192.168.1.1", false, false},
		{"100.64.0.1", false, false},
		{"100.127.255.254", false, false},
		{"169.254.169.254", false, false},
		{"169.254.1.1", false, false},
		{"168.63.129.16", false, false},
		{"fd00:ec2::254", false, false},
		{"fc00::1", false, false},
		{"fd12:3456::1", false, false},
		{"fe80::1", false, false},
		{"::", false, false},
		{"0.0.0.0", false, false},
		{"0.1.2.3", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"255.255.255.255", false, false},
		{"::ffff:10.0.0.1", false, false},
		{"64:ff9b::a00:1", false, false},   // NAT64 of 10.0.0.1
		{"64:ff9b::808:808", true, true},   // NAT64 of 8.8.8.8
		{"2002:a9fe:a9fe::", false, false}, // 6to4 of 169.254.169.254
		{"198.18.0.1", false, false},
		{"192.0.2.1", false, false},
	}
	for _, tc := range cases {
		a := netip.MustParseAddr(tc.addr)
		if got := addressProblem(a, false) == ""; got != tc.allowed {
			t.Errorf("%s: allowed=%v, want %v (%q)", tc.addr, got, tc.allowed, addressProblem(a, false))
		}
		if got := addressProblem(a, true) == ""; got != tc.allowedWithLB {
			t.Errorf("%s with loopback allowed: allowed=%v, want %v", tc.addr, got, tc.allowedWithLB)
		}
	}
}

// TestWebhookSSRF probes webhooks whose names resolve to places a probe must not reach. Each
// hostile name points at a live loopback server, so a probe that dialled would be seen.
func TestWebhookSSRF(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dns := newFakeDNS().
		set("loopback.example", "127.0.0.1").
		set("mixed.example", "8.8.8.8,127.0.0.1").
		set("private.example", "10.0.0.7").
		set("metadata.example", "169.254.169.254").
		set("v6local.example", "::1").
		set("ula.example", "fd00::1").
		set("mapped.example", "::ffff:127.0.0.1").
		set("mybus.servicebus.windows.net", "127.0.0.1")
	prod := NewProber(Options{Policy: DefaultPolicy(), Resolver: dns})
	cases := []struct {
		name string
		url  string
	}{
		{"name resolving to 127.0.0.1", "http://loopback.example/hook"},
		{"name with a public and a loopback address", "https://mixed.example/hook"},
		{"name resolving to a private address", "http://private.example/hook"},
		{"name resolving to the metadata service", "http://metadata.example/latest/meta-data"},
		{"name resolving to ::1", "http://v6local.example/"},
		{"name resolving to a unique local address", "http://ula.example/"},
		{"name resolving to an IPv4-mapped loopback", "http://mapped.example/"},
		{"loopback literal", "http://127.0.0.1/hook"},
		{"loopback literal on another port", srv.URL + "/hook"},
		{"localhost", "http://localhost/hook"},
		{"a .localhost name", "http://api.localhost/hook"},
		{"metadata literal", "http://169.254.169.254/latest/meta-data/"},
		{"decimal loopback", "http://2130706433/"},
		{"IPv6 loopback literal", "http://[::1]/"},
		{"userinfo trick", "http://mybus.servicebus.windows.net@127.0.0.1/"},
		{"port not 80 or 443", "https://mixed.example:8443/hook"},
		{"not http", "ftp://mixed.example/hook"},
		{"file URL", "file:///etc/passwd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := prod.Probe(context.Background(), Request{Endpoint: webhookEndpoint(tc.url, endpoint.AuthTypeWebhookKey, hookKey)})
			// Refused as a destination; a decimal address may instead not resolve at all,
			// and ftp: or file: are not usable URLs. Never dialled.
			ok := r.Cause == CauseHostNotAllowed ||
				tc.name == "decimal loopback" && r.Cause == CauseDNS ||
				(tc.name == "not http" || tc.name == "file URL") && r.Cause == CauseInvalidEndpoint
			if r.Passed || !ok {
				t.Fatalf("got passed=%v cause=%q (%s), want host-not-allowed", r.Passed, r.Cause, r.Summary)
			}
		})
	}
	// With loopback allowed (dev), any port is fine on loopback but a public address still
	// takes only 80 and 443; the address 8.8.8.8 is refused before any connection is tried.
	dev := NewProber(Options{Policy: DevelopmentPolicy(), Resolver: newFakeDNS().set("public.example", "8.8.8.8")})
	r := dev.Probe(context.Background(), Request{Endpoint: webhookEndpoint("https://public.example:8443/hook", endpoint.AuthTypeWebhookKey, hookKey)})
	wantCause(t, r, CauseHostNotAllowed)
	if !strings.Contains(r.Summary, "8443") {
		t.Errorf("summary should name the port: %q", r.Summary)
	}
	if hits.Load() != 0 {
		t.Fatalf("a refused probe reached the loopback server %d times", hits.Load())
	}
}

// TestDNSRebinding: the name is checked at dial time, on the very addresses dialled, so an
// answer that changes between lookups cannot slip a refused address through. The resolver
// answers loopback first and a private address afterwards: the probe looks up once and
// connects to the loopback server it checked. Reversed, it refuses and never connects.
func TestDNSRebinding(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := strings.Cut(srv.Listener.Addr().String(), ":")

	dns := newFakeDNS().set("rebind.example", "127.0.0.1", "10.0.0.9")
	p := NewProber(Options{Policy: DevelopmentPolicy(), Resolver: dns})
	r := p.Probe(context.Background(), Request{Endpoint: webhookEndpoint("http://rebind.example:"+port+"/", endpoint.AuthTypeWebhookKey, hookKey)})
	wantPass(t, r)
	if dns.count("rebind.example") != 1 || hits.Load() != 1 {
		t.Fatalf("lookups=%d hits=%d, want one lookup and the request on the checked address", dns.count("rebind.example"), hits.Load())
	}

	dns2 := newFakeDNS().set("rebind.example", "10.0.0.9", "127.0.0.1")
	p2 := NewProber(Options{Policy: DevelopmentPolicy(), Resolver: dns2})
	r = p2.Probe(context.Background(), Request{Endpoint: webhookEndpoint("http://rebind.example:"+port+"/", endpoint.AuthTypeWebhookKey, hookKey)})
	wantCause(t, r, CauseHostNotAllowed)
	if !strings.Contains(r.Summary, "10.0.0.9") || !strings.Contains(r.Summary, "private") {
		t.Errorf("summary should name the refused address and why: %q", r.Summary)
	}
	if dns2.count("rebind.example") != 1 || hits.Load() != 1 {
		t.Fatalf("lookups=%d hits=%d after the refused probe", dns2.count("rebind.example"), hits.Load())
	}
}

// TestConnectCheckRefusesAtConnect exercises the socket-level check on its own: a dial that
// somehow skipped the lookup check is still refused when the socket's address is not allowed,
// here a live loopback listener.
func TestConnectCheckRefusesAtConnect(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	d := net.Dialer{Control: connectCheck("sneaky.example", dialRule{})}
	_, err := d.DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	var refused *hostRefusedError
	if !errors.As(err, &refused) || refused.Addr != "127.0.0.1" {
		t.Fatalf("connect to loopback with loopback refused: err %v", err)
	}
	d = net.Dialer{Control: connectCheck("dev.example", dialRule{Loopback: true})}
	c, err := d.DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("connect to loopback with loopback allowed: %v", err)
	}
	c.Close()

	// guard.dial refuses before connecting at all.
	g := &guard{resolver: newFakeDNS()}
	if _, err := g.dial(context.Background(), "127.0.0.1", 9, dialRule{}); !errors.As(err, &refused) {
		t.Fatalf("guard dialled loopback: %v", err)
	}
}

func TestDialRules(t *testing.T) {
	cases := []struct {
		name string
		rule dialRule
		addr string
		port int
		ok   bool
	}{
		{"emulator on loopback", dialRule{Loopback: true, LoopbackOnly: true}, "127.0.0.1", 5672, true},
		{"emulator name on a public address", dialRule{Loopback: true, LoopbackOnly: true}, "8.8.8.8", 5672, false},
		{"emulator name on a private address", dialRule{Loopback: true, LoopbackOnly: true, Private: true}, "10.0.0.1", 5672, false},
		{"private endpoint allowed", dialRule{Private: true}, "10.1.2.3", 5671, true},
		{"private endpoint, IPv6 ULA", dialRule{Private: true}, "fd00::5", 5671, true},
		{"private allowed still refuses metadata", dialRule{Private: true}, "169.254.169.254", 443, false},
		{"private allowed still refuses CGNAT", dialRule{Private: true}, "100.64.1.1", 443, false},
		{"private allowed still refuses loopback", dialRule{Private: true}, "127.0.0.1", 443, false},
		{"private not allowed", dialRule{}, "10.1.2.3", 5671, false},
		{"webhook on 443", dialRule{WebPorts: true}, "8.8.8.8", 443, true},
		{"webhook on 8443", dialRule{WebPorts: true}, "8.8.8.8", 8443, false},
		{"webhook on a loopback port in dev", dialRule{WebPorts: true, Loopback: true}, "127.0.0.1", 8443, true},
	}
	for _, tc := range cases {
		if got := tc.rule.problem(netip.MustParseAddr(tc.addr), tc.port) == ""; got != tc.ok {
			t.Errorf("%s: allowed=%v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestPrivateServiceBusPolicyNeverReachesWebhooks(t *testing.T) {
	pol := DefaultPolicy()
	pol.AllowPrivateServiceBus = true
	dns := newFakeDNS().set("internal.example", "10.0.0.8").set("mybus.servicebus.windows.net", "10.0.0.9")
	p := NewProber(Options{Policy: pol, Resolver: dns})
	r := p.Probe(context.Background(), Request{Endpoint: webhookEndpoint("https://internal.example/hook", endpoint.AuthTypeWebhookKey, hookKey)})
	wantCause(t, r, CauseHostNotAllowed)
	tgt, err := p.checkNamespaceAddress("sb://mybus.servicebus.windows.net/", false, "sb")
	if err != nil || tgt.Rule.problem(netip.MustParseAddr("10.0.0.9"), 5671) != "" {
		t.Fatalf("a private endpoint namespace should be allowed: %v %+v", err, tgt)
	}
}

// TestEmulatorNameMustStayLocal: an emulator endpoint named localhost whose name resolves
// elsewhere is refused before any connection.
func TestEmulatorNameMustStayLocal(t *testing.T) {
	p := NewProber(Options{Policy: DevelopmentPolicy(), Resolver: newFakeDNS().set("localhost", "8.8.8.8")})
	e := sbEndpoint("localhost:5672", endpoint.ContractQueue, "q", "SendOnly", "KLA3tnsqs+FQegvFYT7JIfgfj6KV8SK0hfCIb9VD5Uw=")
	r := p.Probe(context.Background(), Request{Endpoint: e, UseDevelopmentEmulator: true})
	wantCause(t, r, CauseHostNotAllowed)
	if !strings.Contains(r.Summary, "8.8.8.8") {
		t.Errorf("summary should name the refused address: %q", r.Summary)
	}
}
