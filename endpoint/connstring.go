package endpoint

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// ConnectionString is a parsed Azure Service Bus (or Event Hubs) connection string, as the Azure
// portal gives it under Shared access policies.
type ConnectionString struct {
	Endpoint   string // the Endpoint value as written, e.g. "sb://mybus.servicebus.windows.net/"
	Host       string // the namespace host from Endpoint, with ":port" when one is given
	Cloud      Cloud  // by Host's suffix; CloudUnknown for emulators and unrecognised hosts
	EntityPath string // EntityPath: the queue, topic or event hub the policy belongs to; "" when namespace-wide
	KeyName    string // SharedAccessKeyName: the policy's name
	Key        Secret // SharedAccessKey
	SASToken   Secret // SharedAccessSignature: a whole "SharedAccessSignature sr=...&sig=..." token
	Emulator   bool   // UseDevelopmentEmulator=true: plain AMQP without TLS

	hasSAS bool // SharedAccessSignature was present (even empty): the SDK then uses it, not the key
}

// Connection string keys, spelled as the Azure portal writes them. Matching ignores case.
const (
	csEndpoint       = "Endpoint"
	csKeyName        = "SharedAccessKeyName"
	csKey            = "SharedAccessKey"
	csEntityPath     = "EntityPath"
	csSignature      = "SharedAccessSignature"
	csUseDevEmulator = "UseDevelopmentEmulator"
)

// whereToCopy tells people where a connection string comes from in the Azure portal.
const whereToCopy = "In the Azure portal open the Service Bus namespace > Shared access policies > the policy " +
	"(or the queue's, topic's or event hub's own Shared access policies) and copy Primary Connection String"

// ParseConnectionString parses s exactly as azservicebus v1.11.0 does (internal/conn): parts
// separated by ';', empty parts skipped, each part split at its first '=' (so values may hold
// '='), keys matched without regard to case, unknown keys ignored, nothing trimmed (a space
// before a key makes it an unknown key), the last occurrence of a key wins. It accepts exactly
// the strings the SDK accepts; a differential test holds it to that. Its errors say what is
// missing and where to copy it from, and never quote the input, so a key cannot leak through
// them.
//
// Callers that take pasted text should strings.TrimSpace it first and hand the trimmed text
// to both this parser and the SDK.
func ParseConnectionString(s string) (ConnectionString, error) {
	var (
		cs                               ConnectionString
		haveKeyName, haveKey, haveEndpnt bool
		spaced                           []string // known keys that came with spaces around them
	)
	for _, part := range strings.Split(s, ";") {
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			if looksLikeBareKey(s) {
				return ConnectionString{}, errors.New("this looks like a key on its own, not a connection string. " + whereToCopy)
			}
			return ConnectionString{}, errors.New("the connection string has a part without '=': it should read " +
				"Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=<policy>;SharedAccessKey=<key>. " + whereToCopy)
		}
		switch {
		case strings.EqualFold(key, csEndpoint):
			u, err := url.Parse(value)
			if err != nil {
				return ConnectionString{}, errors.New("the Endpoint value is not a valid address: it should look like " +
					"sb://<namespace>.servicebus.windows.net/ with no spaces or line breaks. " + whereToCopy)
			}
			cs.Endpoint = value
			cs.Host = u.Host
			haveEndpnt = true
		case strings.EqualFold(key, csKeyName):
			cs.KeyName = value
			haveKeyName = true
		case strings.EqualFold(key, csKey):
			cs.Key = NewSecret(value)
			haveKey = true
		case strings.EqualFold(key, csEntityPath):
			cs.EntityPath = value
		case strings.EqualFold(key, csSignature):
			cs.SASToken = NewSecret(value)
			cs.hasSAS = true
		case strings.EqualFold(key, csUseDevEmulator):
			b, err := strconv.ParseBool(value)
			if err != nil {
				return ConnectionString{}, errors.New("UseDevelopmentEmulator must be true or false")
			}
			cs.Emulator = b
		default:
			if k := strings.TrimSpace(key); k != key && isKnownKey(k) {
				spaced = append(spaced, k)
			}
		}
	}

	if cs.Emulator {
		// The SDK insists on "sb:" followed by the host and an optional port.
		parts := strings.SplitN(cs.Endpoint, ":", 3)
		if len(parts) < 2 || parts[0] != "sb" {
			return ConnectionString{}, errors.New("UseDevelopmentEmulator=true works only with Endpoint=sb://<emulator host> " +
				"or Endpoint=sb://<emulator host>:<port> (lower-case sb://)")
		}
	}

	var missing []string
	switch {
	case cs.Host == "" && haveEndpnt && !strings.Contains(cs.Endpoint, "://"):
		missing = append(missing, "the Endpoint value lacks sb:// in front: write Endpoint=sb://<namespace>.servicebus.windows.net/")
	case cs.Host == "" && haveEndpnt:
		missing = append(missing, "the Endpoint value names no host: write Endpoint=sb://<namespace>.servicebus.windows.net/")
	case cs.Host == "":
		missing = append(missing, "it has no Endpoint=sb://<namespace>.servicebus.windows.net/ part")
	}
	if !cs.hasSAS && !haveKeyName {
		missing = append(missing, "it has no SharedAccessKeyName (the policy's name)")
	}
	if !cs.hasSAS && !haveKey {
		missing = append(missing, "it has no SharedAccessKey (nor a SharedAccessSignature)")
	}
	if len(missing) == 0 {
		cs.Cloud = CloudOfHost(cs.Host)
		return cs, nil
	}
	msg := "This connection string is incomplete: " + strings.Join(missing, "; ") + "."
	if len(spaced) > 0 {
		msg += " Remove the spaces or line breaks before " + strings.Join(spaced, ", ") + "."
	}
	if looksLikeBareKey(s) {
		msg = "This looks like a key on its own, not a connection string."
	} else if strings.HasPrefix(strings.TrimSpace(s), sasPrefix) {
		msg = "This looks like a SAS token, not a connection string: choose SAS token authentication and paste it there, or paste the policy's connection string."
	}
	return ConnectionString{}, errors.New(msg + " " + whereToCopy)
}

func isKnownKey(k string) bool {
	for _, known := range []string{csEndpoint, csKeyName, csKey, csEntityPath, csSignature, csUseDevEmulator} {
		if strings.EqualFold(k, known) {
			return true
		}
	}
	return false
}

// looksLikeBareKey reports whether s is a lone SAS key: 44 base64 characters, no separators.
func looksLikeBareKey(s string) bool {
	t := strings.TrimSpace(s)
	if len(t) != SASKeyLen || !strings.HasSuffix(t, "=") {
		return false
	}
	for _, r := range t {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=') {
			return false
		}
	}
	return true
}

// LooksLikeConnectionString reports whether s is (part of) a connection string rather than a
// bare key or token, so a form can say "paste this into the connection string box" instead of
// Plug-in Registration Tool's "SASKey length should be 44".
func LooksLikeConnectionString(s string) bool {
	l := strings.ToLower(s)
	for _, k := range []string{"endpoint=", "sharedaccesskeyname=", "sharedaccesskey=", "entitypath=", "sharedaccesssignature="} {
		if strings.Contains(l, k) {
			return true
		}
	}
	return false
}

// UsesSASToken reports whether the SDK would authenticate with the embedded SharedAccessSignature
// rather than signing with the key: the SDK prefers the signature whenever one is present.
func (c ConnectionString) UsesSASToken() bool { return c.hasSAS }

// AuthType is the Dataverse authentication type this connection string calls for.
func (c ConnectionString) AuthType() AuthType {
	if c.hasSAS {
		return AuthTypeSASToken
	}
	return AuthTypeSASKey
}

// NamespaceWide reports whether the connection string has no EntityPath: the policy is the
// namespace's, so it reaches every entity (and often is RootManageSharedAccessKey with Manage
// rights). The portal warns: a registration needs only an entity-level Send policy.
func (c ConnectionString) NamespaceWide() bool { return c.EntityPath == "" }

// NamespaceName is the first label of the host, which tools store in solutionnamespace.
func (c ConnectionString) NamespaceName() string { return NamespaceName(c.Host) }

// NamespaceAddress is the sb:// namespace address Dataverse stores for queues, topics and event
// hubs.
func (c ConnectionString) NamespaceAddress() string { return "sb://" + c.Host + "/" }

// Suggest pre-fills a registration from the connection string, the way the Plug-in
// Registration Tool does: namespace address sb://<host>/, solutionnamespace = first host label,
// path = EntityPath, the policy's key (authtype 2) or token (authtype 3), namespace format
// Address, connection mode Normal, no user information, JSON. The contract is a guess: Queue
// when the policy belongs to an entity (a connection string cannot tell a queue from a topic or
// an event hub), unset when namespace-wide. The caller shows everything for review.
func (c ConnectionString) Suggest() ServiceEndpoint {
	e := ServiceEndpoint{
		Name:              SuggestName(c),
		SolutionNamespace: c.NamespaceName(),
		NamespaceAddress:  c.NamespaceAddress(),
		Path:              c.EntityPath,
		SASKeyName:        c.KeyName,
		ConnectionMode:    ConnectionModeNormal,
		NamespaceFormat:   NamespaceFormatAddress,
		UserClaim:         UserClaimNone,
		MessageFormat:     MessageFormatJSON,
		MessageCharset:    MessageCharsetDefault,
		AuthType:          c.AuthType(),
	}
	if c.hasSAS {
		e.SASToken = c.SASToken
		if e.SASKeyName == "" {
			if t, err := ParseSASToken(c.SASToken.Reveal()); err == nil {
				e.SASKeyName = t.KeyName
			}
		}
	} else {
		e.SASKey = c.Key
	}
	if c.EntityPath != "" {
		e.Contract = ContractQueue
	}
	return e
}

// SuggestName proposes an endpoint name from a connection string: "<namespace> <entity>", or
// the namespace alone for a namespace-wide policy, cut to the name column's maximum.
func SuggestName(c ConnectionString) string {
	name := c.NamespaceName()
	if c.EntityPath != "" {
		name += " " + c.EntityPath
	}
	return truncateUTF16(strings.TrimSpace(name), MaxNameLen)
}

// Redacted writes the connection string back with its key or signature masked, for pages and
// logs: "Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=********".
func (c ConnectionString) Redacted() string {
	parts := []string{csEndpoint + "=" + c.Endpoint}
	if c.KeyName != "" {
		parts = append(parts, csKeyName+"="+c.KeyName)
	}
	if c.hasSAS {
		parts = append(parts, csSignature+"="+secretMask)
	} else {
		parts = append(parts, csKey+"="+secretMask)
	}
	if c.EntityPath != "" {
		parts = append(parts, csEntityPath+"="+c.EntityPath)
	}
	if c.Emulator {
		parts = append(parts, csUseDevEmulator+"=true")
	}
	return strings.Join(parts, ";")
}

// SDKConnectionString builds the connection string the Azure SDKs take for a Service Bus
// endpoint (queue, topic or event hub): Endpoint=sb://<host>/ from the namespace address, the
// policy name and key (authtype 2) or the token (authtype 3), and EntityPath = path. With
// emulator it adds UseDevelopmentEmulator=true (plain AMQP, for the local stand-in only). The
// result carries the secret, so it is a Secret. It refuses what would not parse back to the
// same values.
func (e ServiceEndpoint) SDKConnectionString(emulator bool) (Secret, error) {
	if !e.Contract.IsServiceBus() {
		return Secret{}, errors.New("only Service Bus endpoints (queue, topic, event hub, relay) have a connection string")
	}
	u, err := url.Parse(e.NamespaceAddress)
	if err != nil || u.Host == "" {
		return Secret{}, errors.New("the namespace address is not a URL such as sb://mybus.servicebus.windows.net/")
	}
	parts := []string{csEndpoint + "=sb://" + u.Host + "/"}
	switch e.AuthType {
	case AuthTypeSASKey:
		if !e.SASKey.IsSet() || e.SASKeyName == "" {
			return Secret{}, errors.New("SAS key authentication needs the policy name and its key")
		}
		parts = append(parts, csKeyName+"="+e.SASKeyName, csKey+"="+e.SASKey.Reveal())
	case AuthTypeSASToken:
		if !e.SASToken.IsSet() {
			return Secret{}, errors.New("SAS token authentication needs the token")
		}
		parts = append(parts, csSignature+"="+e.SASToken.Reveal())
	default:
		return Secret{}, errors.New("choose SAS key or SAS token authentication")
	}
	if e.Path != "" {
		parts = append(parts, csEntityPath+"="+e.Path)
	}
	if emulator {
		parts = append(parts, csUseDevEmulator+"=true")
	}
	for _, p := range parts {
		if strings.Contains(p, ";") {
			return Secret{}, errors.New("a value contains ';', which a connection string cannot carry: check the key, token, policy name and path")
		}
	}
	return NewSecret(strings.Join(parts, ";")), nil
}
