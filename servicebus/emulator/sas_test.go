package emulator

import (
	"strings"
	"testing"
	"time"
)

func TestSASKnownAnswer(t *testing.T) {
	if got := sasSignature("key", "audience", 1578099723); got != "8UM0iIfFCfeBSqxSdBMW8pUbhAm7mnjSUaIZTZx8V0g=" {
		t.Fatalf("signature = %q", got)
	}
	tok := SignSAS("audience", "name", "key", time.Unix(1578099723, 0))
	if !strings.Contains(tok, "sig=8UM0iIfFCfeBSqxSdBMW8pUbhAm7mnjSUaIZTZx8V0g%3D") {
		t.Fatalf("token %q lacks the escaped known signature", tok)
	}
	parsed, err := parseSASToken(tok)
	if err != nil || !parsed.signedBy("key") || parsed.signedBy("other") || parsed.keyName != "name" {
		t.Fatalf("parse/verify of %q: %+v %v", tok, parsed, err)
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		sr, aud string
		want    bool
	}{
		{"amqp://h:1/q", "amqp://h:1/q", true},
		{"sb%3a%2f%2fh%3a1%2f", "amqp://h:1/q", true},
		{"https://H:1/Q", "amqps://h:1/q/$management", true},
		{"amqp://h:1/q", "amqp://h:1/q2", false},
		{"amqp://h:1/q/x", "amqp://h:1/q", false},
		{"amqp://other/", "amqp://h:1/q", false},
	} {
		if got := covers(tc.sr, tc.aud); got != tc.want {
			t.Errorf("covers(%q, %q) = %v, want %v", tc.sr, tc.aud, got, tc.want)
		}
	}
}

func TestParseSASTokenRefusesMalformed(t *testing.T) {
	for _, tok := range []string{"", "Bearer x", "SharedAccessSignature sr=a&sig=b", "SharedAccessSignature sr=a&sig=b&se=x&skn=k", "SharedAccessSignature " + strings.Repeat("a", 5000)} {
		if _, err := parseSASToken(tok); err == nil {
			t.Errorf("parseSASToken(%.40q) succeeded", tok)
		}
	}
}
