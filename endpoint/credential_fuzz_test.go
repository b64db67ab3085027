package endpoint

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// credentialSeeds are pasted texts from the table tests, the SDK's connection strings and
// tokens, and the shapes people paste by mistake.
func credentialSeeds() []string {
	seeds := []string{csQueue, csNamespace, csTokenQueue, invoiceToken, testKey, otherKey, testToken, "",
		"Endpoint=sb://localhost:5672;SharedAccessKeyName=send;SharedAccessKey=" + otherKey + ";UseDevelopmentEmulator=true",
		"Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=;SharedAccessKey=" + otherKey,
		"Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=endpoint=" + otherKey[:35],
		"sharedaccesssignature sr=sb%3a%2f%2fmybus.servicebus.windows.net%2f&sig=abc%3d&se=1900000000&skn=root",
		"https://mybus.servicebus.windows.net/", "hello", otherKey[:20] + "\n" + otherKey[21:]}
	seeds = append(seeds, sdkConnectionStringSeeds...)
	return append(seeds, sdkSASTokenSeeds...)
}

// FuzzParseCredential feeds arbitrary pasted text and webhook settings for every kind of
// endpoint to ParseCredential. It must not panic; on problems it returns the endpoint unchanged
// and its messages (and facts) never quote a secret that appears nowhere else in the input; on
// success the endpoint keeps its kind and namespace, holds exactly the secret of its auth type,
// and Validate has nothing to say about that credential.
func FuzzParseCredential(f *testing.F) {
	for i, s := range credentialSeeds() {
		f.Add(uint8(i), s, "", "", "", "", "")
	}
	f.Add(uint8(9), "", "key", " functionkey123 ", "", "", "")
	f.Add(uint8(11), "", "", "", "x-api-key = s3cr&t\n\nx-tenant=contoso", "", "")
	f.Add(uint8(12), "", "header", "", "", "x-api-key", "")
	f.Add(uint8(13), "", "query", "", "a b=c", "code", "s3cr&t\r\n")
	f.Add(uint8(14), "", "basic", "functionkey123", "", "", "")

	eps := credentialEndpoints()
	names := make([]string, 0, len(eps))
	for name := range eps {
		names = append(names, name)
	}
	slices.Sort(names)
	f.Fuzz(func(t *testing.T, which uint8, pasted, auth, webhookKey, lines, rowName, rowValue string) {
		e := eps[names[int(which)%len(names)]]
		in := CredentialInput{ConnectionString: NewSecret(pasted), WebhookAuth: WebhookAuth(auth), WebhookKey: NewSecret(webhookKey),
			PairLines: NewSecret(lines), Pairs: []WebhookSetting{{Name: rowName, Value: NewSecret(rowValue)}}}
		got, facts, p := ParseCredential(e, in)

		all := strings.Join([]string{e.Name, e.NamespaceAddress, e.Path, e.SASKeyName, e.URL, pasted, auth, webhookKey, lines, rowName, rowValue}, "\n")
		quoted := fmt.Sprintf("%+v", facts)
		if p != nil {
			if got != e {
				t.Fatalf("on problems the endpoint changed: %+v", got)
			}
			for _, pr := range p {
				switch pr.Field {
				case FieldConnectionString, FieldWebhookAuth, FieldWebhookKey, FieldPairs:
				default:
					t.Fatalf("problem on field %q: %v", pr.Field, pr)
				}
				if pr.Message == "" {
					t.Fatal("a problem without a message")
				}
			}
			quoted = p.Error()
		} else {
			checkCredentialInvariants(t, e, got)
		}
		vocabulary := credentialVocabulary()
		for _, secret := range credentialSecrets(pasted, webhookKey, lines, rowValue) {
			if len(secret) >= 8 && strings.Contains(quoted, secret) && !strings.Contains(vocabulary, secret) &&
				!strings.Contains(strings.Replace(all, secret, "", 1), secret) {
				t.Fatalf("%q quotes the secret %q", quoted, secret)
			}
		}
	})
}

// credentialSecrets are the parts of the input that may be secret, found with naive splits
// independent of the parser: the whole pasted text (a bare key or token), the key and signature
// values of a connection string, a token's sig, the webhook key, and settings' values.
func credentialSecrets(pasted, webhookKey, lines, rowValue string) []string {
	out := []string{strings.TrimSpace(pasted), pasted, strings.TrimSpace(webhookKey), rowValue, rawTokenField(pasted, "sig")}
	for _, part := range strings.Split(pasted, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && (strings.EqualFold(k, csKey) || strings.EqualFold(k, csSignature)) {
			out = append(out, v, strings.TrimSpace(v), rawTokenField(v, "sig"))
		}
	}
	for _, line := range strings.Split(lines, "\n") {
		if _, v, ok := strings.Cut(line, "="); ok {
			out = append(out, v, strings.TrimSpace(v))
		}
	}
	return out
}

// credentialVocabulary is the fixed wording ParseCredential (and what it builds on) uses:
// every message for the table's inputs and some junk, for every endpoint.
var credentialVocabulary = sync.OnceValue(func() string {
	var b strings.Builder
	b.WriteString(validationVocabulary())
	b.WriteString(sasErrorVocabulary)
	junk := append(credentialSeeds(), "x", "x y", "<settings/>", "a=", "=b", strings.Repeat("x", 3000))
	for _, e := range credentialEndpoints() {
		for _, j := range junk {
			for _, auth := range append(WebhookAuths, "", "x") {
				for _, in := range []CredentialInput{{ConnectionString: NewSecret(j)}, {WebhookAuth: auth, WebhookKey: NewSecret(j)},
					{WebhookAuth: auth, PairLines: NewSecret(j)}, {WebhookAuth: auth, Pairs: []WebhookSetting{{Name: j, Value: NewSecret("v")}}}} {
					_, _, p := ParseCredential(e, in)
					b.WriteString(p.Error())
					b.WriteString("\n")
				}
			}
		}
	}
	return b.String()
})
