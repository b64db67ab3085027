package servicebus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/contoso/sbportal/servicebus/emulator"
)

// fakeDNS is a Resolver for tests: names map to fixed answers, or to a sequence of answers
// (one per lookup, the last repeating) to play DNS rebinding. Unknown names are NXDOMAIN.
type fakeDNS struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	lookups map[string]int
}

func newFakeDNS() *fakeDNS {
	return &fakeDNS{answers: map[string][][]netip.Addr{}, lookups: map[string]int{}}
}

// set gives name one answer per lookup, in order; the last answer repeats.
func (d *fakeDNS) set(name string, answers ...string) *fakeDNS {
	d.mu.Lock()
	defer d.mu.Unlock()
	var seq [][]netip.Addr
	for _, a := range answers {
		var addrs []netip.Addr
		for _, s := range strings.Split(a, ",") {
			addrs = append(addrs, netip.MustParseAddr(s))
		}
		seq = append(seq, addrs)
	}
	d.answers[strings.ToLower(name)] = seq
	return d
}

func (d *fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	host = strings.ToLower(host)
	n := d.lookups[host]
	d.lookups[host]++
	seq, ok := d.answers[host]
	if !ok || len(seq) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return seq[min(n, len(seq)-1)], nil
}

func (d *fakeDNS) count(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lookups[strings.ToLower(name)]
}

// testCert makes a self-signed certificate for hosts (the emulator's own helper) and a pool
// that trusts it.
func testCert(t testing.TB, hosts ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cfg, leaf, err := emulator.SelfSignedTLS(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return cfg.Certificates[0], pool
}

// assertNoSecret fails when any secret appears anywhere in the result.
func assertNoSecret(t *testing.T, r Result, secrets ...string) {
	t.Helper()
	all := fmt.Sprintf("%+v", r)
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("result leaks a secret: %s", all)
		}
	}
}

// wantCause checks a failed result's cause and that it says what to do.
func wantCause(t *testing.T, r Result, want Cause) {
	t.Helper()
	if r.Passed || r.Cause != want {
		t.Fatalf("got passed=%v cause=%q summary=%q, want cause %q", r.Passed, r.Cause, r.Summary, want)
	}
	if r.Summary == "" || r.Fix == "" {
		t.Errorf("cause %q without summary or fix: %+v", want, r)
	}
}

func wantPass(t *testing.T, r Result) {
	t.Helper()
	if !r.Passed {
		t.Fatalf("probe failed: cause=%q summary=%q fix=%q", r.Cause, r.Summary, r.Fix)
	}
	if r.Proved == "" || r.Cause != CauseNone {
		t.Errorf("passed result without Proved or with a cause: %+v", r)
	}
}

func hasWarning(r Result, code WarningCode) bool {
	for _, w := range r.Warnings {
		if w.Code == code {
			return true
		}
	}
	return false
}
