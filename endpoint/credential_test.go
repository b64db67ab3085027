package endpoint

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// Fixtures for ParseCredential.
const (
	otherKey     = "ZYXWVUTSRQponmlkjihgfedcba9876543210ZYXWVUT=" // 44 characters
	csQueue      = "Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send2;SharedAccessKey=" + otherKey + ";EntityPath=orders"
	csNamespace  = "Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + otherKey
	csTokenQueue = "Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessSignature=" + testToken + ";EntityPath=orders"
	invoiceToken = "SharedAccessSignature sr=https%3a%2f%2fmybus.servicebus.windows.net%2finvoices&sig=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG%3d&se=1900000000&skn=send"
)

// registeredQueue is a saved endpoint as the catalog has it: Dataverse never returns the key.
func registeredQueue() ServiceEndpoint {
	q := validQueue()
	q.SASKey = Secret{}
	q.IsSASKeySet = true
	return q
}

func registeredWebhook(a AuthType) ServiceEndpoint {
	return ServiceEndpoint{Name: "hook", URL: "https://example.com/api/dataverse", Contract: ContractWebhook,
		ConnectionMode: ConnectionModeNormal, UserClaim: UserClaimNone, AuthType: a, IsAuthValueSet: true}
}

// draftBase is what the wizard passes on step 2: a registration that has not chosen its
// namespace yet.
func draftBase() ServiceEndpoint { return ServiceEndpoint{ID: "draft-endpoint"} }

func pasted(s string) CredentialInput { return CredentialInput{ConnectionString: NewSecret(s)} }

// credentialEndpoints are the endpoints credentials are pasted for: saved ones as the catalog
// has them (no secret), ones holding a secret, and the wizard's new registrations.
func credentialEndpoints() map[string]ServiceEndpoint {
	heldQueue := registeredQueue()
	heldQueue.SASKey = NewSecret(testKey)
	relay := registeredQueue()
	relay.Contract, relay.NamespaceAddress = ContractOneWay, "https://mybus.servicebus.windows.net/"
	emulator := registeredQueue()
	emulator.NamespaceAddress, emulator.SolutionNamespace = "sb://localhost:5672/", "localhost"
	noPolicy := registeredQueue()
	noPolicy.SASKeyName = ""
	tokenQueue := registeredQueue()
	tokenQueue.AuthType = AuthTypeSASToken
	namedDraft := draftBase()
	namedDraft.Name, namedDraft.Contract, namedDraft.MessageFormat = "Mine", ContractTopic, MessageFormatTextXML
	relayDraft := draftBase()
	relayDraft.Contract = ContractTwoWay
	heldKeyHook := registeredWebhook(AuthTypeWebhookKey)
	heldKeyHook.AuthValue = NewSecret("functionkey123")
	heldHeaderHook := registeredWebhook(AuthTypeHTTPHeader)
	heldHeaderHook.AuthValue = FormatWebhookSettings([]WebhookSetting{{"x-api-key", NewSecret("s3cr&t")}})
	return map[string]ServiceEndpoint{
		"queue": registeredQueue(), "held queue": heldQueue, "relay": relay, "emulator": emulator, "no policy": noPolicy,
		"token queue": tokenQueue, "draft": draftBase(), "named draft": namedDraft, "relay draft": relayDraft,
		"key hook": registeredWebhook(AuthTypeWebhookKey), "held key hook": heldKeyHook,
		"header hook": registeredWebhook(AuthTypeHTTPHeader), "held header hook": heldHeaderHook,
		"query hook": registeredWebhook(AuthTypeHTTPQueryString), "hook without auth": registeredWebhook(0),
	}
}

func TestParseCredential(t *testing.T) {
	eps := credentialEndpoints()
	heldQueue, relay, emulator, noPolicy, tokenQueue := eps["held queue"], eps["relay"], eps["emulator"], eps["no policy"], eps["token queue"]
	namedDraft, relayDraft, heldKeyHook, heldHeaderHook := eps["named draft"], eps["relay draft"], eps["held key hook"], eps["held header hook"]
	rows := func(kv ...string) []WebhookSetting {
		var out []WebhookSetting
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, WebhookSetting{Name: kv[i], Value: NewSecret(kv[i+1])})
		}
		return out
	}

	cases := []struct {
		name  string
		e     ServiceEndpoint
		in    CredentialInput
		field string // the field of the problem; "" when it must parse
		want  string // a piece of the problem's message
		check func(t *testing.T, got ServiceEndpoint, f CredentialFacts)
	}{
		// Service Bus, registered endpoint (test and re-key pages).
		{name: "connection string", e: registeredQueue(), in: pasted(csQueue), check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
			if got.AuthType != AuthTypeSASKey || got.SASKey.Reveal() != otherKey || got.SASKeyName != "send2" || got.SASToken.IsSet() ||
				got.Path != "orders" || got.NamespaceAddress != "sb://mybus.servicebus.windows.net/" {
				t.Errorf("endpoint %+v", got)
			}
			if f.EntityPath != "orders" || f.NamespaceWide || f.KeyName != "send2" || f.Emulator || !strings.Contains(f.Redacted, "SharedAccessKey=********") {
				t.Errorf("facts %+v", f)
			}
		}},
		{name: "connection string with spaces and line breaks around it", e: registeredQueue(), in: pasted("\n  " + csQueue + " \r\n")},
		{name: "namespace-wide connection string", e: registeredQueue(), in: pasted(csNamespace), check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
			if !f.NamespaceWide || got.SASKeyName != "RootManageSharedAccessKey" || got.Path != "orders" {
				t.Errorf("endpoint %+v, facts %+v", got, f)
			}
		}},
		{name: "host matches without regard to case", e: registeredQueue(), in: pasted(strings.Replace(csQueue, "mybus", "MyBus", 1))},
		{name: "entity matches without regard to case", e: registeredQueue(), in: pasted(strings.Replace(csQueue, "EntityPath=orders", "EntityPath=Orders", 1))},
		{name: "connection string of another namespace", e: registeredQueue(),
			in: pasted(strings.Replace(csQueue, "mybus", "other", 1)), field: FieldConnectionString, want: "namespace other.servicebus.windows.net"},
		{name: "connection string of another entity", e: registeredQueue(),
			in: pasted(strings.Replace(csQueue, "EntityPath=orders", "EntityPath=invoices", 1)), field: FieldConnectionString, want: "policy belongs to invoices"},
		{name: "connection string with a SAS token", e: registeredQueue(), in: pasted(csTokenQueue), check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
			if got.AuthType != AuthTypeSASToken || got.SASToken.Reveal() != testToken || got.SASKey.IsSet() || got.SASKeyName != "send" || f.KeyName != "send" {
				t.Errorf("endpoint %+v, facts %+v", got, f)
			}
			if !strings.Contains(f.Redacted, "SharedAccessSignature=********") {
				t.Errorf("redacted %q", f.Redacted)
			}
		}},
		{name: "connection string with a token for another entity", e: registeredQueue(),
			in: pasted("Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessSignature=" + invoiceToken), field: FieldConnectionString,
			want: "SAS token was signed for another resource; sign one for https://mybus.servicebus.windows.net/orders"},
		{name: "SASKey length should be 44: a cut connection string", e: registeredQueue(),
			in: pasted(strings.Replace(csQueue, otherKey, otherKey[:40], 1)), field: FieldConnectionString, want: "SharedAccessKey has 40 characters, but a SAS key has exactly 44"},
		{name: "connection string key with a space", e: registeredQueue(),
			in: pasted(strings.Replace(csQueue, "SharedAccessKey=", "SharedAccessKey= ", 1)), field: FieldConnectionString, want: "Remove the spaces or line breaks around the SharedAccessKey"},
		{name: "connection string without a policy name", e: registeredQueue(),
			in: pasted("Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKey=" + otherKey), field: FieldConnectionString, want: "no SharedAccessKeyName"},
		{name: "connection string with an empty policy name", e: registeredQueue(),
			in: pasted(strings.Replace(csQueue, "SharedAccessKeyName=send2", "SharedAccessKeyName=", 1)), field: FieldConnectionString, want: "SharedAccessKeyName (the policy's name) is empty"},
		{name: "connection string with a long policy name", e: registeredQueue(),
			in: pasted(strings.Replace(csQueue, "send2", strings.Repeat("p", 257), 1)), field: FieldConnectionString, want: "SharedAccessKeyName is 257 characters long"},
		{name: "connection string missing a ';'", e: registeredQueue(),
			in: pasted(strings.Replace(csQueue, ";EntityPath", "EntityPath", 1)), field: FieldConnectionString, want: "SharedAccessKey value is not a key"},
		{name: "endpoint with an unreadable namespace address", e: func() ServiceEndpoint { q := registeredQueue(); q.NamespaceAddress = "mybus"; return q }(),
			in: pasted(csQueue), field: FieldConnectionString, want: "but the endpoint uses mybus"},
		{name: "IPv6 emulator", e: func() ServiceEndpoint { q := registeredQueue(); q.NamespaceAddress = "sb://[::1]/"; return q }(),
			in: pasted("Endpoint=sb://[::1]:5672;SharedAccessKeyName=send;SharedAccessKey=" + otherKey + ";UseDevelopmentEmulator=true")},
		{name: "connection string for a relay's https address", e: relay, in: pasted(csQueue), check: func(t *testing.T, got ServiceEndpoint, _ CredentialFacts) {
			if got.NamespaceAddress != "https://mybus.servicebus.windows.net/" || got.SASKey.Reveal() != otherKey {
				t.Errorf("endpoint %+v", got)
			}
		}},
		{name: "emulator connection string", e: emulator,
			in: pasted("Endpoint=sb://localhost:5672;SharedAccessKeyName=send;SharedAccessKey=" + otherKey + ";UseDevelopmentEmulator=true"),
			check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
				if !f.Emulator || !strings.HasSuffix(f.Redacted, "UseDevelopmentEmulator=true") {
					t.Errorf("facts %+v", f)
				}
			}},
		{name: "emulator on another port", e: emulator,
			in:    pasted("Endpoint=sb://localhost:5673;SharedAccessKeyName=send;SharedAccessKey=" + otherKey + ";UseDevelopmentEmulator=true"),
			field: FieldConnectionString, want: "namespace localhost:5673"},
		{name: "bare key", e: registeredQueue(), in: pasted(" " + otherKey + "\n"), check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
			if got.AuthType != AuthTypeSASKey || got.SASKey.Reveal() != otherKey || got.SASKeyName != "send" || f.KeyName != "send" || f.Redacted != "" {
				t.Errorf("endpoint %+v, facts %+v", got, f)
			}
		}},
		{name: "bare key switches a token endpoint to key authentication", e: tokenQueue, in: pasted(otherKey), check: func(t *testing.T, got ServiceEndpoint, _ CredentialFacts) {
			if got.AuthType != AuthTypeSASKey || got.SASToken.IsSet() {
				t.Errorf("endpoint %+v", got)
			}
		}},
		{name: "bare key too short", e: registeredQueue(), in: pasted("short"), field: FieldConnectionString, want: "A SAS key has 44 characters; this has 5"},
		{name: "bare key too long", e: registeredQueue(), in: pasted(otherKey + "x"), field: FieldConnectionString, want: "this has 45"},
		{name: "bare key with a line break inside", e: registeredQueue(), in: pasted(otherKey[:20] + "\n" + otherKey[21:]), field: FieldConnectionString, want: "no spaces or line breaks"},
		{name: "bare key without a policy", e: noPolicy, in: pasted(otherKey), field: FieldConnectionString, want: "the endpoint names no SAS policy"},
		{name: "bare SAS token", e: registeredQueue(), in: pasted(testToken), check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
			if got.AuthType != AuthTypeSASToken || got.SASToken.Reveal() != testToken || got.SASKey.IsSet() || f.KeyName != "send" || f.NamespaceWide {
				t.Errorf("endpoint %+v, facts %+v", got, f)
			}
		}},
		{name: "bare namespace SAS token", e: registeredQueue(),
			in: pasted("sharedaccesssignature sr=sb%3a%2f%2fmybus.servicebus.windows.net%2f&sig=abc%3d&se=1900000000&skn=root"),
			check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
				if !f.NamespaceWide || f.KeyName != "root" {
					t.Errorf("facts %+v", f)
				}
			}},
		{name: "bare SAS token for another entity", e: registeredQueue(), in: pasted(invoiceToken), field: FieldConnectionString, want: "The SAS token was signed for another resource"},
		{name: "bare SAS token unreadable", e: registeredQueue(), in: pasted("SharedAccessSignature sr=x&se=1"), field: FieldConnectionString, want: "The SAS token cannot be read: SAS token lacks sig"},
		{name: "bare SAS token too long", e: registeredQueue(), in: pasted(testToken + "&x=" + strings.Repeat("a", 200)), field: FieldConnectionString, want: "Dataverse stores at most 256"},
		{name: "nothing pasted", e: registeredQueue(), in: pasted("  \n"), field: FieldConnectionString, want: "Paste the policy's connection string or its key"},
		{name: "nothing pasted does not keep an unusable key", e: func() ServiceEndpoint { q := registeredQueue(); q.SASKey = NewSecret("short"); return q }(),
			in: pasted(""), field: FieldConnectionString, want: "Paste the policy's connection string or its key"},
		{name: "nothing pasted keeps the key the endpoint holds", e: heldQueue, in: pasted(""), check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
			if !f.Kept || got.SASKey.Reveal() != testKey {
				t.Errorf("endpoint %+v, facts %+v", got, f)
			}
		}},

		// Service Bus, new registration (the wizard's step 2).
		{name: "new: connection string says where", e: draftBase(), in: pasted(csQueue), check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
			want := ServiceEndpoint{ID: "draft-endpoint", Name: "mybus orders", SolutionNamespace: "mybus", NamespaceAddress: "sb://mybus.servicebus.windows.net/",
				Path: "orders", Contract: ContractQueue, ConnectionMode: ConnectionModeNormal, UserClaim: UserClaimNone, MessageFormat: MessageFormatJSON,
				AuthType: AuthTypeSASKey, SASKeyName: "send2", SASKey: NewSecret(otherKey), NamespaceFormat: NamespaceFormatAddress}
			if got != want {
				t.Errorf("endpoint\n%+v, want\n%+v", got, want)
			}
			if p := got.Validate(); p != nil {
				t.Errorf("a registration from an entity's connection string must be valid: %v", p)
			}
		}},
		{name: "new: namespace-wide connection string leaves contract and path open", e: draftBase(), in: pasted(csNamespace),
			check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
				if got.Contract != 0 || got.Path != "" || got.Name != "mybus" || !f.NamespaceWide || f.KeyName != "RootManageSharedAccessKey" {
					t.Errorf("endpoint %+v, facts %+v", got, f)
				}
			}},
		{name: "new: keeps what the person chose", e: namedDraft, in: pasted(csQueue), check: func(t *testing.T, got ServiceEndpoint, _ CredentialFacts) {
			if got.Name != "Mine" || got.Contract != ContractTopic || got.MessageFormat != MessageFormatTextXML {
				t.Errorf("endpoint %+v", got)
			}
		}},
		{name: "new: a relay gets an https address", e: relayDraft, in: pasted(csQueue), check: func(t *testing.T, got ServiceEndpoint, _ CredentialFacts) {
			if got.NamespaceAddress != "https://mybus.servicebus.windows.net/" || got.Contract != ContractTwoWay {
				t.Errorf("endpoint %+v", got)
			}
		}},
		{name: "new: connection string with a SAS token", e: draftBase(), in: pasted(csTokenQueue), check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
			if got.AuthType != AuthTypeSASToken || got.SASKeyName != "send" || got.Path != "orders" || f.KeyName != "send" {
				t.Errorf("endpoint %+v, facts %+v", got, f)
			}
		}},
		{name: "new: namespace-wide connection string with an entity's token", e: draftBase(),
			in: pasted("Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessSignature=" + testToken)},
		{name: "new: connection string with a token for another namespace", e: draftBase(),
			in: pasted("Endpoint=sb://other.servicebus.windows.net/;SharedAccessSignature=" + testToken), field: FieldConnectionString,
			want: "The connection string's SAS token was signed for another resource"},
		{name: "new: a key alone", e: draftBase(), in: pasted(otherKey), field: FieldConnectionString, want: "This looks like a key on its own. Paste the whole connection string"},
		{name: "new: a token alone", e: draftBase(), in: pasted(testToken), field: FieldConnectionString, want: "SAS token on its own"},
		{name: "new: text without '='", e: draftBase(), in: pasted("hello"), field: FieldConnectionString, want: "part without '='"},
		{name: "new: an address", e: draftBase(), in: pasted("https://mybus.servicebus.windows.net/"), field: FieldConnectionString, want: "part without '='"},
		{name: "new: nothing pasted", e: draftBase(), in: pasted(""), field: FieldConnectionString, want: "Paste the connection string of a shared access policy"},
		{name: "new: SASKey length should be 44", e: draftBase(), in: pasted(strings.Replace(csQueue, otherKey, "short", 1)),
			field: FieldConnectionString, want: "SharedAccessKey has 5 characters"},

		// Webhooks.
		{name: "webhook key", e: registeredWebhook(AuthTypeWebhookKey), in: CredentialInput{WebhookKey: NewSecret(" functionkey123 ")},
			check: func(t *testing.T, got ServiceEndpoint, _ CredentialFacts) {
				if got.AuthType != AuthTypeWebhookKey || got.AuthValue.Reveal() != "functionkey123" {
					t.Errorf("endpoint %+v", got)
				}
			}},
		{name: "webhook key chosen over the endpoint's auth", e: heldHeaderHook, in: CredentialInput{WebhookAuth: WebhookAuthKey, WebhookKey: NewSecret("functionkey123")},
			check: func(t *testing.T, got ServiceEndpoint, _ CredentialFacts) {
				if got.AuthType != AuthTypeWebhookKey || got.AuthValue.Reveal() != "functionkey123" {
					t.Errorf("endpoint %+v", got)
				}
			}},
		{name: "webhook key missing", e: registeredWebhook(AuthTypeWebhookKey), in: CredentialInput{}, field: FieldWebhookKey, want: "Enter the webhook key"},
		{name: "webhook key missing, other auth held", e: heldHeaderHook, in: CredentialInput{WebhookAuth: WebhookAuthKey}, field: FieldWebhookKey, want: "Enter the webhook key"},
		{name: "webhook key kept", e: heldKeyHook, in: CredentialInput{WebhookAuth: WebhookAuthKey}, check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
			if !f.Kept || got.AuthValue.Reveal() != "functionkey123" {
				t.Errorf("endpoint %+v, facts %+v", got, f)
			}
		}},
		{name: "webhook key as settings", e: registeredWebhook(AuthTypeWebhookKey), in: CredentialInput{WebhookKey: NewSecret(`<settings><setting name="a" value="b"/></settings>`)},
			field: FieldWebhookKey, want: "Enter the key alone"},
		{name: "webhook key too long", e: registeredWebhook(AuthTypeWebhookKey), in: CredentialInput{WebhookKey: NewSecret(strings.Repeat("k", 2049))},
			field: FieldWebhookKey, want: "at most 2048"},
		{name: "header lines", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{PairLines: NewSecret("x-api-key = s3cr&t\r\n\n x-tenant=contoso \n")},
			check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
				settings, err := ParseWebhookSettings(got.AuthValue)
				if err != nil || len(settings) != 2 || settings[0].Name != "x-api-key" || settings[0].Value.Reveal() != "s3cr&t" ||
					settings[1].Name != "x-tenant" || settings[1].Value.Reveal() != "contoso" || got.AuthType != AuthTypeHTTPHeader {
					t.Errorf("settings %+v, %v", settings, err)
				}
				if strings.Join(f.PairNames, ",") != "x-api-key,x-tenant" {
					t.Errorf("facts %+v", f)
				}
			}},
		{name: "a line without '='", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{PairLines: NewSecret("x-api-key: s3cr&t")}, field: FieldPairs, want: "Write one name=value per line, the name first"},
		{name: "a line without a name", e: registeredWebhook(AuthTypeHTTPQueryString), in: CredentialInput{PairLines: NewSecret("=s3cr&t")}, field: FieldPairs, want: "Write one name=value per line, the name first"},
		{name: "a key pasted without its name", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{PairLines: NewSecret("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==")}, field: FieldPairs, want: "e.g. x-functions-key=abc123"},
		{name: "no lines", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{PairLines: NewSecret("\n\n")}, field: FieldPairs, want: "Enter at least one name and value."},
		{name: "lines without values", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{PairLines: NewSecret("x-api-key=")}, field: FieldPairs, want: "Enter at least one name and value."},
		{name: "invalid header name", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{PairLines: NewSecret("x api key=s3cr&t")}, field: FieldPairs, want: `Header name "x api key" is not valid`},
		{name: "query names may have spaces", e: registeredWebhook(AuthTypeHTTPQueryString), in: CredentialInput{PairLines: NewSecret("api key=s3cr&t")}},
		{name: "query rows", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{WebhookAuth: WebhookAuthQuery, Pairs: rows("code", "s3cr&t", "", "", "tenant", "")},
			check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
				settings, err := ParseWebhookSettings(got.AuthValue)
				if err != nil || len(settings) != 2 || got.AuthType != AuthTypeHTTPQueryString || strings.Join(f.PairNames, ",") != "code,tenant" {
					t.Errorf("settings %+v, %v, endpoint %+v", settings, err, got)
				}
			}},
		{name: "a row value without a name", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{Pairs: rows("x-api-key", "s3cr&t", " ", "Injected: 1")},
			field: FieldPairs, want: "Every value needs a name."},
		{name: "a row value with a line break", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{Pairs: rows("x-api-key", "s3cr&t\r\nInjected: 1")},
			field: FieldPairs, want: `The value of "x-api-key" contains a line break`},
		{name: "row names only keep the settings held", e: heldHeaderHook, in: CredentialInput{WebhookAuth: WebhookAuthHeader, Pairs: rows("x-api-key", "", "", "")},
			check: func(t *testing.T, got ServiceEndpoint, f CredentialFacts) {
				if !f.Kept || !got.AuthValue.Equal(heldHeaderHook.AuthValue) || strings.Join(f.PairNames, ",") != "x-api-key" {
					t.Errorf("endpoint %+v, facts %+v", got, f)
				}
			}},
		{name: "row names only do not keep unreadable settings", e: func() ServiceEndpoint { h := eps["header hook"]; h.AuthValue = NewSecret("<settings>"); return h }(),
			in: CredentialInput{Pairs: rows("x-api-key", "")}, field: FieldPairs, want: "Enter at least one name and value."},
		{name: "row names only for another auth", e: heldHeaderHook, in: CredentialInput{WebhookAuth: WebhookAuthQuery, Pairs: rows("x-api-key", "")},
			field: FieldPairs, want: "Enter at least one name and value."},
		{name: "settings too long", e: registeredWebhook(AuthTypeHTTPHeader), in: CredentialInput{PairLines: NewSecret("x-api-key=" + strings.Repeat("&", 400))},
			field: FieldPairs, want: "more than its 2048"},
		{name: "no webhook auth chosen", e: registeredWebhook(0), in: CredentialInput{WebhookKey: NewSecret("functionkey123")}, field: FieldWebhookAuth, want: "Choose how the webhook authenticates"},
		{name: "unknown webhook auth", e: registeredWebhook(AuthTypeWebhookKey), in: CredentialInput{WebhookAuth: "basic", WebhookKey: NewSecret("functionkey123")},
			field: FieldWebhookAuth, want: "Choose how the webhook authenticates"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, facts, p := ParseCredential(c.e, c.in)
			if c.field != "" {
				if len(p) != 1 || p[0].Field != c.field || !strings.Contains(p[0].Message, c.want) {
					t.Fatalf("problems %v, want one on %s with %q", p, c.field, c.want)
				}
				if got != c.e || facts.Redacted != "" || facts.Kept || facts.PairNames != nil {
					t.Errorf("on problems the endpoint must come back unchanged and without facts: %+v, %+v", got, facts)
				}
				assertNoSecretIn(t, p.Error())
				for _, s := range []string{otherKey, otherKey[:10], "s3cr&t"} {
					if strings.Contains(p.Error(), s) {
						t.Fatalf("problem quotes a secret: %s", p)
					}
				}
				return
			}
			if p != nil {
				t.Fatalf("problems: %v", p)
			}
			checkCredentialInvariants(t, c.e, got)
			if c.check != nil {
				c.check(t, got, facts)
			}
		})
	}
}

// checkCredentialInvariants holds a parsed credential to what the endpoint promises: the kind
// is unchanged, exactly the secret of its auth type is set, and Validate has nothing to say
// about the credential.
func checkCredentialInvariants(t *testing.T, before, got ServiceEndpoint) {
	t.Helper()
	if KindOf(got) != KindOf(before) {
		t.Fatalf("kind changed from %s to %s", KindOf(before), KindOf(got))
	}
	purpose, ok := got.AuthType.SecretPurpose()
	if !ok {
		t.Fatalf("auth type %v has no secret", got.AuthType)
	}
	if KindOf(got) == KindWebhook != got.AuthType.IsWebhookAuth() {
		t.Fatalf("auth type %v for a %s endpoint", got.AuthType, KindOf(got))
	}
	for _, p := range SecretPurposes {
		if got.Secret(p).IsSet() != (p == purpose) {
			t.Fatalf("secret %s set = %v with auth type %v", p, got.Secret(p).IsSet(), got.AuthType)
		}
	}
	if strings.TrimSpace(before.NamespaceAddress) != "" && got.NamespaceAddress != before.NamespaceAddress {
		t.Fatalf("namespace address changed from %q to %q", before.NamespaceAddress, got.NamespaceAddress)
	}
	// Validate the credential as part of a registration that is otherwise complete.
	v := got
	if v.Name == "" {
		v.Name = "x"
	}
	if KindOf(v) == KindServiceBus {
		if !v.Contract.IsServiceBus() || !isRegistrable(v.Contract) {
			v.Contract = ContractQueue
		}
		if v.Path == "" {
			if tok, err := ParseSASToken(v.SASToken.Reveal()); err == nil && v.SASToken.IsSet() {
				_, v.Path, _ = strings.Cut(strings.Trim(stripScheme(tok.Resource), "/"), "/")
			}
			if v.Path == "" {
				v.Path = "q"
			}
		}
	} else if v.URL == "" {
		v.URL = "https://example.com/hook"
	}
	v = v.WithDefaults()
	for _, pr := range v.Validate() {
		switch pr.Field {
		case FieldSASKey, FieldSASToken, FieldAuthValue, FieldAuthType, FieldSASKeyName:
			t.Fatalf("the parsed credential does not pass validation: %v (endpoint %+v)", pr, v)
		}
	}
}

func TestCredentialFromForm(t *testing.T) {
	form := url.Values{
		FieldConnectionString: {csQueue}, FieldWebhookAuth: {"query"}, FieldWebhookKey: {"functionkey123"}, FieldPairs: {"a=b"},
		FieldPairName: {"x-api-key", "", "x-tenant"}, FieldPairValue: {"s3cr&t", ""},
	}
	in := CredentialFromForm(form)
	if in.ConnectionString.Reveal() != csQueue || in.WebhookAuth != WebhookAuthQuery || in.WebhookKey.Reveal() != "functionkey123" ||
		in.PairLines.Reveal() != "a=b" || len(in.Pairs) != 3 || in.Pairs[0].Name != "x-api-key" || in.Pairs[0].Value.Reveal() != "s3cr&t" ||
		in.Pairs[2].Name != "x-tenant" || in.Pairs[2].Value.IsSet() {
		t.Fatalf("input %+v", in)
	}
	if in.Empty() {
		t.Fatal("a filled form is empty")
	}
	for _, f := range []url.Values{{}, {FieldWebhookAuth: {"key"}, FieldConnectionString: {" \n"}, FieldPairName: {" "}, FieldPairValue: {""}}} {
		if !CredentialFromForm(f).Empty() {
			t.Errorf("%v is not empty", f)
		}
	}
	if !strings.Contains(CredentialFromForm(url.Values{FieldPairValue: {"v"}, FieldPairName: {""}}).Pairs[0].Value.Reveal(), "v") ||
		CredentialFromForm(url.Values{FieldPairName: {""}, FieldPairValue: {"v"}}).Empty() {
		t.Fatal("a value alone is input")
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		if s := fmt.Sprintf(verb, in); strings.Contains(s, "functionkey123") || strings.Contains(s, otherKey) || strings.Contains(s, "s3cr&t") {
			t.Fatalf("%s prints a secret: %s", verb, s)
		}
	}
}

func TestSecretPurposes(t *testing.T) {
	e := validQueue()
	for _, p := range SecretPurposes {
		if !p.Valid() || string(p) == "" {
			t.Fatalf("purpose %q", p)
		}
		e.SetSecret(p, NewSecret("value-"+string(p)))
	}
	if e.SASKey.Reveal() != "value-saskey" || e.SASToken.Reveal() != "value-sastoken" || e.AuthValue.Reveal() != "value-authvalue" {
		t.Fatalf("SetSecret %+v", e)
	}
	for _, p := range SecretPurposes {
		if e.Secret(p).Reveal() != "value-"+string(p) {
			t.Fatalf("Secret(%s)", p)
		}
	}
	// The values are stored by the store: they must never change.
	if PurposeSASKey != "saskey" || PurposeSASToken != "sastoken" || PurposeAuthValue != "authvalue" {
		t.Fatal("purpose values changed")
	}
	// And they are the Dataverse columns they are written to.
	if string(PurposeSASKey) != FieldSASKey || string(PurposeSASToken) != FieldSASToken || string(PurposeAuthValue) != FieldAuthValue {
		t.Fatal("purposes and columns differ")
	}
	unknown := SecretPurpose("connectionstring")
	before := e
	e.SetSecret(unknown, NewSecret("x"))
	if unknown.Valid() || e.Secret(unknown).IsSet() || e != before {
		t.Fatal("an unknown purpose is not ignored")
	}
	for _, a := range append(AuthTypes, 0) {
		p, ok := a.SecretPurpose()
		want := map[AuthType]SecretPurpose{AuthTypeSASKey: PurposeSASKey, AuthTypeSASToken: PurposeSASToken, AuthTypeWebhookKey: PurposeAuthValue,
			AuthTypeHTTPHeader: PurposeAuthValue, AuthTypeHTTPQueryString: PurposeAuthValue}[a]
		if p != want || ok != (want != "") {
			t.Errorf("%v.SecretPurpose() = %q, %v", a, p, ok)
		}
	}
}
