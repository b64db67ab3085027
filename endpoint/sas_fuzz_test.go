package endpoint

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// sdkSASTokenSeeds are tokens from the Azure SDK's tests (azservicebus v1.11.0 and azeventhubs/v2
// v2.0.2 internal/sas/sas_test.go, internal/conn/conn_test.go) plus the shapes the portal meets.
var sdkSASTokenSeeds = []string{
	"SharedAccessSignature sr=audience&sig=8UM0iIfFCfeBSqxSdBMW8pUbhAm7mnjSUaIZTZx8V0g%3D&se=1578099723&skn=keyName",
	"SharedAccessSignature sr=mynamespace.servicebus.windows.net&sig=<base64-sig>&se=<expiry>&skn=<keyname>",
	testToken,
	"sharedaccesssignature se=1&skn=a&sig=b&sr=c",
	"SharedAccessSignature sr=a&sig=%zz&se=1",
	"SharedAccessSignature sr=a&sig=b&se=99999999999999999999",
	"SharedAccessSignature ",
	"",
}

func FuzzParseSASToken(f *testing.F) {
	for _, s := range sdkSASTokenSeeds {
		f.Add(s)
	}
	key := NewSecret(testKey)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseSASToken(s)
		if err != nil {
			// The signature is the secret part of a token: an error must not quote it.
			if sig := rawTokenField(s, "sig"); len(sig) >= 6 && strings.Contains(err.Error(), sig) &&
				!strings.Contains(sasErrorVocabulary, sig) {
				t.Fatalf("error %q quotes the signature", err)
			}
		} else if tok.Resource == "" || tok.Signature == "" {
			t.Fatalf("accepted %q with an empty sr or sig: %+v", s, tok)
		}

		// Whatever s is, as a resource URI it signs into a token that parses back to it and
		// verifies with the same key.
		if s == "" {
			return
		}
		expiry := time.Unix(1578099723, 0)
		signed := SignSAS(s, "send", key, expiry)
		back, err := ParseSASToken(signed.Reveal())
		if err != nil {
			t.Fatalf("cannot parse our own token for %q: %v", s, err)
		}
		if back.Resource != asciiLower(s) || back.KeyName != "send" || !back.Expiry.Equal(expiry) {
			t.Fatalf("round trip of %q gave %+v", s, back)
		}
		sr := strings.ToLower(url.QueryEscape(s))
		if back.Signature != SASSignature(sr, "1578099723", key) {
			t.Fatalf("signature of %q does not verify", s)
		}
		if !back.Covers(s) {
			t.Fatalf("token for %q does not cover it", s)
		}
	})
}

// sasErrorVocabulary is the fixed wording of ParseSASToken's errors.
const sasErrorVocabulary = `not a SAS token: expected "SharedAccessSignature sr=...&sig=...&se=...&skn=..." ` +
	`SAS token part has no '=': copy the whole token, starting with "SharedAccessSignature sr=" ` +
	`SAS token field sig is not URL-encoded correctly: copy the whole token again ` +
	`SAS token lacks sr (resource), sig (signature), se (expiry)`

// rawTokenField finds name=value in a token with a naive split, independent of the parser.
func rawTokenField(s, name string) string {
	for _, part := range strings.Split(s, "&") {
		if i := strings.Index(asciiLower(part), name+"="); i >= 0 { // asciiLower keeps byte offsets
			return part[i+len(name)+1:]
		}
	}
	return ""
}

// asciiLower lowers ASCII letters only, as lowering an URL-escaped string does.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestParseSASTokenErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"sr=a&sig=b&se=1", "not a SAS token"},
		{"SharedAccessSignature sr=a&sig=b", "lacks se (expiry)"},
		{"SharedAccessSignature se=1&skn=x", "lacks sr (resource), sig (signature)"},
		{"SharedAccessSignature sr=a&" + testKey[:20] + "&se=1", "part 2 has no '='"},
		{"SharedAccessSignature sr=a&sig=" + testKey[:20] + "%zz&se=1", "field sig is not URL-encoded"},
		{"SharedAccessSignature sr=a&sig=b&se=soon", "not a Unix time"},
	}
	for _, c := range cases {
		_, err := ParseSASToken(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
			continue
		}
		assertNoSecretIn(t, err.Error())
	}
}

func TestSASTokenExpiryAndCover(t *testing.T) {
	tok, err := ParseSASToken(testToken)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(1900000000, 0)
	if !tok.Expiry.Equal(exp) || tok.Expired(exp.Add(-time.Second)) || !tok.Expired(exp) ||
		!tok.ExpiresWithin(exp.Add(-time.Hour), time.Hour) || tok.ExpiresWithin(exp.Add(-time.Hour), time.Minute) {
		t.Fatalf("expiry helpers wrong for %v", tok.Expiry)
	}
	for uri, want := range map[string]bool{
		"https://mybus.servicebus.windows.net/orders":            true,
		"sb://MYBUS.servicebus.windows.net/orders/subscriptions": true,
		"amqps://mybus.servicebus.windows.net/orders":            true,
		"https://mybus.servicebus.windows.net/orders2":           false,
		"https://mybus.servicebus.windows.net/":                  false,
		"https://otherbus.servicebus.windows.net/orders":         false,
	} {
		if tok.Covers(uri) != want {
			t.Errorf("Covers(%q) = %v", uri, !want)
		}
	}
}
