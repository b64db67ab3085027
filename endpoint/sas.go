package endpoint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SASToken is a parsed Shared Access Signature token.
type SASToken struct {
	Resource  string    // sr, URL-decoded: the resource URI prefix the token is valid for
	Signature string    // sig, URL-decoded base64
	Expiry    time.Time // se
	KeyName   string    // skn
}

const sasPrefix = "SharedAccessSignature "

// SignSAS makes a token for resourceURI valid until expiry, signed with the policy's key. The
// signature is HMAC-SHA256 over lower(urlQueryEscape(resourceURI)) + "\n" + expiry, keyed with
// the key string's bytes, as Azure Service Bus and Event Hubs expect.
func SignSAS(resourceURI, keyName string, key Secret, expiry time.Time) Secret {
	sr := strings.ToLower(url.QueryEscape(resourceURI))
	se := strconv.FormatInt(expiry.Unix(), 10)
	sig := SASSignature(sr, se, key)
	return NewSecret(sasPrefix + "sr=" + sr + "&sig=" + url.QueryEscape(sig) + "&se=" + se + "&skn=" + url.QueryEscape(keyName))
}

// SASSignature is the base64 HMAC-SHA256 of sr + "\n" + se keyed with key, where sr is the
// already-escaped resource as it appears in the token.
func SASSignature(sr, se string, key Secret) string {
	mac := hmac.New(sha256.New, []byte(key.Reveal()))
	mac.Write([]byte(sr + "\n" + se))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ErrNotSASToken is returned by ParseSASToken for text that is not a SAS token.
var ErrNotSASToken = errors.New("not a SAS token: expected \"SharedAccessSignature sr=...&sig=...&se=...&skn=...\"")

// ParseSASToken parses "SharedAccessSignature sr=..&sig=..&se=..&skn=..". The fields may come
// in any order; sr, sig and se are required; se is a 64-bit Unix time in seconds.
func ParseSASToken(token string) (SASToken, error) {
	t := strings.TrimSpace(token)
	if len(t) < len(sasPrefix) || !strings.EqualFold(t[:len(sasPrefix)], sasPrefix) {
		return SASToken{}, ErrNotSASToken
	}
	var out SASToken
	var haveSE bool
	for i, part := range strings.Split(strings.TrimSpace(t[len(sasPrefix):]), "&") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			// The part is not quoted: it may be (a piece of) the signature.
			return SASToken{}, fmt.Errorf("SAS token part %d has no '=': copy the whole token, starting with \"SharedAccessSignature sr=\"", i+1)
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			name := "a field"
			switch strings.ToLower(k) {
			case "sr", "sig", "se", "skn":
				name = "field " + strings.ToLower(k)
			}
			return SASToken{}, fmt.Errorf("SAS token %s is not URL-encoded correctly: copy the whole token again", name)
		}
		switch strings.ToLower(k) {
		case "sr":
			out.Resource = dv
		case "sig":
			out.Signature = dv
		case "se":
			n, err := strconv.ParseInt(dv, 10, 64)
			if err != nil {
				return SASToken{}, fmt.Errorf("SAS token expiry se=%q is not a Unix time in seconds", truncateForMessage(dv))
			}
			out.Expiry = time.Unix(n, 0).UTC()
			haveSE = true
		case "skn":
			out.KeyName = dv
		}
	}
	var missing []string
	if out.Resource == "" {
		missing = append(missing, "sr (resource)")
	}
	if out.Signature == "" {
		missing = append(missing, "sig (signature)")
	}
	if !haveSE {
		missing = append(missing, "se (expiry)")
	}
	if len(missing) > 0 {
		return SASToken{}, fmt.Errorf("SAS token lacks %s: copy the whole token, starting with \"SharedAccessSignature sr=\"", strings.Join(missing, ", "))
	}
	return out, nil
}

// ExpiresWithin reports whether the token expires before now+d (or already has).
func (t SASToken) ExpiresWithin(now time.Time, d time.Duration) bool {
	return !t.Expiry.After(now.Add(d))
}

// Expired reports whether the token has expired at now.
func (t SASToken) Expired(now time.Time) bool { return !t.Expiry.After(now) }

// Covers reports whether the token's resource covers resourceURI: Service Bus accepts a token
// for any resource under its sr prefix. The comparison ignores case and the URI scheme.
func (t SASToken) Covers(resourceURI string) bool {
	want := stripScheme(strings.ToLower(resourceURI))
	have := strings.TrimSuffix(stripScheme(strings.ToLower(t.Resource)), "/")
	if want == have {
		return true
	}
	return strings.HasPrefix(want, have+"/")
}

func stripScheme(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		return u[i+3:]
	}
	return u
}

// truncateForMessage shortens user input quoted in an error so a pasted secret cannot be echoed
// whole.
func truncateForMessage(s string) string {
	if len(s) <= 12 {
		return s
	}
	cut := 8
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
