package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// EnvSecretKey is the environment variable that carries the secret keys: one bare base64 key,
// or during a rotation several as "id:base64,id:base64", newest first.
const EnvSecretKey = "PORTAL_SECRET_KEY"

var (
	// ErrNoKey means a secret had to be encrypted or decrypted but no key is configured.
	ErrNoKey = errors.New("no secret key configured: set " + EnvSecretKey + " (e.g. from `openssl rand -base64 32`)")
	// ErrUnknownKey means a ciphertext names a key id that is not in the keyring (a key was
	// removed from the configuration before rotate-secrets re-encrypted everything).
	ErrUnknownKey = errors.New("secret was encrypted with a key that is not configured")
	// ErrUndecryptable means a ciphertext failed authentication: it was altered, moved to
	// another row, or the configured key with its id is not the key that sealed it.
	ErrUndecryptable = errors.New("secret could not be decrypted (altered, moved to another row, or wrong key)")
)

// Key is one AES-256 key with its id. Its String, GoString, LogValue and Format never reveal
// the key material, and the material sits behind a pointer so that even reflection-based
// printing of a struct that contains a Key or Keyring (fmt's %+v) shows only an address.
type Key struct {
	*keyMaterial
}

// keyMaterial keeps the raw key only inside a closure: fmt prints a func as an address, even
// on paths (such as a bad verb) that dereference pointers.
type keyMaterial struct {
	id   string
	raw  func() [32]byte
	aead cipher.AEAD
}

// ID is the key's public identifier, stored beside every ciphertext it sealed.
func (k Key) ID() string {
	if k.keyMaterial == nil {
		return ""
	}
	return k.id
}

// ConfigValue is "id:base64", the form PORTAL_SECRET_KEY and key files take. It reveals the
// key: write it only to the place that keeps keys.
func (k Key) ConfigValue() string {
	if k.keyMaterial == nil {
		return ""
	}
	raw := k.raw()
	return k.id + ":" + base64.StdEncoding.EncodeToString(raw[:])
}

func (k Key) String() string               { return "store.Key{id:" + k.ID() + ", material:[redacted]}" }
func (k Key) GoString() string             { return k.String() }
func (k Key) LogValue() slog.Value         { return slog.StringValue(k.String()) }
func (k Key) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(k.String())) }
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Keyring is the set of configured secret keys, newest first. The newest key seals new
// secrets; every key opens what it sealed, so rotation is: add a new key in front, restart,
// run `portal rotate-secrets`, then drop the old key. The zero Keyring has no keys: stores
// opened with it work for everything except secrets (useful for `portal migrate`).
type Keyring struct {
	keys []Key
}

// Current returns the key that seals new secrets.
func (r Keyring) Current() (Key, bool) {
	if len(r.keys) == 0 {
		return Key{}, false
	}
	return r.keys[0], true
}

// IDs lists the key ids, newest first.
func (r Keyring) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// Len is the number of keys.
func (r Keyring) Len() int { return len(r.keys) }

func (r Keyring) lookup(id string) (Key, bool) {
	for _, k := range r.keys {
		if k.id == id {
			return k, true
		}
	}
	return Key{}, false
}

func (r Keyring) String() string             { return "store.Keyring{" + strings.Join(r.IDs(), ",") + "}" }
func (r Keyring) GoString() string           { return r.String() }
func (r Keyring) LogValue() slog.Value       { return slog.StringValue(r.String()) }
func (r Keyring) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// NewKeyring builds a keyring from keys, newest first.
func NewKeyring(keys ...Key) (Keyring, error) {
	seen := map[string]bool{}
	material := map[[32]byte]string{}
	for _, k := range keys {
		if k.keyMaterial == nil {
			return Keyring{}, errors.New("keyring: zero Key (use GenerateKey or ParseKeyring)")
		}
		if seen[k.id] {
			return Keyring{}, fmt.Errorf("keyring: key id %q appears twice; give each key its own id", k.id)
		}
		if other, dup := material[k.raw()]; dup {
			return Keyring{}, fmt.Errorf("keyring: keys %q and %q are the same key; a rotation needs a new one", other, k.id)
		}
		seen[k.id] = true
		material[k.raw()] = k.id
	}
	return Keyring{keys: append([]Key(nil), keys...)}, nil
}

// ParseKeyring reads a keyring specification: comma-separated entries, newest first, each
// either "id:base64" or a bare base64 key (as in PORTAL_SECRET_KEY), whose id is then derived
// from the key so the same key always gets the same id. Each key is 32 bytes, standard
// base64 (44 characters with padding). Error messages never contain key material.
func ParseKeyring(spec string) (Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Keyring{}, errors.New("secret keys: empty; generate one with `openssl rand -base64 32` and set " + EnvSecretKey)
	}
	var keys []Key
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return Keyring{}, fmt.Errorf("secret keys: entry %d is empty; separate keys with single commas", i+1)
		}
		id, b64, hasID := strings.Cut(entry, ":")
		if !hasID {
			b64, id = entry, ""
		}
		material, err := decodeKeyMaterial(b64)
		if err != nil {
			return Keyring{}, fmt.Errorf("secret keys: entry %d: %w", i+1, err)
		}
		if !hasID {
			id = derivedKeyID(material)
		} else if err := checkKeyID(id); err != nil {
			return Keyring{}, fmt.Errorf("secret keys: entry %d: %w", i+1, err)
		}
		k, err := newKey(id, material)
		if err != nil {
			return Keyring{}, fmt.Errorf("secret keys: entry %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	r, err := NewKeyring(keys...)
	if err != nil {
		return Keyring{}, fmt.Errorf("secret keys: %w", err)
	}
	return r, nil
}

// KeyringFromEnv reads PORTAL_SECRET_KEY through getenv (os.Getenv in production). Not set
// yields ErrNoKey.
func KeyringFromEnv(getenv func(string) string) (Keyring, error) {
	v := strings.TrimSpace(getenv(EnvSecretKey))
	if v == "" {
		return Keyring{}, ErrNoKey
	}
	r, err := ParseKeyring(v)
	if err != nil {
		return Keyring{}, fmt.Errorf("%s: %w", EnvSecretKey, err)
	}
	return r, nil
}

func decodeKeyMaterial(b64 string) ([32]byte, error) {
	var material [32]byte
	b64 = strings.TrimSpace(b64)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		// The decoder's error quotes an offset, never the input; still, say it plainly.
		return material, errors.New("key is not valid standard base64; generate one with `openssl rand -base64 32`")
	}
	if len(raw) != len(material) {
		return material, fmt.Errorf("key is %d bytes, want 32 (AES-256); generate one with `openssl rand -base64 32`", len(raw))
	}
	copy(material[:], raw)
	return material, nil
}

func checkKeyID(id string) error {
	if id == "" || len(id) > 40 {
		return errors.New("key id must be 1 to 40 characters (letters, digits, '.', '_' or '-') before the ':'")
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errors.New("key id may contain only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

// derivedKeyID names a bare key by a hash of it: stable across restarts and replicas, and
// revealing nothing useful about the key.
func derivedKeyID(material [32]byte) string {
	h := sha256.Sum256(append([]byte("sbportal key id\x00"), material[:]...))
	return "k" + hex.EncodeToString(h[:6])
}

func newKey(id string, material [32]byte) (Key, error) {
	block, err := aes.NewCipher(material[:])
	if err != nil {
		return Key{}, fmt.Errorf("key %q: %w", id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Key{}, fmt.Errorf("key %q: %w", id, err)
	}
	return Key{&keyMaterial{id: id, raw: func() [32]byte { return material }, aead: aead}}, nil
}

// GenerateKey makes a new random key with a random id.
func GenerateKey() (Key, error) {
	var material [32]byte
	if _, err := rand.Read(material[:]); err != nil {
		return Key{}, fmt.Errorf("generate secret key: %w", err)
	}
	var idBytes [4]byte
	if _, err := rand.Read(idBytes[:]); err != nil {
		return Key{}, fmt.Errorf("generate secret key id: %w", err)
	}
	return newKey("k"+hex.EncodeToString(idBytes[:]), material)
}

// LoadOrCreateKeyFile reads a keyring from path (same syntax as PORTAL_SECRET_KEY, one line)
// or, when the file does not exist, generates a key and writes it there readable by the owner
// only. `portal dev` keeps its key this way in its data folder. A file that others can read is
// refused, since whoever reads it can decrypt every stored secret.
func LoadOrCreateKeyFile(path string) (Keyring, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(path)
	}
	if err != nil {
		return Keyring{}, fmt.Errorf("read key file: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return Keyring{}, fmt.Errorf("key file %s is readable by others (mode %v); run `chmod 600 %s`", path, info.Mode().Perm(), path)
	}
	r, err := ParseKeyring(string(data))
	if err != nil {
		return Keyring{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return r, nil
}

func createKeyFile(path string) (Keyring, error) {
	k, err := GenerateKey()
	if err != nil {
		return Keyring{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Keyring{}, fmt.Errorf("create key file folder: %w", err)
	}
	// O_EXCL: if another process created the file meanwhile, use its key instead of ours.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKeyFile(path)
	}
	if err != nil {
		return Keyring{}, fmt.Errorf("create key file: %w", err)
	}
	_, werr := f.WriteString(k.ConfigValue() + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(path)
		return Keyring{}, fmt.Errorf("write key file %s: %w", path, err)
	}
	return NewKeyring(k)
}

// associatedData binds a ciphertext to the row it belongs to: each field is length-prefixed
// so ("ab","c") and ("a","bc") differ, and the key id is included so relabelling a
// ciphertext with another key id fails too.
func associatedData(keyID string, fields ...string) []byte {
	b := []byte("sbportal secret v1")
	for _, f := range append([]string{keyID}, fields...) {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// seal encrypts plaintext with the newest key; the result is nonce || ciphertext+tag.
func (r Keyring) seal(plaintext []byte, fields ...string) (keyID string, sealed []byte, err error) {
	k, ok := r.Current()
	if !ok {
		return "", nil, ErrNoKey
	}
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("encrypt secret: %w", err)
	}
	return k.id, k.aead.Seal(nonce, nonce, plaintext, associatedData(k.id, fields...)), nil
}

// open decrypts what seal produced. Errors never include the plaintext or the ciphertext.
func (r Keyring) open(keyID string, sealed []byte, fields ...string) ([]byte, error) {
	if r.Len() == 0 {
		return nil, ErrNoKey
	}
	k, ok := r.lookup(keyID)
	if !ok {
		return nil, fmt.Errorf("%w (key id %q; configured: %s)", ErrUnknownKey, keyID, strings.Join(r.IDs(), ", "))
	}
	ns := k.aead.NonceSize()
	if len(sealed) < ns+k.aead.Overhead() {
		return nil, ErrUndecryptable
	}
	plaintext, err := k.aead.Open(nil, sealed[:ns], sealed[ns:], associatedData(k.id, fields...))
	if err != nil {
		return nil, ErrUndecryptable
	}
	return plaintext, nil
}
