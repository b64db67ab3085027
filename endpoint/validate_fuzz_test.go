package endpoint

import (
	"strings"
	"sync"
	"testing"
)

// FuzzValidate feeds arbitrary registrations to ValidateFor: it must not panic, must accept none
// with an invalid contract, and its messages must never contain a secret that appears nowhere
// else in the input.
func FuzzValidate(f *testing.F) {
	for _, e := range validExamples() {
		f.Add(e.Name, e.NamespaceAddress, e.SolutionNamespace, e.Path, e.URL, e.SASKeyName, e.SASKey.Reveal(),
			e.SASToken.Reveal(), e.AuthValue.Reveal(), int(e.Contract), int(e.AuthType), int(e.MessageFormat), false)
	}
	f.Fuzz(func(t *testing.T, name, address, namespace, path, rawURL, keyName, key, token, authValue string,
		contract, authType, format int, update bool) {
		e := ServiceEndpoint{Name: name, NamespaceAddress: address, SolutionNamespace: namespace, Path: path, URL: rawURL,
			SASKeyName: keyName, SASKey: NewSecret(key), SASToken: NewSecret(token), AuthValue: NewSecret(authValue),
			Contract: Contract(contract), AuthType: AuthType(authType), MessageFormat: MessageFormat(format),
			ConnectionMode: ConnectionModeNormal, UserClaim: UserClaimNone, NamespaceFormat: NamespaceFormatAddress}
		mode := ForCreate
		if update {
			mode, e.IsSASKeySet, e.IsSASTokenSet, e.IsAuthValueSet = ForUpdate, true, true, true
		}
		p := e.ValidateFor(mode)
		if p == nil && (!e.Contract.Valid() || !isRegistrable(e.Contract)) {
			t.Fatalf("accepted contract %d", contract)
		}
		text := p.Error()
		public := strings.Join([]string{name, address, namespace, path, rawURL, keyName}, "\n")
		vocabulary := validationVocabulary()
		for _, secret := range []string{key, token, sigOf(token), authValue} {
			if len(secret) >= 8 && strings.Contains(text, secret) && !strings.Contains(public, secret) &&
				!strings.Contains(vocabulary, secret) {
				t.Fatalf("a problem quotes a secret: %q", text)
			}
		}
	})
}

func sigOf(token string) string { return rawTokenField(token, "sig") }

// validationVocabulary is the wording of the problems found in empty registrations and in the
// valid examples with each secret replaced by malformed text: every fixed message text.
var validationVocabulary = sync.OnceValue(func() string {
	var b strings.Builder
	for _, c := range append(Contracts, 0, 42) {
		for _, a := range append(AuthTypes, 0, 42) {
			b.WriteString(ServiceEndpoint{Contract: c, AuthType: a}.Validate().Error())
		}
	}
	junk := []string{"x", "x y", "<settings/>", "<settings>", "<settings><setting/></settings>", "<settings><setting name=\"a\"/></settings>",
		"<settings><setting name=\"a\" value=\"b\"/></settings>x", "<settings><setting name=\"a b\" value=\"\r\"/></settings>",
		"Endpoint=", "SharedAccessSignature x", "SharedAccessSignature sr=a&sig=%zz&se=x", strings.Repeat("x", 3000)}
	for _, e := range validExamples() {
		for _, j := range junk {
			for _, set := range []func(*ServiceEndpoint){
				func(e *ServiceEndpoint) { e.SASKey = NewSecret(j) },
				func(e *ServiceEndpoint) { e.SASToken = NewSecret(j) },
				func(e *ServiceEndpoint) { e.AuthValue = NewSecret(j) },
			} {
				m := e
				set(&m)
				b.WriteString(m.Validate().Error())
			}
		}
	}
	return b.String()
})
