package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contoso/sbportal/endpoint"
)

const testKeyB64 = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=" // 32 bytes

func TestParseKeyring(t *testing.T) {
	other := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	r, err := ParseKeyring(" new:" + other + " , old:" + testKeyB64 + ", " + testKeyB64[:0] + testKeyB64 + "")
	if err == nil {
		t.Fatalf("the same key twice under different ids was accepted as %v", r)
	}

	r, err = ParseKeyring("new:" + other + ",old:" + testKeyB64)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.IDs(), ","); got != "new,old" {
		t.Fatalf("ids = %s, want new,old (newest first)", got)
	}
	if cur, _ := r.Current(); cur.ID() != "new" {
		t.Fatalf("current = %s", cur.ID())
	}

	bare1, err := ParseKeyring(testKeyB64)
	if err != nil {
		t.Fatal(err)
	}
	bare2, _ := ParseKeyring(testKeyB64)
	if bare1.IDs()[0] != bare2.IDs()[0] || !strings.HasPrefix(bare1.IDs()[0], "k") {
		t.Fatalf("a bare key's derived id must be stable: %v vs %v", bare1.IDs(), bare2.IDs())
	}
	bareOther, _ := ParseKeyring(other)
	if bareOther.IDs()[0] == bare1.IDs()[0] {
		t.Fatal("two different bare keys got the same id")
	}

	for _, tc := range []struct{ spec, want string }{
		{"", "empty"},
		{"c2hvcnQ=", "5 bytes, want 32"},
		{"not base64!!", "not valid standard base64"},
		{"a:" + testKeyB64 + ",,b:" + other, "entry 2 is empty"},
		{"bad id:" + testKeyB64, "may contain only"},
		{":" + testKeyB64, "1 to 40 characters"},
		{"a:" + testKeyB64 + ",a:" + other, "appears twice"},
	} {
		_, err := ParseKeyring(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseKeyring(%q): err = %v, want it to mention %q", tc.spec, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), testKeyB64) || strings.Contains(err.Error(), other) {
			t.Errorf("ParseKeyring error repeats key material: %v", err)
		}
	}
}

func TestKeyringFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, err := KeyringFromEnv(getenv); !errors.Is(err, ErrNoKey) {
		t.Fatalf("unset: err = %v, want ErrNoKey", err)
	}
	env[EnvSecretKey] = "x:" + testKeyB64
	r, err := KeyringFromEnv(getenv)
	if err != nil || r.IDs()[0] != "x" {
		t.Fatalf("KeyringFromEnv = %v, %v", r, err)
	}
	env[EnvSecretKey] = "c2hvcnQ="
	if _, err := KeyringFromEnv(getenv); err == nil || !strings.Contains(err.Error(), EnvSecretKey) {
		t.Fatalf("bad key: err = %v, want it to name %s", err, EnvSecretKey)
	}
}

func TestKeysAndSecretsNeverPrint(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	material := strings.TrimPrefix(k.ConfigValue(), k.ID()+":")
	sec := endpoint.NewSecret("Endpoint=sb://x/;SharedAccessKey=TOPSECRET")
	var logged strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("x", "key", k, "secret", sec, "draft", Draft{Secrets: map[endpoint.SecretPurpose]endpoint.Secret{endpoint.PurposeSASKey: sec}})
	js, _ := json.Marshal(map[string]any{"k": k, "s": sec, "d": Draft{Secrets: map[endpoint.SecretPurpose]endpoint.Secret{endpoint.PurposeSASKey: sec}}})
	outputs := []string{logged.String(), string(js)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, sec), fmt.Sprintf(verb, []endpoint.Secret{sec}),
			fmt.Sprintf(verb, map[string]endpoint.Secret{"a": sec}), fmt.Sprintf(verb, struct{ S endpoint.Secret }{sec}),
			fmt.Sprintf(verb, Draft{Secrets: map[endpoint.SecretPurpose]endpoint.Secret{endpoint.PurposeSASKey: sec}}),
			fmt.Sprintf(verb, SecretRef{Environment: "e", EndpointID: "x", Purpose: endpoint.PurposeSASKey}))
	}
	ring, err := NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	st := &Store{d: sqliteDialect, dsn: "x.db", keys: ring}
	type config struct {
		keys  Keyring
		store *Store
		Key   Key
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		outputs = append(outputs, fmt.Sprintf(verb, ring), fmt.Sprintf(verb, st), fmt.Sprintf(verb, *st),
			fmt.Sprintf(verb, config{ring, st, k}), fmt.Sprintf(verb, &config{ring, st, k}))
	}
	rawKey, _ := base64.StdEncoding.DecodeString(material)
	for _, out := range outputs {
		if strings.Contains(out, string(rawKey)) || strings.Contains(out, fmt.Sprint(rawKey[:8])[1:20]) {
			t.Errorf("raw key bytes printed: %s", out)
		}
		if strings.Contains(out, material) || strings.Contains(out, "TOPSECRET") || strings.Contains(strings.ToUpper(out), "544F50534543524554") {
			t.Errorf("secret material printed: %s", out)
		}
	}
	if sec.Reveal() != "Endpoint=sb://x/;SharedAccessKey=TOPSECRET" {
		t.Fatal("Reveal does not return the value")
	}
}

func TestSealOpenBindsRow(t *testing.T) {
	r, err := ParseKeyring("a:" + testKeyB64)
	if err != nil {
		t.Fatal(err)
	}
	id, sealed, err := r.seal([]byte("value"), "endpoint", "prod", "id1", "saskey")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := r.open(id, sealed, "endpoint", "prod", "id1", "saskey"); err != nil || string(plain) != "value" {
		t.Fatalf("open = %q, %v", plain, err)
	}
	// Field boundaries matter: ("prod","id1") is not ("prodi","d1").
	for _, fields := range [][]string{
		{"endpoint", "prodi", "d1", "saskey"},
		{"endpoint", "prod", "id2", "saskey"},
		{"endpoint", "prod", "id1", "sastoken"},
		{"draft", "prod", "id1", "saskey"},
	} {
		if _, err := r.open(id, sealed, fields...); !errors.Is(err, ErrUndecryptable) {
			t.Errorf("open with %v: err = %v, want ErrUndecryptable", fields, err)
		}
	}
	_, sealed2, _ := r.seal([]byte("value"), "endpoint", "prod", "id1", "saskey")
	if string(sealed) == string(sealed2) {
		t.Fatal("two seals of the same value are identical: nonces are not random")
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "secret.key")
	first, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
	second, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k1, _ := first.Current()
	k2, _ := second.Current()
	if k1.ConfigValue() != k2.ConfigValue() {
		t.Fatal("reloading the key file gave a different key")
	}
	// What one sealed, the reloaded keyring opens.
	id, sealed, err := first.seal([]byte("v"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.open(id, sealed, "x"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: err = %v, want a refusal", err)
	}
}

func TestSQLitePath(t *testing.T) {
	for _, tc := range []struct{ dsn, want, err string }{
		{"/var/lib/portal/portal.db", "/var/lib/portal/portal.db", ""},
		{"sqlite:/var/lib/portal.db", "/var/lib/portal.db", ""},
		{"sqlite:portal.db", "portal.db", ""},
		{"file:portal.db", "portal.db", ""},
		{"mysql://x", "", "not supported"},
		{":memory:", "", "needs a file path"},
		{"sqlite:", "", "needs a file path"},
		{"portal.db?mode=ro", "", "may not contain"},
	} {
		got, err := sqlitePath(tc.dsn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("sqlitePath(%q): err = %v, want %q", tc.dsn, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("sqlitePath(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
		}
	}
}

func TestOpenRefusals(t *testing.T) {
	ctx := t.Context()
	if _, err := Open(ctx, "", Keyring{}); err == nil || !strings.Contains(err.Error(), "PORTAL_DATABASE_URL") {
		t.Errorf("empty DSN: %v", err)
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing", "portal.db"), Keyring{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing folder: %v", err)
	}
	// A password in a PostgreSQL URL never reaches the error.
	_, err := Open(ctx, "postgres://portal:hunter2@127.0.0.1:1/portal?sslmode=disable&connect_timeout=1", Keyring{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("unreachable PostgreSQL: err = %v (must fail without showing the password)", err)
	}
	_, err = Open(ctx, "postgres://portal:hunter2@127.0.0.1:notaport/portal?password=hunter2", Keyring{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("invalid PostgreSQL URL: err = %v (must fail without showing the password)", err)
	}
	// WithoutMigrate on an empty database says to run portal migrate.
	_, err = Open(ctx, filepath.Join(t.TempDir(), "portal.db"), Keyring{}, WithoutMigrate())
	if err == nil || !strings.Contains(err.Error(), "portal migrate") {
		t.Errorf("WithoutMigrate on an empty database: %v", err)
	}
}

func TestMigrationsMatchAcrossBackends(t *testing.T) {
	lite, err := sqliteDialect.migrationList()
	if err != nil {
		t.Fatal(err)
	}
	pg, err := postgresDialect.migrationList()
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("SQLite has %d migrations, PostgreSQL %d: every schema change needs both", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].name != pg[i].name {
			t.Errorf("migration %d is %q for SQLite but %q for PostgreSQL", i+1, lite[i].name, pg[i].name)
		}
	}
}

func TestRebind(t *testing.T) {
	got := postgresDialect.q(`SELECT a FROM t WHERE x = ? AND y IN (?, ?)`)
	if got != `SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)` {
		t.Fatalf("rebind = %s", got)
	}
	if sqliteDialect.q("x = ?") != "x = ?" {
		t.Fatal("SQLite queries must stay as written")
	}
}

func FuzzParseKeyring(f *testing.F) {
	f.Add(testKeyB64)
	f.Add("a:" + testKeyB64 + ",b:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	f.Add(",,:")
	f.Add("a:b:c")
	f.Fuzz(func(t *testing.T, spec string) {
		r, err := ParseKeyring(spec)
		if err != nil {
			// Whatever was typed, a refusal never echoes a 44-character key back.
			for _, part := range strings.FieldsFunc(spec, func(c rune) bool { return c == ',' || c == ':' }) {
				if len(part) >= 40 && strings.Contains(err.Error(), part) {
					t.Fatalf("error repeats input %q: %v", part, err)
				}
			}
			return
		}
		if r.Len() == 0 {
			t.Fatal("accepted a keyring with no keys")
		}
		for _, id := range r.IDs() {
			if checkKeyID(id) != nil {
				t.Fatalf("accepted key id %q", id)
			}
		}
	})
}
