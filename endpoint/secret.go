package endpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Secret holds a SAS key, SAS token, webhook key or similar. Every way of printing it (fmt,
// %#v, JSON, slog) shows a mask, so a secret cannot leak into logs, pages or audit entries by
// accident. Use Reveal where the plaintext is really needed (signing, sending to Dataverse,
// encrypting at rest).
type Secret struct{ value string }

// NewSecret wraps a plaintext secret.
func NewSecret(plaintext string) Secret { return Secret{value: plaintext} }

const secretMask = "********"

// Reveal returns the plaintext. Call it only where the plaintext leaves for its legitimate use.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s.value != "" }

// Len is the plaintext's length in bytes; rules such as "a SAS key has 44 characters" need it.
func (s Secret) Len() int { return len(s.value) }

// Equal reports whether two secrets hold the same plaintext.
func (s Secret) Equal(o Secret) bool { return s.value == o.value }

// String returns a mask (empty when unset).
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return secretMask
}

// GoString returns a mask, so %#v cannot print the plaintext.
func (s Secret) GoString() string { return `endpoint.Secret("` + s.String() + `")` }

// MarshalJSON writes a mask; a Secret is never serialized in clear.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText writes a mask.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// errSecretFromText is the answer to a plaintext where only a mask belongs. It quotes nothing.
var errSecretFromText = errors.New("endpoint: a secret is never read from JSON or text; it travels encrypted on its own")

// UnmarshalJSON reads what MarshalJSON wrote (the mask, or "" when unset) as an unset Secret:
// a secret never comes back from JSON. Anything else is refused, so a plaintext put where a
// mask belongs fails loudly instead of being taken, or dropped unnoticed.
func (s *Secret) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return errSecretFromText
	}
	return s.UnmarshalText([]byte(text))
}

// UnmarshalText reads what MarshalText wrote (the mask, or "") as an unset Secret; it never
// yields a plaintext.
func (s *Secret) UnmarshalText(b []byte) error {
	if t := string(b); t != "" && t != secretMask {
		return errSecretFromText
	}
	*s = Secret{}
	return nil
}

// LogValue makes slog print a mask.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Format prints a mask for every verb: without it, verbs that skip String (%d, %x on a struct
// holding a Secret, ...) would print the unexported plaintext field.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(s.String()))
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// SecretPurpose names what a secret is for: the write-only Dataverse column it is written to.
// The store keys encrypted secrets by it, so its values are stored and must not change.
type SecretPurpose string

// The secret purposes, spelled as the Dataverse columns (and the store's rows) spell them.
const (
	PurposeSASKey    SecretPurpose = "saskey"    // SAS key (authtype 2)
	PurposeSASToken  SecretPurpose = "sastoken"  // SAS token (authtype 3)
	PurposeAuthValue SecretPurpose = "authvalue" // webhook key, or header/query <settings> (authtype 4, 5, 6)
)

// SecretPurposes lists every purpose, one per write-only column of ServiceEndpoint.
var SecretPurposes = []SecretPurpose{PurposeSASKey, PurposeSASToken, PurposeAuthValue}

// Valid reports whether p is one of SecretPurposes.
func (p SecretPurpose) Valid() bool {
	switch p {
	case PurposeSASKey, PurposeSASToken, PurposeAuthValue:
		return true
	}
	return false
}

// Secret returns the endpoint's secret for purpose p (unset for an unknown purpose).
func (e ServiceEndpoint) Secret(p SecretPurpose) Secret {
	switch p {
	case PurposeSASKey:
		return e.SASKey
	case PurposeSASToken:
		return e.SASToken
	case PurposeAuthValue:
		return e.AuthValue
	}
	return Secret{}
}

// HasSecret reports whether the endpoint has a secret for purpose p: one it holds, or one
// Dataverse says is set (the Is*Set flags).
func (e ServiceEndpoint) HasSecret(p SecretPurpose) bool {
	switch p {
	case PurposeSASKey:
		return e.SASKey.IsSet() || e.IsSASKeySet
	case PurposeSASToken:
		return e.SASToken.IsSet() || e.IsSASTokenSet
	case PurposeAuthValue:
		return e.AuthValue.IsSet() || e.IsAuthValueSet
	}
	return false
}

// WithoutSecrets is e with every write-only secret unset (the Is*Set flags kept): what may be
// kept or shown apart from the secrets.
func (e ServiceEndpoint) WithoutSecrets() ServiceEndpoint {
	for _, p := range SecretPurposes {
		e.SetSecret(p, Secret{})
	}
	return e
}

// SetSecret sets the endpoint's secret for purpose p; an unknown purpose changes nothing.
func (e *ServiceEndpoint) SetSecret(p SecretPurpose, s Secret) {
	switch p {
	case PurposeSASKey:
		e.SASKey = s
	case PurposeSASToken:
		e.SASToken = s
	case PurposeAuthValue:
		e.AuthValue = s
	}
}

// SecretPurpose is the purpose of the secret this authentication type uses; ok is false for
// types whose secret the portal does not handle (ACS, connection string, access key).
func (a AuthType) SecretPurpose() (p SecretPurpose, ok bool) {
	switch a {
	case AuthTypeSASKey:
		return PurposeSASKey, true
	case AuthTypeSASToken:
		return PurposeSASToken, true
	case AuthTypeWebhookKey, AuthTypeHTTPHeader, AuthTypeHTTPQueryString:
		return PurposeAuthValue, true
	}
	return "", false
}
