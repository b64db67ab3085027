package endpoint

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Cloud is the Azure cloud a Service Bus namespace lives in, known from its host name's suffix.
// The portal uses it to pick the matching Entra authority and to warn when an endpoint and the
// Dataverse environment sit in different clouds.
type Cloud string

// The clouds the portal recognises. CloudUnknown covers emulators, private endpoints with custom
// names and typing mistakes alike.
const (
	CloudPublic  Cloud = "public"
	CloudUSGov   Cloud = "usgov"
	CloudChina   Cloud = "china"
	CloudUnknown Cloud = "unknown"
)

// CloudSuffix ties a cloud to the host suffix of its Service Bus namespaces.
type CloudSuffix struct {
	Cloud  Cloud
	Suffix string // without a leading dot, e.g. "servicebus.windows.net"
}

// CloudSuffixes lists the Service Bus host suffixes by cloud. servicebus.cloudapi.de (Azure
// Germany) is retired and deliberately absent.
var CloudSuffixes = []CloudSuffix{
	{CloudPublic, "servicebus.windows.net"},
	{CloudUSGov, "servicebus.usgovcloudapi.net"},
	{CloudChina, "servicebus.chinacloudapi.cn"},
}

// Label is the name people see.
func (c Cloud) Label() string {
	switch c {
	case CloudPublic:
		return "Azure (public)"
	case CloudUSGov:
		return "Azure US Government"
	case CloudChina:
		return "Azure China (21Vianet)"
	}
	return "Unknown cloud"
}

// String returns the label.
func (c Cloud) String() string { return c.Label() }

// Suffix is the cloud's Service Bus host suffix, or "" for CloudUnknown.
func (c Cloud) Suffix() string {
	for _, s := range CloudSuffixes {
		if s.Cloud == c {
			return s.Suffix
		}
	}
	return ""
}

// CloudOfHost tells the cloud of a namespace host such as "mybus.servicebus.windows.net" (a
// port, if any, is ignored; case does not matter). A bare suffix with no namespace label in
// front is CloudUnknown: it is not a namespace.
func CloudOfHost(host string) Cloud {
	h := strings.ToLower(hostWithoutPort(host))
	h = strings.TrimSuffix(h, ".") // a fully qualified name may end with the root dot
	for _, s := range CloudSuffixes {
		if strings.HasSuffix(h, "."+s.Suffix) && len(h) > len(s.Suffix)+1 {
			return s.Cloud
		}
	}
	return CloudUnknown
}

// NamespaceName is the first label of a namespace host: "mybus" for
// "mybus.servicebus.windows.net:5671". Tools store it in solutionnamespace.
func NamespaceName(host string) string {
	h := hostWithoutPort(host)
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		// A local emulator's address has no namespace label: the address is the name.
		return h
	}
	name, _, _ := strings.Cut(h, ".")
	return name
}

// hostWithoutPort drops a ":port" suffix (and IPv6 brackets) if present.
func hostWithoutPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// IsEmulatorAddress reports whether a namespace address is the local Service Bus emulator's:
// an sb:// address whose host is loopback (127.0.0.0/8, ::1 or localhost). It decides by the
// parsed host, so a real namespace named like "localhost-prod" is not mistaken for it. Such
// endpoints exist only in the local stack, where the probe policy allows loopback.
func IsEmulatorAddress(addr string) bool {
	u, err := url.Parse(strings.TrimSpace(addr))
	if err != nil || !strings.EqualFold(u.Scheme, "sb") {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
