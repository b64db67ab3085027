package endpoint

import (
	"strings"
	"testing"
	"time"
)

func TestSASKnownAnswer(t *testing.T) {
	// The known answer from the Azure SDK's own tests (DOMAIN.md §3).
	got := SASSignature("audience", "1578099723", NewSecret("key"))
	if want := "8UM0iIfFCfeBSqxSdBMW8pUbhAm7mnjSUaIZTZx8V0g="; got != want {
		t.Fatalf("signature = %q, want %q", got, want)
	}
	tok := SignSAS("audience", "policy", NewSecret("key"), time.Unix(1578099723, 0))
	if want := "sig=8UM0iIfFCfeBSqxSdBMW8pUbhAm7mnjSUaIZTZx8V0g%3D"; !strings.Contains(tok.Reveal(), want) {
		t.Fatalf("token %q lacks %q", tok.Reveal(), want)
	}
	p, err := ParseSASToken(tok.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if p.Resource != "audience" || p.KeyName != "policy" || p.Expiry.Unix() != 1578099723 || p.Signature != "8UM0iIfFCfeBSqxSdBMW8pUbhAm7mnjSUaIZTZx8V0g=" {
		t.Fatalf("parsed %+v", p)
	}
}
