package endpoint

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Form fields of a pasted credential. ParseCredential keys its problems by these rather than by
// Dataverse columns: the person pasted one box, and the message belongs beside that box. Every
// page that takes a credential (the wizard, the test page, the re-key page) uses these names.
const (
	FieldConnectionString = "connectionstring" // Service Bus: a connection string, a bare SAS key or a SAS token
	FieldWebhookAuth      = "webhookauth"      // webhook: "key", "header" or "query" (WebhookAuth)
	FieldWebhookKey       = "webhookkey"       // webhook key authentication: the key
	FieldPairs            = "pairs"            // header or query settings: name=value lines, or the rows below
	FieldPairName         = "pairname"         // one row's name (repeated); problems go to FieldPairs
	FieldPairValue        = "pairvalue"        // one row's value (repeated); problems go to FieldPairs
)

// CredentialInput is what a person typed for an endpoint's secret, as the form sent it. The
// fields that may hold a secret are Secrets, so an input cannot be logged in clear.
type CredentialInput struct {
	ConnectionString Secret           // FieldConnectionString
	WebhookAuth      WebhookAuth      // FieldWebhookAuth; empty means the endpoint's own webhook auth type
	WebhookKey       Secret           // FieldWebhookKey
	PairLines        Secret           // FieldPairs: header or query settings, one name=value per line
	Pairs            []WebhookSetting // FieldPairName/FieldPairValue rows: header or query settings
}

// CredentialFromForm reads a credential from a posted form, by the field names above.
func CredentialFromForm(form url.Values) CredentialInput {
	in := CredentialInput{
		ConnectionString: NewSecret(form.Get(FieldConnectionString)),
		WebhookAuth:      WebhookAuth(form.Get(FieldWebhookAuth)),
		WebhookKey:       NewSecret(form.Get(FieldWebhookKey)),
		PairLines:        NewSecret(form.Get(FieldPairs)),
	}
	values := form[FieldPairValue]
	for i, name := range form[FieldPairName] {
		var v string
		if i < len(values) {
			v = values[i]
		}
		in.Pairs = append(in.Pairs, WebhookSetting{Name: name, Value: NewSecret(v)})
	}
	return in
}

// Empty reports whether nothing was typed into any credential box (white space counts as
// nothing). The choice of webhook authentication alone is not a credential.
func (in CredentialInput) Empty() bool {
	for _, s := range []Secret{in.ConnectionString, in.WebhookKey, in.PairLines} {
		if strings.TrimSpace(s.Reveal()) != "" {
			return false
		}
	}
	for _, p := range in.Pairs {
		if strings.TrimSpace(p.Name) != "" || p.Value.IsSet() {
			return false
		}
	}
	return true
}

// CredentialFacts is what a parsed credential says besides its secret, for a page to show. It
// holds no secret.
type CredentialFacts struct {
	Redacted      string   // the connection string with its key or signature masked; "" for other input
	Emulator      bool     // the connection string says UseDevelopmentEmulator=true
	NamespaceWide bool     // the policy (or token) covers the whole namespace, not one entity
	EntityPath    string   // the connection string's EntityPath
	KeyName       string   // the SAS policy's name, when the input names it (or the endpoint did)
	PairNames     []string // webhook header or query setting names, in order
	Kept          bool     // nothing was typed, and the secret the endpoint already held was kept
}

// Messages that more than one input leads to.
const (
	msgPasteConnectionString = "Paste the connection string of a shared access policy. " + whereToCopy + "."
	msgPasteKeyOrString      = "Paste the policy's connection string or its key. " + whereToCopy + " (or Primary Key)."
	msgKeyAlone              = "This looks like a key on its own. Paste the whole connection string (it starts with Endpoint=sb://), " +
		"so the portal also learns the namespace and the policy name. " + whereToCopy + "."
	msgTokenAlone = "This is a SAS token on its own, which does not say which namespace it is for. Paste the whole connection string " +
		"(Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessSignature=<token>;EntityPath=<entity>), or the policy's " +
		"connection string. " + whereToCopy + "."
	msgKeyNeedsPolicy = "A key on its own is not enough here: the endpoint names no SAS policy. Paste the policy's whole connection string. " +
		whereToCopy + "."
	msgChooseWebhookAuth = "Choose how the webhook authenticates Dataverse's calls: webhook key, HTTP headers or query string."
	msgEnterWebhookKey   = "Enter the webhook key (for Azure Functions: the function key)."
	msgKeyNotSettings    = "Enter the key alone; the <settings> form is for HTTP header or query string authentication."
	msgPairLines         = "Write one name=value per line, the name first, e.g. x-functions-key=abc123."
	msgPairNeedsName     = "Every value needs a name."
	msgEnterPairs        = "Enter at least one name and value."
)

// ParseCredential reads a pasted credential into e, the endpoint it is for, and returns e with
// the secret and the auth type set (and every other secret cleared), what the input says besides
// the secret, and problems keyed by the form field (FieldConnectionString, ...) with messages
// that say what to copy from where. On problems it returns e unchanged. No message quotes a
// secret.
//
// A Service Bus endpoint (KindOf) takes, in FieldConnectionString:
//   - a whole connection string, with SharedAccessKeyName and SharedAccessKey, or with
//     SharedAccessSignature, optionally UseDevelopmentEmulator=true;
//   - a bare 44-character SAS key, when e already names its namespace and its policy;
//   - a SAS token ("SharedAccessSignature sr=..."), when e already names its namespace.
//
// When e has a namespace address, the credential must belong to it (and, for an entity-level
// policy, to e's path). When e has none it is a new registration: the connection string says
// where (namespace address and name, path, policy name) and fills the choices e leaves unset
// the way Suggest does; a bare key or token cannot say where and is refused.
//
// A webhook takes the authentication in.WebhookAuth chooses (or e's own auth type when empty):
// a webhook key in FieldWebhookKey, or header/query settings as name=value lines in FieldPairs
// or as rows (Pairs). Rows with names but no values keep the settings e holds for the same
// authentication.
//
// Nothing typed keeps the secret e already holds for the same auth type (Kept); without one,
// it is a problem.
func ParseCredential(e ServiceEndpoint, in CredentialInput) (ServiceEndpoint, CredentialFacts, Problems) {
	var (
		out   ServiceEndpoint
		facts CredentialFacts
		p     Problems
	)
	if KindOf(e) == KindWebhook {
		out, facts, p = parseWebhookCredential(e, in)
	} else {
		out, facts, p = parseServiceBusCredential(e, in)
	}
	if len(p) > 0 {
		return e, CredentialFacts{}, p
	}
	return out, facts, nil
}

func problem(field, msg string) Problems { return Problems{{Field: field, Message: msg}} }

// withOnly returns e authenticating with auth type a and secret s, every other secret cleared.
func withOnly(e ServiceEndpoint, a AuthType, s Secret) ServiceEndpoint {
	e.AuthType = a
	e.SASKey, e.SASToken, e.AuthValue = Secret{}, Secret{}, Secret{}
	if p, ok := a.SecretPurpose(); ok {
		e.SetSecret(p, s)
	}
	return e
}

// heldSecret is the secret e holds for auth type a, if any and if Validate would accept it:
// only a usable secret is kept when nothing is typed.
func heldSecret(e ServiceEndpoint, a AuthType) (Secret, bool) {
	p, ok := a.SecretPurpose()
	if !ok || e.AuthType != a || !e.Secret(p).IsSet() {
		return Secret{}, false
	}
	v := validator{e: withOnly(e, a, e.Secret(p)), mode: ForCreate}
	if KindOf(e) == KindWebhook {
		v.webhook()
	} else {
		v.sasAuth()
	}
	for _, pr := range v.p {
		switch pr.Field {
		case FieldSASKey, FieldSASToken, FieldAuthValue, FieldAuthType, FieldSASKeyName:
			return Secret{}, false
		}
	}
	return e.Secret(p), true
}

func parseServiceBusCredential(e ServiceEndpoint, in CredentialInput) (ServiceEndpoint, CredentialFacts, Problems) {
	raw := strings.TrimSpace(in.ConnectionString.Reveal())
	existing := strings.TrimSpace(e.NamespaceAddress) != ""
	switch {
	case raw == "":
		if s, ok := heldSecret(e, e.AuthType); ok && existing {
			return withOnly(e, e.AuthType, s), CredentialFacts{KeyName: e.SASKeyName, Kept: true}, nil
		}
		if existing {
			return e, CredentialFacts{}, problem(FieldConnectionString, msgPasteKeyOrString)
		}
		return e, CredentialFacts{}, problem(FieldConnectionString, msgPasteConnectionString)
	case LooksLikeConnectionString(raw):
		return fromConnectionString(e, raw, existing)
	case hasSASPrefix(raw):
		if !existing {
			return e, CredentialFacts{}, problem(FieldConnectionString, msgTokenAlone)
		}
		tok := NewSecret(raw)
		if p := tokenProblems("The SAS token", tok, e); p != nil {
			return e, CredentialFacts{}, p
		}
		t, _ := ParseSASToken(raw)
		return withOnly(e, AuthTypeSASToken, tok), CredentialFacts{KeyName: t.KeyName, NamespaceWide: tokenNamespaceWide(t)}, nil
	}
	if !existing {
		if utf16Len(raw) == SASKeyLen && strings.IndexFunc(raw, unicode.IsSpace) < 0 {
			return e, CredentialFacts{}, problem(FieldConnectionString, msgKeyAlone)
		}
		_, err := ParseConnectionString(raw)
		msg := msgPasteConnectionString
		if err != nil {
			msg = err.Error()
		}
		return e, CredentialFacts{}, problem(FieldConnectionString, msg)
	}
	if n := utf16Len(raw); n != SASKeyLen {
		return e, CredentialFacts{}, problem(FieldConnectionString, "A SAS key has 44 characters; this has "+strconv.Itoa(n)+
			". Copy the Primary Key (or the whole Primary Connection String) of the policy.")
	}
	if strings.IndexFunc(raw, unicode.IsSpace) >= 0 {
		return e, CredentialFacts{}, problem(FieldConnectionString, "A SAS key has no spaces or line breaks inside; copy the policy's Primary Key again.")
	}
	if strings.TrimSpace(e.SASKeyName) == "" {
		return e, CredentialFacts{}, problem(FieldConnectionString, msgKeyNeedsPolicy)
	}
	return withOnly(e, AuthTypeSASKey, NewSecret(raw)), CredentialFacts{KeyName: e.SASKeyName}, nil
}

func hasSASPrefix(s string) bool {
	return len(s) >= len(sasPrefix) && strings.EqualFold(s[:len(sasPrefix)], sasPrefix)
}

// fromConnectionString takes a whole connection string: for a registered endpoint only its
// policy and secret, for a new registration also where it points.
func fromConnectionString(e ServiceEndpoint, raw string, existing bool) (ServiceEndpoint, CredentialFacts, Problems) {
	cs, err := ParseConnectionString(raw)
	if err != nil {
		return e, CredentialFacts{}, problem(FieldConnectionString, err.Error())
	}
	out := e
	if existing {
		if !sameNamespace(e.NamespaceAddress, cs.Host) {
			return e, CredentialFacts{}, problem(FieldConnectionString, "This connection string is for namespace "+cs.Host+
				", but the endpoint uses "+e.NamespaceAddress+". Copy the connection string of a policy in the endpoint's namespace.")
		}
		path := strings.Trim(e.Path, "/")
		if entity := strings.Trim(cs.EntityPath, "/"); entity != "" && path != "" && !strings.EqualFold(entity, path) {
			return e, CredentialFacts{}, problem(FieldConnectionString, "This connection string's policy belongs to "+cs.EntityPath+
				", but the endpoint sends to "+e.Path+". Copy the connection string of a policy on "+e.Path+
				" (its own Shared access policies), or of a namespace-wide policy.")
		}
	} else {
		sug := cs.Suggest()
		out.NamespaceAddress, out.SolutionNamespace, out.Path = sug.NamespaceAddress, sug.SolutionNamespace, sug.Path
		out.NamespaceFormat = NamespaceFormatAddress
		if strings.TrimSpace(out.Name) == "" {
			out.Name = sug.Name
		}
		if !out.Contract.IsServiceBus() {
			out.Contract = sug.Contract
		}
		if out.Contract.IsRelay() {
			// Relays are reached over https://, queues, topics and event hubs over sb://.
			out.NamespaceAddress = "https://" + cs.Host + "/"
		}
		out = out.WithDefaults()
		out.SASKeyName = sug.SASKeyName
	}
	facts := CredentialFacts{Redacted: cs.Redacted(), Emulator: cs.Emulator, NamespaceWide: cs.NamespaceWide(),
		EntityPath: cs.EntityPath, KeyName: cs.KeyName}
	if cs.UsesSASToken() {
		out = withOnly(out, AuthTypeSASToken, cs.SASToken)
		if p := tokenProblems("The connection string's SAS token", cs.SASToken, out); p != nil {
			return e, CredentialFacts{}, p
		}
		if facts.KeyName == "" {
			t, _ := ParseSASToken(cs.SASToken.Reveal())
			facts.KeyName = t.KeyName
		}
		return out, facts, nil
	}
	key := cs.Key.Reveal()
	switch {
	case strings.TrimSpace(cs.KeyName) == "":
		return e, CredentialFacts{}, problem(FieldConnectionString, "The connection string's SharedAccessKeyName (the policy's name) is empty. "+
			"Copy the whole Primary Connection String again. "+whereToCopy+".")
	case utf16Len(cs.KeyName) > MaxSASKeyNameLen:
		return e, CredentialFacts{}, problem(FieldConnectionString, "The connection string's SharedAccessKeyName is "+strconv.Itoa(utf16Len(cs.KeyName))+
			" characters long; Dataverse stores at most 256. Copy the Primary Connection String of a policy with a shorter name.")
	case LooksLikeConnectionString(key) || hasSASPrefix(strings.TrimSpace(key)):
		return e, CredentialFacts{}, problem(FieldConnectionString, "The connection string's SharedAccessKey value is not a key: "+
			"a ';' is probably missing between its parts. Copy the whole Primary Connection String again. "+whereToCopy+".")
	case strings.TrimSpace(key) != key:
		return e, CredentialFacts{}, problem(FieldConnectionString, "Remove the spaces or line breaks around the SharedAccessKey value, "+
			"or copy the Primary Connection String again.")
	case utf16Len(key) != SASKeyLen:
		return e, CredentialFacts{}, problem(FieldConnectionString, "The connection string's SharedAccessKey has "+strconv.Itoa(utf16Len(key))+
			" characters, but a SAS key has exactly 44. Copy the whole Primary Connection String again. "+whereToCopy+".")
	}
	out = withOnly(out, AuthTypeSASKey, cs.Key)
	out.SASKeyName = cs.KeyName
	return out, facts, nil
}

// sameNamespace reports whether host (from a connection string) is the namespace of the
// address: the same host name, ignoring case, and the same port when both name one.
func sameNamespace(address, host string) bool {
	u, err := url.Parse(strings.TrimSpace(address))
	if err != nil || u.Host == "" {
		return false
	}
	h1, p1 := splitHostPort(u.Host)
	h2, p2 := splitHostPort(host)
	return strings.EqualFold(strings.TrimSuffix(h1, "."), strings.TrimSuffix(h2, ".")) && (p1 == "" || p2 == "" || p1 == p2)
}

func splitHostPort(hostport string) (host, port string) {
	h := hostWithoutPort(hostport)
	if h != hostport && strings.HasSuffix(hostport, "]") {
		return h, "" // [::1] without a port
	}
	if h != hostport {
		port = hostport[strings.LastIndexByte(hostport, ':')+1:]
	}
	return h, port
}

// tokenProblems checks a SAS token against the endpoint it is for: readable, short enough for
// Dataverse, and signed for the endpoint's entity (or, while the path is unknown, its namespace).
func tokenProblems(what string, tok Secret, e ServiceEndpoint) Problems {
	s := tok.Reveal()
	if n := utf16Len(s); n > MaxSASTokenLen {
		return problem(FieldConnectionString, what+" is "+strconv.Itoa(n)+" characters long; Dataverse stores at most 256. "+
			"Sign one for a shorter resource URI or policy name.")
	}
	t, err := ParseSASToken(s)
	if err != nil {
		return problem(FieldConnectionString, what+" cannot be read: "+err.Error()+".")
	}
	if !tokenFits(t, e) {
		return problem(FieldConnectionString, what+" was signed for another resource; sign one for "+ResourceURI(e)+" or its namespace.")
	}
	return nil
}

// tokenFits reports whether t can authenticate to e: it covers e's entity, or, while e has no
// path yet, it is at least for e's namespace.
func tokenFits(t SASToken, e ServiceEndpoint) bool {
	uri := ResourceURI(e)
	if uri == "" || t.Covers(uri) {
		return true
	}
	if strings.Trim(e.Path, "/") != "" {
		return false
	}
	return strings.HasPrefix(strings.TrimSuffix(stripScheme(strings.ToLower(t.Resource)), "/")+"/", stripScheme(uri))
}

// tokenNamespaceWide reports whether a token's resource is a whole namespace (no entity path).
func tokenNamespaceWide(t SASToken) bool {
	_, path, _ := strings.Cut(strings.Trim(stripScheme(t.Resource), "/"), "/")
	return path == ""
}

func parseWebhookCredential(e ServiceEndpoint, in CredentialInput) (ServiceEndpoint, CredentialFacts, Problems) {
	auth := in.WebhookAuth
	if auth == "" {
		auth, _ = WebhookAuthOf(e.AuthType)
	}
	if !auth.Valid() {
		return e, CredentialFacts{}, problem(FieldWebhookAuth, msgChooseWebhookAuth)
	}
	a := auth.AuthType()
	held, holds := heldSecret(e, a)
	if auth == WebhookAuthKey {
		key := strings.TrimSpace(in.WebhookKey.Reveal())
		switch {
		case key == "" && holds:
			return withOnly(e, a, held), CredentialFacts{Kept: true}, nil
		case key == "":
			return e, CredentialFacts{}, problem(FieldWebhookKey, msgEnterWebhookKey)
		case strings.HasPrefix(key, "<"):
			return e, CredentialFacts{}, problem(FieldWebhookKey, msgKeyNotSettings)
		case utf16Len(key) > MaxAuthValueLen:
			return e, CredentialFacts{}, problem(FieldWebhookKey, "The webhook key is "+strconv.Itoa(utf16Len(key))+
				" characters long; Dataverse stores at most 2048. Copy the key alone.")
		}
		return withOnly(e, a, NewSecret(key)), CredentialFacts{}, nil
	}

	settings, p := readPairs(in, auth)
	if p != nil {
		return e, CredentialFacts{}, p
	}
	anyValue := false
	for _, s := range settings {
		anyValue = anyValue || s.Value.IsSet()
	}
	if !anyValue {
		if holds {
			// Names alone (values are never shown again): keep the settings already set.
			return withOnly(e, a, held), CredentialFacts{PairNames: settingNames(held), Kept: true}, nil
		}
		return e, CredentialFacts{}, problem(FieldPairs, msgEnterPairs)
	}
	av := FormatWebhookSettings(settings)
	if n := utf16Len(av.Reveal()); n > MaxAuthValueLen {
		return e, CredentialFacts{}, problem(FieldPairs, "The settings take "+strconv.Itoa(n)+
			" characters as Dataverse stores them, more than its 2048; use fewer or shorter names and values.")
	}
	names := make([]string, len(settings))
	for i, s := range settings {
		names[i] = s.Name
	}
	return withOnly(e, a, av), CredentialFacts{PairNames: names}, nil
}

// readPairs collects header or query settings from the name=value lines and the rows. Names
// are trimmed; row values are taken as typed, line values trimmed.
func readPairs(in CredentialInput, auth WebhookAuth) ([]WebhookSetting, Problems) {
	var (
		settings []WebhookSetting
		p        Problems
	)
	add := func(field, msg string) {
		if !slices.Contains(p.For(field), msg) {
			p = append(p, Problem{Field: field, Message: msg})
		}
	}
	for _, line := range strings.Split(in.PairLines.Reveal(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n, v, ok := strings.Cut(line, "=")
		n = strings.TrimSpace(n)
		// A key pasted without its name ("abc123==") would otherwise become a header name,
		// which is shown and stored in clear: refuse a line whose value is only the '='
		// padding of a base64 key.
		if v = strings.TrimSpace(v); !ok || n == "" || v != "" && strings.Trim(v, "=") == "" {
			add(FieldPairs, msgPairLines)
			continue
		}
		settings = append(settings, WebhookSetting{Name: n, Value: NewSecret(v)})
	}
	for _, row := range in.Pairs {
		n := strings.TrimSpace(row.Name)
		switch {
		case n == "" && !row.Value.IsSet():
			continue
		case n == "":
			add(FieldPairs, msgPairNeedsName)
			continue
		}
		settings = append(settings, WebhookSetting{Name: n, Value: row.Value})
	}
	for _, s := range settings {
		if auth == WebhookAuthHeader && !ValidHeaderName(s.Name) {
			add(FieldPairs, "Header name "+strconv.Quote(truncateForMessage(s.Name))+" is not valid: use letters, digits and '-' only, e.g. x-api-key.")
		}
		if strings.ContainsAny(s.Value.Reveal(), "\r\n") {
			add(FieldPairs, "The value of "+strconv.Quote(truncateForMessage(s.Name))+" contains a line break; remove it.")
		}
	}
	return settings, p
}

// settingNames lists the names of held header or query settings (heldSecret made sure they
// read).
func settingNames(av Secret) []string {
	settings, _ := ParseWebhookSettings(av)
	names := make([]string, len(settings))
	for i, s := range settings {
		names[i] = s.Name
	}
	return names
}
