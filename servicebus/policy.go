package servicebus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// Policy says which hosts a probe may dial (server-side request forgery protection): a probe
// runs with the portal's network position, so an endpoint must not be a way to reach the
// portal's own network, its cloud metadata service or anything but Service Bus and public
// webhooks.
type Policy struct {
	// ServiceBusSuffixes are the host suffixes a namespace may have; nil or empty takes the
	// cloud suffixes of endpoint.CloudSuffixes. A namespace host is exactly one label in front
	// of one of them.
	ServiceBusSuffixes []string
	// AllowLoopback lets probes dial loopback addresses (127.0.0.0/8, ::1) on any port, for
	// development and tests. Every other private or special address stays refused.
	AllowLoopback bool
	// AllowDevelopmentEmulator lets probes use UseDevelopmentEmulator endpoints: plain AMQP
	// without TLS to a local emulator, whose host must be localhost or a loopback address.
	AllowDevelopmentEmulator bool
	// AllowPrivateServiceBus lets Service Bus probes reach private addresses (RFC 1918, IPv6
	// unique local): a namespace behind a private endpoint resolves to one. Set it only when
	// the portal runs inside that network. Webhooks never get private addresses, and
	// link-local, metadata and loopback addresses stay refused.
	AllowPrivateServiceBus bool
}

// The portal's configuration settings (PORTAL_CONFIG) that widen the policy. A refusal names
// the one that would allow what it refused, so an operator need not read code to find it.
const (
	SettingServiceBusSuffixes     = "probes.serviceBusSuffixes"
	SettingAllowPrivateServiceBus = "probes.allowPrivateServiceBus"
)

// DefaultPolicy is the production policy: the Azure cloud suffixes, no loopback, no emulator.
func DefaultPolicy() Policy {
	p := Policy{}
	for _, s := range endpoint.CloudSuffixes {
		p.ServiceBusSuffixes = append(p.ServiceBusSuffixes, s.Suffix)
	}
	return p
}

// DevelopmentPolicy is DefaultPolicy plus loopback and the development emulator, as
// `portal dev` and tests use.
func DevelopmentPolicy() Policy {
	p := DefaultPolicy()
	p.AllowLoopback = true
	p.AllowDevelopmentEmulator = true
	return p
}

// hostRefusedError says the policy refuses a host before anything is dialled, or an address
// it resolved to at dial time.
type hostRefusedError struct {
	Host      string
	Addr      string // the resolved address when refused at dial time
	Reason    string
	Malformed bool // the address is not written as one (a mistake, not a refused destination)
	// Allow says which setting would allow the host, when one would ("" otherwise).
	Allow string
}

func (e *hostRefusedError) Error() string {
	if e.Addr != "" {
		return fmt.Sprintf("%s: it resolves to %s, %s", e.Host, e.Addr, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Host, e.Reason)
}

// namespaceTarget is where a Service Bus probe dials.
type namespaceTarget struct {
	Host     string // lower-case host, no port: what TLS verifies and tokens name
	DialPort int
	Emulator bool     // plain AMQP to a local emulator
	Rule     dialRule // which addresses the host may resolve to
}

// checkNamespaceAddress checks a namespace address (sb://host/ or https://host/) against the
// policy before anything is dialled.
func (p *Prober) checkNamespaceAddress(address string, emulator bool, wantScheme string) (namespaceTarget, error) {
	pol := p.opts.Policy
	u, err := url.Parse(strings.TrimSpace(address))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return namespaceTarget{}, &hostRefusedError{Host: address, Reason: "it is not an address such as " + wantScheme + "://mybus.servicebus.windows.net/", Malformed: true}
	}
	if u.User != nil {
		return namespaceTarget{}, &hostRefusedError{Host: u.Hostname(), Reason: "the address carries a user name (text before '@'), which is never part of a namespace address"}
	}
	if !strings.EqualFold(u.Scheme, wantScheme) {
		return namespaceTarget{}, &hostRefusedError{Host: u.Hostname(), Reason: "the address must start with " + wantScheme + "://", Malformed: true}
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if emulator {
		if !pol.AllowDevelopmentEmulator {
			return namespaceTarget{}, &hostRefusedError{Host: host, Reason: "development emulator addresses (UseDevelopmentEmulator) are not allowed on this portal"}
		}
		if !isLoopbackName(host) {
			return namespaceTarget{}, &hostRefusedError{Host: host, Reason: "a development emulator must run on this machine: use localhost or 127.0.0.1"}
		}
		n := 5672
		if port != "" {
			if n, err = strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return namespaceTarget{}, &hostRefusedError{Host: host, Reason: "the port is not a number between 1 and 65535", Malformed: true}
			}
		}
		return namespaceTarget{Host: host, DialPort: n, Emulator: true, Rule: dialRule{Loopback: true, LoopbackOnly: true}}, nil
	}
	dialPort := p.opts.Ports.AMQPS
	if wantScheme == "https" {
		dialPort = p.opts.Ports.HTTPS
	}
	if pol.AllowLoopback && isLoopbackName(host) {
		if port != "" {
			if dialPort, err = strconv.Atoi(port); err != nil || dialPort < 1 || dialPort > 65535 {
				return namespaceTarget{}, &hostRefusedError{Host: host, Reason: "the port is not a number between 1 and 65535", Malformed: true}
			}
		}
		return namespaceTarget{Host: host, DialPort: dialPort, Rule: dialRule{Loopback: true, LoopbackOnly: true}}, nil
	}
	if port != "" {
		return namespaceTarget{}, &hostRefusedError{Host: host, Reason: "a namespace address has no port; remove :" + port}
	}
	if reason := pol.namespaceHostProblem(host); reason != "" {
		refused := &hostRefusedError{Host: host, Reason: reason}
		if suffix, ok := pol.missingSuffix(host); ok {
			refused.Allow = "add \"" + suffix + "\" to " + SettingServiceBusSuffixes + " in PORTAL_CONFIG (and keep the Azure suffixes listed there that you use)"
		}
		return namespaceTarget{}, refused
	}
	return namespaceTarget{Host: host, DialPort: dialPort, Rule: dialRule{Loopback: pol.AllowLoopback, Private: pol.AllowPrivateServiceBus, Namespace: true}}, nil
}

// namespaceHostProblem says why host is not a Service Bus namespace host under the policy's
// suffixes, or "" when it is one. A namespace is exactly one DNS label in front of a suffix, so
// look-alikes such as mybus.servicebus.windows.net.evil.example, a.b.servicebus.windows.net or
// a trailing root dot are refused, as are IP literals.
func (pol Policy) namespaceHostProblem(host string) string {
	if host == "" {
		return "the address names no host"
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return "a namespace is addressed by its name, never by an IP address"
	}
	if strings.HasSuffix(host, ".") {
		return "remove the trailing dot"
	}
	for _, suffix := range pol.ServiceBusSuffixes {
		suffix = strings.ToLower(strings.Trim(suffix, "."))
		label, ok := strings.CutSuffix(host, "."+suffix)
		if !ok {
			continue
		}
		if !validNamespaceLabel(label) {
			return "the namespace name before ." + suffix + " must be one name of letters, digits and hyphens"
		}
		return ""
	}
	return "it is not under an Azure Service Bus domain (" + strings.Join(pol.ServiceBusSuffixes, ", ") + ")"
}

// missingSuffix is the suffix that would make host a namespace host, when host is a
// namespace-shaped name (a label in front of a domain) under none of the policy's suffixes.
func (pol Policy) missingSuffix(host string) (string, bool) {
	label, suffix, ok := strings.Cut(host, ".")
	if !ok || !validNamespaceLabel(label) || !strings.Contains(suffix, ".") || strings.HasSuffix(host, ".") {
		return "", false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return "", false
	}
	for _, s := range pol.ServiceBusSuffixes {
		if strings.HasSuffix(host, "."+strings.ToLower(strings.Trim(s, "."))) {
			return "", false
		}
	}
	return suffix, true
}

// validNamespaceLabel: one DNS label of letters, digits and hyphens, not starting or ending
// with a hyphen (Azure's namespace names are 6-50 such characters; shorter ones are let
// through so the service, not the portal, says whether they exist).
func validNamespaceLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func isLoopbackName(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}

// checkWebhookURL checks a webhook URL before anything is dialled: http or https, no user
// information, port 80 or 443 (any port on a loopback host when the policy allows loopback).
// The addresses are checked at dial time.
func (p *Prober) checkWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return nil, &hostRefusedError{Host: "the URL", Reason: "it is not an absolute http:// or https:// URL", Malformed: true}
	}
	host := strings.ToLower(u.Hostname())
	if u.User != nil {
		return nil, &hostRefusedError{Host: host, Reason: "the URL carries a user name or password (text before '@'); use HTTP header authentication instead"}
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, &hostRefusedError{Host: host, Reason: "only http:// and https:// URLs can be called", Malformed: true}
	}
	if host == "" {
		return nil, &hostRefusedError{Host: "the URL", Reason: "it names no host", Malformed: true}
	}
	// localhost names this machine whatever DNS says (RFC 6761).
	if (host == "localhost" || strings.HasSuffix(host, ".localhost")) && !p.opts.Policy.AllowLoopback {
		return nil, &hostRefusedError{Host: host, Reason: "it names this machine"}
	}
	// With loopback allowed, another port is judged at dial time, when the address is known.
	if port := u.Port(); port != "" && port != "80" && port != "443" && !p.opts.Policy.AllowLoopback {
		return nil, &hostRefusedError{Host: host, Reason: "Dataverse calls webhooks on ports 80 and 443 only, not " + port}
	}
	return u, nil
}

// addressProblem says why a probe must not connect to a, or "" when it may: only public
// unicast addresses, plus loopback when allowed.
func addressProblem(a netip.Addr, allowLoopback bool) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "which is not a valid address"
	case a.IsLoopback():
		if allowLoopback {
			return ""
		}
		return "a loopback address (this machine)"
	case a.IsUnspecified():
		return "the unspecified address"
	case a == netip.AddrFrom4([4]byte{169, 254, 169, 254}) || a == netip.MustParseAddr("fd00:ec2::254"):
		return "the cloud metadata service"
	case a == netip.AddrFrom4([4]byte{168, 63, 129, 16}):
		return "the Azure platform's internal endpoint (WireServer)"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "a link-local address"
	case a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return "a multicast address"
	case a.IsPrivate():
		return "a private network address"
	}
	for _, r := range refusedRanges {
		if r.prefix.Contains(a) {
			return r.why
		}
	}
	// Addresses that embed an IPv4 address (NAT64, 6to4) are judged by the embedded one.
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return addressProblem(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), allowLoopback)
		case sixToFour.Contains(a):
			return addressProblem(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), allowLoopback)
		}
	}
	return ""
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

var refusedRanges = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT (shared) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a protocol-assignment address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
}

// dialRule says which addresses one dial may reach.
type dialRule struct {
	Loopback     bool // loopback addresses are allowed
	LoopbackOnly bool // nothing but loopback: emulators and "localhost" targets
	Private      bool // RFC 1918 and unique local addresses are allowed (Service Bus private endpoints)
	WebPorts     bool // non-loopback addresses only on ports 80 and 443, as Dataverse calls webhooks
	Namespace    bool // a Service Bus namespace: a private address may be allowed by a setting
}

// refusal is the error for an address the rule refuses, naming the setting that would allow a
// namespace's private address.
func (r dialRule) refusal(host string, a netip.Addr, why string) *hostRefusedError {
	e := &hostRefusedError{Host: host, Addr: a.Unmap().String(), Reason: why}
	if r.Namespace && !r.Private && a.Unmap().IsPrivate() {
		e.Allow = "set " + SettingAllowPrivateServiceBus + " to true in PORTAL_CONFIG, if the portal runs in the namespace's network (a private endpoint)"
	}
	return e
}

// problem says why the rule refuses a:port, or "" when it allows it.
func (r dialRule) problem(a netip.Addr, port int) string {
	a = a.Unmap()
	if r.LoopbackOnly && !a.IsLoopback() {
		return "which is not on this machine (a local emulator must be reached over loopback)"
	}
	if r.Private && a.IsPrivate() {
		return ""
	}
	if why := addressProblem(a, r.Loopback); why != "" {
		return why
	}
	if r.WebPorts && port != 80 && port != 443 && !a.IsLoopback() {
		return "where only ports 80 and 443 may be called, not " + strconv.Itoa(port)
	}
	return ""
}

// guard dials only addresses the rule allows. It resolves the host itself, refuses the dial
// if ANY address is not allowed (so a name cannot mix a public and a private answer), dials the
// addresses it checked (so a second lookup cannot rebind the name), and checks the socket's
// address once more just before connecting.
type guard struct {
	resolver Resolver
}

func (g *guard) dial(ctx context.Context, host string, port int, rule dialRule) (net.Conn, error) {
	host = strings.Trim(host, "[]")
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = g.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("look up %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("look up %s: %w", host, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true})
		}
	}
	for _, a := range addrs {
		if why := rule.problem(a, port); why != "" {
			return nil, rule.refusal(host, a, why)
		}
	}
	d := net.Dialer{Timeout: 10 * time.Second, Control: connectCheck(host, rule)}
	var firstErr error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// connectCheck is the last line of defence, run on the socket just before it connects:
// whatever address that is must pass the same rule as the looked-up ones.
func connectCheck(host string, rule dialRule) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &hostRefusedError{Host: host, Addr: address, Reason: "which cannot be checked"}
		}
		if why := rule.problem(ap.Addr(), int(ap.Port())); why != "" {
			return rule.refusal(host, ap.Addr(), why)
		}
		return nil
	}
}

// dialFailure classifies an error from dialling (guard.dial, TLS handshake) into a cause.
// what names the target in messages ("namespace mybus.servicebus.windows.net").
func (p *Prober) dialFailure(ctx context.Context, err error, what string) Result {
	var refused *hostRefusedError
	if errors.As(err, &refused) && refused.Malformed {
		return invalid("The address of the "+what+" cannot be used: "+refused.Error()+".",
			"Write the address the way the Azure portal (or the webhook's owner) shows it.")
	}
	if errors.As(err, &refused) {
		fix := "Use the real address of the " + what + "; the portal only connects to Azure Service Bus hosts and public web addresses."
		if refused.Allow != "" {
			fix = "Use the real address of the " + what + ". If this is the right address, an administrator can allow it: " + refused.Allow + "."
		}
		return failed(CauseHostNotAllowed, "The portal will not connect to "+refused.Error()+".", fix)
	}
	if r, ok := p.contextFailure(ctx, what, false); ok {
		return r
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return failed(CauseDNS, "The host name of the "+what+" does not exist in DNS ("+dnsErr.Name+").",
				"Check the spelling of the address; for Service Bus copy the namespace's host name from the Azure portal (Overview > Host name).")
		}
		return failed(CauseDNS, "The host name of the "+what+" could not be looked up ("+dnsErr.Name+"): "+dnsErr.Err+".",
			"Try again; if it keeps failing, the portal's DNS cannot resolve the name (private DNS zone?).")
	}
	if tlsProblem := tlsFailure(err); tlsProblem != "" {
		return failed(CauseTLS, "The secure connection to the "+what+" failed: "+tlsProblem+".",
			"The server's certificate is not trusted for this name. Use the service's real host name; a proxy that inspects TLS must be trusted by the portal.")
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return failed(CauseUnreachable, "The "+what+" refused the connection.",
			"Check the address and port, and that the service is running and accepts connections from the portal.")
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return failed(CauseUnreachable, "The "+what+" cannot be reached from the portal's network.",
			"Check the network path (firewall, private endpoint, routes) from the portal to the host.")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return failed(CauseTimeout, "No answer from the "+what+" while connecting.",
			"Check that the host is reachable from the portal (firewall, network rules), then try again.")
	}
	return failed(CauseUnreachable, "The connection to the "+what+" failed: "+errText(err)+".",
		"Check the address and that the service is reachable from the portal.")
}
