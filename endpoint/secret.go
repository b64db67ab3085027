package endpoint

import "log/slog"

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

// LogValue makes slog print a mask.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
