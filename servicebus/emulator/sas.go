package emulator

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
)

// sasToken is a parsed "SharedAccessSignature sr=..&sig=..&se=..&skn=.." token.
type sasToken struct {
	resource string // sr as sent (lower-case, URL-escaped)
	sig      string // base64 signature (unescaped)
	expiry   int64
	keyName  string
}

var errMalformedToken = errors.New("MalformedToken: the token is not a SharedAccessSignature token (expected 'SharedAccessSignature sr=...&sig=...&se=...&skn=...')")

func parseSASToken(token string) (sasToken, error) {
	const prefix = "SharedAccessSignature "
	if len(token) > 4096 || !strings.HasPrefix(token, prefix) {
		return sasToken{}, errMalformedToken
	}
	var t sasToken
	var haveExpiry bool
	for _, part := range strings.Split(token[len(prefix):], "&") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return sasToken{}, errMalformedToken
		}
		switch k {
		case "sr":
			t.resource = v
		case "sig":
			s, err := url.QueryUnescape(v)
			if err != nil {
				return sasToken{}, errMalformedToken
			}
			t.sig = s
		case "se":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return sasToken{}, fmt.Errorf("MalformedToken: the token's expiry 'se' is not a number of seconds")
			}
			t.expiry, haveExpiry = n, true
		case "skn":
			s, err := url.QueryUnescape(v)
			if err != nil {
				return sasToken{}, errMalformedToken
			}
			t.keyName = s
		}
	}
	if t.resource == "" || t.sig == "" || !haveExpiry || t.keyName == "" {
		return sasToken{}, fmt.Errorf("MalformedToken: the token lacks one of sr, sig, se, skn")
	}
	return t, nil
}

// sasSignature computes the signature of a SAS token: HMAC-SHA256 over sr + "\n" + se,
// keyed with the key string's bytes, base64-encoded.
func sasSignature(key, resource string, expiry int64) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(resource + "\n" + strconv.FormatInt(expiry, 10)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signedBy reports whether the token's signature was made with key.
func (t sasToken) signedBy(key string) bool {
	if key == "" {
		return false
	}
	want := sasSignature(key, t.resource, t.expiry)
	return hmac.Equal([]byte(want), []byte(t.sig))
}

// resourcePath normalises a resource URI (the token's sr or a CBS audience) to
// "host/path" in lower case, URL-decoded, without scheme or trailing slash, so amqp://,
// amqps://, sb:// and https:// forms of the same resource compare equal as the service does.
func resourcePath(uri string) string {
	if u, err := url.QueryUnescape(uri); err == nil {
		uri = u
	}
	uri = strings.ToLower(strings.TrimSpace(uri))
	if _, rest, ok := strings.Cut(uri, "://"); ok {
		uri = rest
	}
	return strings.TrimRight(uri, "/")
}

// covers reports whether the token resource prefix-covers the audience on a path-segment
// boundary ("host/queue" covers "host/queue" and "host/queue/$management", not
// "host/queue2").
func covers(resource, audience string) bool {
	r, a := resourcePath(resource), resourcePath(audience)
	if r == a {
		return true
	}
	return strings.HasPrefix(a, r+"/")
}

// expiredDescription is the service's text for an expired token.
func expiredDescription(expiry int64, now time.Time) string {
	const layout = "2006-01-02 15:04:05Z"
	return fmt.Sprintf("ExpiredToken: The token is expired. Expiration time: '%s', Current time: '%s'.",
		time.Unix(expiry, 0).UTC().Format(layout), now.UTC().Format(layout))
}

// SignSAS returns a SAS token for resource signed with keyName/key, valid until expiry. Tests
// and tools use it; the emulator itself only verifies tokens.
func SignSAS(resource, keyName, key string, expiry time.Time) string {
	sr := strings.ToLower(url.QueryEscape(resource))
	se := expiry.Unix()
	sig := sasSignature(key, sr, se)
	return fmt.Sprintf("SharedAccessSignature sr=%s&sig=%s&se=%d&skn=%s", sr, url.QueryEscape(sig), se, keyName)
}
