package endpoint

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Field names in problems are the Dataverse column logical names, so a form can show each
// message beside its control and an API client can map it to the column it sent. (ParseCredential's
// problems name the credential form's fields instead: see FieldConnectionString.)
const (
	FieldName              = "name"
	FieldDescription       = "description"
	FieldSolutionNamespace = "solutionnamespace"
	FieldNamespaceAddress  = "namespaceaddress"
	FieldPath              = "path"
	FieldURL               = "url"
	FieldContract          = "contract"
	FieldConnectionMode    = "connectionmode"
	FieldUserClaim         = "userclaim"
	FieldMessageFormat     = "messageformat"
	FieldAuthType          = "authtype"
	FieldSASKeyName        = "saskeyname"
	FieldSASKey            = "saskey"
	FieldSASToken          = "sastoken"
	FieldAuthValue         = "authvalue"
	FieldNamespaceFormat   = "namespaceformat"
	FieldMessageCharset    = "messagecharset"
	FieldSchemaType        = "schematype"
)

// Problem is one thing wrong with a registration: the column it concerns and a message that says
// how to fix it. Messages never quote a secret.
type Problem struct {
	Field   string // Dataverse column logical name, e.g. "saskey" (or a credential form field)
	Message string
}

// Problems is every problem found in a registration. A nil or empty Problems means valid. It is
// an error so a caller can return it as one; errors.As finds it.
type Problems []Problem

// Error lists the problems as "field: message; ...".
func (p Problems) Error() string {
	parts := make([]string, len(p))
	for i, pr := range p {
		parts[i] = pr.Field + ": " + pr.Message
	}
	return strings.Join(parts, "; ")
}

// Has reports whether any problem concerns field.
func (p Problems) Has(field string) bool {
	for _, pr := range p {
		if pr.Field == field {
			return true
		}
	}
	return false
}

// For returns the messages for field, in the order found.
func (p Problems) For(field string) []string {
	var out []string
	for _, pr := range p {
		if pr.Field == field {
			out = append(out, pr.Message)
		}
	}
	return out
}

// ValidationMode says whether the registration creates a record or updates an existing one.
// The difference is the write-only secrets: Dataverse never returns them, so an update that
// keeps the stored secret carries none.
type ValidationMode int

const (
	// ForCreate requires the secret the auth type needs (saskey, sastoken or authvalue).
	ForCreate ValidationMode = iota
	// ForUpdate accepts a missing secret when the record already has one stored, as the
	// read-only flags IsSASKeySet, IsSASTokenSet and IsAuthValueSet (copied from the record as
	// read) say. A secret that is given is checked in full.
	ForUpdate
)

// Validate checks a registration for create: see ValidateFor.
func (e ServiceEndpoint) Validate() Problems { return e.ValidateFor(ForCreate) }

// ValidateFor checks e against the rules Dataverse and the Plug-in Registration Tool apply
// (DOMAIN.md §2) and returns every problem found, or nil when e is valid. It reads no clock:
// token expiry is a warning the caller computes with SASToken.ExpiresWithin.
func (e ServiceEndpoint) ValidateFor(mode ValidationMode) Problems {
	v := validator{e: e, mode: mode}
	v.common()
	switch {
	case !e.Contract.Valid():
		// Reported by common; contract-specific rules would only add noise.
	case e.Contract.IsServiceBus():
		v.serviceBus()
	case e.Contract == ContractWebhook:
		v.webhook()
	}
	if len(v.p) == 0 {
		return nil
	}
	return v.p
}

type validator struct {
	e    ServiceEndpoint
	mode ValidationMode
	p    Problems
}

func (v *validator) add(field, msg string) { v.p = append(v.p, Problem{Field: field, Message: msg}) }

func (v *validator) maxLen(field, label, value string, max int) {
	if n := utf16Len(value); n > max {
		v.add(field, label+" is "+strconv.Itoa(n)+" characters long; shorten it to at most "+strconv.Itoa(max)+".")
	}
}

// plainText refuses control characters (tab and line breaks only where lines are allowed) and
// the bidirectional override and isolate characters that make text read differently from what
// it is (U+202A–U+202E, U+2066–U+2069): a NUL or an RTL override in a name misleads readers of
// the list and the audit trail, and PostgreSQL refuses NUL outright.
func (v *validator) plainText(field, label, value string, lines bool) {
	for i, r := range value {
		switch {
		case lines && (r == '\t' || r == '\n' || r == '\r'):
			continue
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			v.add(field, fmt.Sprintf("%s contains an invisible control character (U+%04X) at position %d; remove it (retype the text rather than pasting it).",
				label, r, utf16Len(value[:i])+1))
			return
		case r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
			v.add(field, fmt.Sprintf("%s contains a text-direction control character (U+%04X) at position %d, which makes it read differently from what it is; remove it.",
				label, r, utf16Len(value[:i])+1))
			return
		}
	}
}

func (v *validator) common() {
	e := v.e
	if strings.TrimSpace(e.Name) == "" {
		v.add(FieldName, "Enter a name, such as the namespace and queue it posts to.")
	}
	v.maxLen(FieldName, "The name", e.Name, MaxNameLen)
	v.maxLen(FieldDescription, "The description", e.Description, MaxDescriptionLen)
	v.plainText(FieldName, "The name", e.Name, false)
	v.plainText(FieldDescription, "The description", e.Description, true)

	switch {
	case e.Contract == 0:
		v.add(FieldContract, "Choose a designation type: queue, topic, event hub, relay or webhook.")
	case !e.Contract.Valid():
		v.add(FieldContract, "Designation type "+strconv.Itoa(int(e.Contract))+" does not exist; choose queue, topic, event hub, relay or webhook.")
	case !isRegistrable(e.Contract):
		v.add(FieldContract, "The portal cannot register "+e.Contract.Label()+" endpoints yet; choose queue, topic, event hub, relay or webhook.")
	}

	if !e.ConnectionMode.Valid() {
		v.add(FieldConnectionMode, "Set connection mode to Normal (1); tools always use Normal.")
	}
	if !e.UserClaim.Valid() {
		v.add(FieldUserClaim, "Choose which user information is sent: None, User ID or User info.")
	}
	if !e.MessageCharset.Valid() {
		v.add(FieldMessageCharset, "Set the message charset to Default (0) or UTF-8 (1).")
	}
	if e.NamespaceFormat != 0 && !e.NamespaceFormat.Valid() {
		v.add(FieldNamespaceFormat, "Set the namespace format to Namespace address (2), as the Plug-in Registration Tool does.")
	}
	if e.MessageFormat != 0 && !e.MessageFormat.Valid() {
		v.add(FieldMessageFormat, "Choose a message format: .NET Binary, JSON or XML.")
	}
	if !e.SchemaType.Valid() {
		v.add(FieldSchemaType, "Clear the schema type; it applies to Event Grid endpoints only.")
	}
	if e.AuthType != 0 && !e.AuthType.Valid() {
		v.add(FieldAuthType, "Authentication type "+strconv.Itoa(int(e.AuthType))+" does not exist; choose SAS key or SAS token for Service Bus, or a webhook authentication.")
	}
}

func isRegistrable(c Contract) bool {
	for _, r := range RegistrableContracts {
		if r == c {
			return true
		}
	}
	return false
}

func (v *validator) serviceBus() {
	e := v.e
	kind := entityWord(e.Contract)

	// Namespace name and address.
	if strings.TrimSpace(e.SolutionNamespace) == "" {
		v.add(FieldSolutionNamespace, "Enter the Service Bus namespace name: the first part of its host name, e.g. mybus for mybus.servicebus.windows.net.")
	}
	v.maxLen(FieldSolutionNamespace, "The namespace name", e.SolutionNamespace, MaxSolutionNamespaceLen)
	if e.NamespaceFormat == 0 {
		v.add(FieldNamespaceFormat, "Set the namespace format to Namespace address (2), as the Plug-in Registration Tool does.")
	}
	v.namespaceAddress()

	// Entity path.
	switch {
	case strings.TrimSpace(e.Path) == "":
		v.add(FieldPath, "Enter the "+kind+" name (the EntityPath of its connection string).")
	case strings.IndexFunc(e.Path, func(r rune) bool { return unicode.IsSpace(r) || r == '?' || r == '#' || r == '\\' }) >= 0:
		v.add(FieldPath, "The "+kind+" name cannot contain spaces, '?', '#' or '\\'; copy it from the Azure portal.")
	case strings.HasPrefix(e.Path, "/") || strings.HasSuffix(e.Path, "/"):
		v.add(FieldPath, "Write the "+kind+" name without a leading or trailing '/'.")
	}
	v.maxLen(FieldPath, "The "+kind+" name", e.Path, MaxPathLen)

	// Message format: required; event hubs take only JSON or XML.
	switch {
	case e.MessageFormat == 0:
		v.add(FieldMessageFormat, "Choose a message format: JSON is the usual choice.")
	case e.Contract == ContractEventHub && e.MessageFormat == MessageFormatBinaryXML:
		v.add(FieldMessageFormat, "Event hubs accept JSON or XML only; choose one of them instead of .NET Binary.")
	}

	// Webhook columns do not belong here.
	if e.URL != "" {
		v.add(FieldURL, "Clear the URL: a "+kind+" is addressed by namespace address and path, the URL is for webhooks.")
	}
	if e.AuthValue.IsSet() {
		v.add(FieldAuthValue, "Remove the webhook authentication value: a "+kind+" authenticates with a SAS key or SAS token.")
	}

	v.sasAuth()
}

// entityWord names what the path of a Service Bus contract holds, for messages.
func entityWord(c Contract) string {
	switch c {
	case ContractQueue, ContractPersistentQueue:
		return "queue"
	case ContractTopic:
		return "topic"
	case ContractEventHub:
		return "event hub"
	}
	return "relay"
}

func (v *validator) namespaceAddress() {
	e := v.e
	want := "sb"
	example := "sb://mybus.servicebus.windows.net/"
	if e.Contract.IsRelay() {
		want, example = "https", "https://mybus.servicebus.windows.net/"
	}
	addr := e.NamespaceAddress
	if strings.TrimSpace(addr) == "" {
		v.add(FieldNamespaceAddress, "Enter the namespace address, e.g. "+example+".")
		return
	}
	v.maxLen(FieldNamespaceAddress, "The namespace address", addr, MaxNamespaceAddressLen)
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" || u.Opaque != "" {
		v.add(FieldNamespaceAddress, "Write the namespace address as a URL such as "+example+".")
		return
	}
	if !strings.EqualFold(u.Scheme, want) {
		why := "queues, topics and event hubs are reached over sb://"
		if e.Contract.IsRelay() {
			why = "relays are reached over https://"
		}
		v.add(FieldNamespaceAddress, "Start the namespace address with "+want+":// ("+why+"), e.g. "+example+".")
	}
	if u.User != nil {
		v.add(FieldNamespaceAddress, "Remove the user name or password from the namespace address; the SAS key goes in its own field.")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		v.add(FieldNamespaceAddress, "The namespace address is the namespace alone, e.g. "+example+"; put the "+entityWord(e.Contract)+" name in the path field.")
	}
	host := u.Hostname()
	if host == "" || strings.ContainsAny(host, " _") || net.ParseIP(host) != nil && !isLoopback(host) {
		v.add(FieldNamespaceAddress, "The namespace address needs the namespace's host name, e.g. "+example+".")
		return
	}
	if ns := strings.TrimSpace(e.SolutionNamespace); ns != "" && !strings.EqualFold(NamespaceName(host), ns) {
		v.add(FieldSolutionNamespace, "The namespace name must be the first part of the namespace address's host ("+NamespaceName(host)+"); change one to match the other.")
	}
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (v *validator) sasAuth() {
	e := v.e
	switch e.AuthType {
	case AuthTypeSASKey:
		if strings.TrimSpace(e.SASKeyName) == "" {
			v.add(FieldSASKeyName, "Enter the SAS policy name (SharedAccessKeyName in the connection string).")
		}
		v.maxLen(FieldSASKeyName, "The SAS policy name", e.SASKeyName, MaxSASKeyNameLen)
		v.sasKey()
		if e.SASToken.IsSet() {
			v.add(FieldSASToken, "Remove the SAS token, or choose SAS token authentication: with SAS key authentication Dataverse signs its own tokens.")
		}
	case AuthTypeSASToken:
		v.sasToken()
		if e.SASKey.IsSet() {
			v.add(FieldSASKey, "Remove the SAS key, or choose SAS key authentication: with SAS token authentication Dataverse uses the token only.")
		}
	case 0:
		v.add(FieldAuthType, "Choose SAS key or SAS token authentication.")
	default:
		if e.Contract == ContractEventHub {
			v.add(FieldAuthType, "Event hubs accept SAS authentication only; choose SAS key or SAS token.")
		} else {
			v.add(FieldAuthType, "A "+entityWord(e.Contract)+" authenticates with SAS key or SAS token; choose one of them instead of "+e.AuthType.Label()+".")
		}
	}
}

func (v *validator) sasKey() {
	e := v.e
	key := e.SASKey.Reveal()
	switch {
	case key == "":
		if v.mode == ForCreate || !e.IsSASKeySet {
			v.add(FieldSASKey, "Enter the SAS key: the policy's Primary Key in the Azure portal (Shared access policies > the policy).")
		}
	case LooksLikeConnectionString(key):
		v.add(FieldSASKey, "This looks like a whole connection string; paste it into the connection string box, or copy only the SharedAccessKey value.")
	case strings.HasPrefix(strings.TrimSpace(key), sasPrefix):
		v.add(FieldSASKey, "This is a SAS token, not a key; choose SAS token authentication and paste it there, or copy the policy's Primary Key.")
	case strings.TrimSpace(key) != key:
		v.add(FieldSASKey, "Remove the spaces or line breaks around the SAS key.")
	case utf16Len(key) != SASKeyLen:
		v.add(FieldSASKey, "A SAS key has exactly 44 characters, this one has "+strconv.Itoa(utf16Len(key))+"; copy the whole Primary Key (it ends with '=').")
	}
}

func (v *validator) sasToken() {
	e := v.e
	tok := e.SASToken.Reveal()
	if tok == "" {
		if v.mode == ForCreate || !e.IsSASTokenSet {
			v.add(FieldSASToken, "Enter the SAS token, starting with \"SharedAccessSignature sr=\".")
		}
		return
	}
	if utf16Len(tok) > MaxSASTokenLen {
		v.add(FieldSASToken, "The SAS token is "+strconv.Itoa(utf16Len(tok))+" characters long; Dataverse stores at most 256. Sign one for a shorter resource URI or policy name.")
	}
	if LooksLikeConnectionString(tok) && !strings.HasPrefix(strings.TrimSpace(tok), sasPrefix) {
		v.add(FieldSASToken, "This looks like a whole connection string; paste it into the connection string box, or copy only the SharedAccessSignature value.")
		return
	}
	t, err := ParseSASToken(tok)
	if err != nil {
		v.add(FieldSASToken, "The SAS token cannot be read: "+err.Error()+".")
		return
	}
	if uri := ResourceURI(e); uri != "" && !t.Covers(uri) {
		v.add(FieldSASToken, "The SAS token was signed for another resource; sign one for "+uri+" or its namespace.")
	}
}

func (v *validator) webhook() {
	e := v.e
	v.webhookURL()
	if e.SASKey.IsSet() || e.SASToken.IsSet() {
		field := FieldSASKey
		if !e.SASKey.IsSet() {
			field = FieldSASToken
		}
		v.add(field, "Remove the SAS key or token: webhooks authenticate with a webhook key, HTTP headers or query string parameters.")
	}
	if e.MessageFormat != 0 && e.MessageFormat != MessageFormatJSON && e.MessageFormat.Valid() {
		v.add(FieldMessageFormat, "Webhooks always receive JSON; choose JSON.")
	}
	switch {
	case e.AuthType == 0:
		v.add(FieldAuthType, "Choose how Dataverse authenticates to the webhook: webhook key, HTTP header or HTTP query string.")
		return
	case !e.AuthType.IsWebhookAuth():
		if e.AuthType.Valid() {
			v.add(FieldAuthType, "A webhook authenticates with a webhook key, HTTP headers or query string parameters; choose one of them instead of "+e.AuthType.Label()+".")
		}
		return
	}
	av := e.AuthValue
	if !av.IsSet() {
		if v.mode == ForCreate || !e.IsAuthValueSet {
			if e.AuthType == AuthTypeWebhookKey {
				v.add(FieldAuthValue, "Enter the webhook key (for Azure Functions, the function key).")
			} else {
				v.add(FieldAuthValue, "Enter at least one name and value.")
			}
		}
		return
	}
	if utf16Len(av.Reveal()) > MaxAuthValueLen {
		v.add(FieldAuthValue, "The authentication value is "+strconv.Itoa(utf16Len(av.Reveal()))+" characters long; Dataverse stores at most 2048.")
	}
	if e.AuthType == AuthTypeWebhookKey {
		if strings.HasPrefix(strings.TrimSpace(av.Reveal()), "<") {
			v.add(FieldAuthValue, "Enter the key alone; the <settings> form is for HTTP header or query string authentication.")
		} else if strings.TrimSpace(av.Reveal()) != av.Reveal() {
			v.add(FieldAuthValue, "Remove the spaces or line breaks around the webhook key.")
		}
		return
	}
	settings, err := ParseWebhookSettings(av)
	if err != nil {
		v.add(FieldAuthValue, capitalize(err.Error())+".")
		return
	}
	for _, s := range settings {
		if e.AuthType == AuthTypeHTTPHeader && !ValidHeaderName(s.Name) {
			v.add(FieldAuthValue, "Header name "+strconv.Quote(truncateForMessage(s.Name))+" is not valid: use letters, digits and '-' only, e.g. x-api-key.")
		}
		if strings.ContainsAny(s.Value.Reveal(), "\r\n") {
			v.add(FieldAuthValue, "The value of "+strconv.Quote(truncateForMessage(s.Name))+" contains a line break; remove it.")
		}
	}
}

func (v *validator) webhookURL() {
	e := v.e
	raw := e.URL
	if strings.TrimSpace(raw) == "" {
		v.add(FieldURL, "Enter the webhook URL, e.g. https://example.com/api/dataverse.")
		return
	}
	v.maxLen(FieldURL, "The URL", raw, MaxURLLen)
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		v.add(FieldURL, "Enter an absolute URL starting with https:// (or http://), e.g. https://example.com/api/dataverse.")
		return
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		v.add(FieldURL, "The URL must start with https:// or http://.")
	}
	if u.User != nil {
		v.add(FieldURL, "Remove the user name and password from the URL; use HTTP header authentication for credentials.")
	}
	if u.Hostname() == "" {
		v.add(FieldURL, "The URL needs a host name, e.g. https://example.com/api/dataverse.")
	}
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		v.add(FieldURL, "Dataverse calls webhooks on ports 80 and 443 only; remove :"+p+" or publish the service on 443.")
	}
	if u.Fragment != "" {
		v.add(FieldURL, "Remove the #fragment from the URL; it is never sent to the server.")
	}
	// A function key in the URL would be shown and audited like any address: it belongs in
	// the authentication value, which is write-only and encrypted.
	if u.Query().Has("code") {
		v.add(FieldURL, "Remove ?code= from the URL and choose Webhook key authentication with that key, where it stays secret.")
	}
}

// ResourceURI is the SAS resource (audience) a token must cover for e: "https://<host>/<path>"
// for Service Bus contracts, or "" when the namespace address cannot be read. Service Bus
// compares resources without regard to scheme or case.
func ResourceURI(e ServiceEndpoint) string {
	u, err := url.Parse(e.NamespaceAddress)
	if err != nil || u.Host == "" {
		return ""
	}
	r := "https://" + strings.ToLower(u.Host) + "/"
	if p := strings.Trim(e.Path, "/"); p != "" {
		r += p
	}
	return r
}

// WithDefaults fills the choices tools always set when they are unset: connection mode Normal,
// namespace format Address (Service Bus contracts), user claim None, message format JSON.
func (e ServiceEndpoint) WithDefaults() ServiceEndpoint {
	if e.ConnectionMode == 0 {
		e.ConnectionMode = ConnectionModeNormal
	}
	if e.UserClaim == 0 {
		e.UserClaim = UserClaimNone
	}
	if e.MessageFormat == 0 {
		e.MessageFormat = MessageFormatJSON
	}
	if e.NamespaceFormat == 0 && e.Contract.IsServiceBus() {
		e.NamespaceFormat = NamespaceFormatAddress
	}
	return e
}

// utf16Len counts UTF-16 code units: Dataverse (.NET) measures column lengths that way.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncateUTF16 cuts s to at most max UTF-16 code units without splitting a character.
func truncateUTF16(s string, max int) string {
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > max {
			return s[:i]
		}
	}
	return s
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
