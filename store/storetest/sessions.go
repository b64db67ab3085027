package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

func testMigrations(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	v, err := s.SchemaVersion(h.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if v < 1 || v != s.LatestSchemaVersion() {
		t.Fatalf("schema version = %d, want latest %d", v, s.LatestSchemaVersion())
	}
	// Migrating again is a no-op and keeps the version.
	again, err := s.Migrate(h.ctx())
	if err != nil || again != v {
		t.Fatalf("second Migrate = %d, %v; want %d, nil", again, err, v)
	}
	var applied int
	if err := h.raw().QueryRowContext(h.ctx(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != s.KnownMigrations() {
		t.Fatalf("schema_migrations has %d rows, want %d (each migration recorded once)", applied, s.KnownMigrations())
	}
	// A store that must not migrate opens a current database...
	current, err := store.Open(h.ctx(), h.dsn, store.Keyring{}, store.WithoutMigrate(), quiet)
	if err != nil {
		t.Fatalf("WithoutMigrate on a current database: %v", err)
	}
	_ = current.Close()
	// ...and a database newer than the binary is refused, not touched.
	if _, err := h.raw().ExecContext(h.ctx(), h.rawQ(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)`), v+1); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(h.ctx(), h.dsn, store.Keyring{}, quiet)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open on a newer schema: err = %v, want a refusal mentioning a newer schema", err)
	}
}

// testMigrationArrivingLate: a migration numbered below one already applied (a branch merged
// after another's higher-numbered migration) is applied when the store opens.
func testMigrationArrivingLate(t *testing.T, h *harness) {
	h.open(store.Keyring{})
	// Undo migration 2 as if this database had never seen it, while 3 and up stay applied.
	for _, q := range []string{`DROP TABLE catalog_changes`, `DELETE FROM schema_migrations WHERE version = 2`} {
		if _, err := h.raw().ExecContext(h.ctx(), q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Open(h.ctx(), h.dsn, store.Keyring{}, store.WithoutMigrate(), quiet); err == nil || !strings.Contains(err.Error(), "lacks migration 2") {
		t.Fatalf("WithoutMigrate on a database missing migration 2: err = %v, want it named", err)
	}
	s := h.open(store.Keyring{})
	if _, err := s.RecordChange(h.ctx(), store.Change{Environment: "e", EndpointID: "x", Kind: store.ChangeRecord, Origin: "o"}); err != nil {
		t.Fatalf("migration 2 was not applied late: %v", err)
	}
}

func testConcurrentOpen(t *testing.T, h *harness) {
	// Several replicas starting at once on an empty database: all open, the schema is
	// applied once.
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			s, err := store.Open(h.ctx(), h.dsn, store.Keyring{}, quiet)
			if err == nil {
				_ = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	var applied, latest int
	if err := h.raw().QueryRowContext(h.ctx(), `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&applied, &latest); err != nil {
		t.Fatal(err)
	}
	if known := h.open(store.Keyring{}).KnownMigrations(); applied != known || latest != h.open(store.Keyring{}).LatestSchemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to version %d, want %d: a migration was applied twice or skipped", applied, latest, known)
	}
}

func sampleSession() store.Session {
	return store.Session{
		UserKey:  "tenant-1/user-1",
		Name:     "Ada Lovelace",
		Username: "ada@contoso.com",
		Tenant:   "tenant-1",
		Roles:    []string{"Endpoint.Registrar"},
		Teams:    []string{"payments", "billing"},
	}
}

func testSessions(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	ctx := h.ctx()
	created, err := s.CreateSession(ctx, sampleSession())
	if err != nil {
		t.Fatal(err)
	}
	if len(created.ID) < 32 || !created.CreatedAt.Equal(h.clock.Now()) || !created.ExpiresAt.After(created.CreatedAt) {
		t.Fatalf("created session = %+v: want a long random id, CreatedAt now, ExpiresAt later", created)
	}
	got, err := s.GetSession(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, created) {
		t.Fatalf("GetSession = %+v\nwant %+v", got, created)
	}
	// Touching a session used moments ago costs no write; after a few minutes it extends it.
	h.clock.Advance(10 * time.Second)
	if err := s.TouchSession(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.GetSession(ctx, created.ID); !again.LastSeenAt.Equal(created.LastSeenAt) {
		t.Fatalf("a touch 10 s after use wrote: last seen %v", again.LastSeenAt)
	}
	h.clock.Advance(5 * time.Minute)
	if err := s.TouchSession(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.GetSession(ctx, created.ID); !again.LastSeenAt.Equal(h.clock.Now()) {
		t.Fatalf("a touch 5 min after use did not extend: last seen %v", again.LastSeenAt)
	}
	other, err := s.CreateSession(ctx, sampleSession())
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == created.ID {
		t.Fatal("two sessions got the same id")
	}

	// The table keeps a hash, never the id itself: a database reader cannot mint cookies.
	var n int
	if err := h.raw().QueryRowContext(ctx, h.rawQ(`SELECT COUNT(*) FROM sessions WHERE id_hash = ?`), created.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("the sessions table stores the raw session id")
	}

	h.clock.Advance(2 * time.Minute)
	got.Roles = []string{"Endpoint.Reader"}
	if err := s.UpdateSession(ctx, got); err != nil {
		t.Fatal(err)
	}
	updated, err := s.GetSession(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(updated.Roles, []string{"Endpoint.Reader"}) || !updated.LastSeenAt.Equal(h.clock.Now()) {
		t.Fatalf("after UpdateSession: %+v", updated)
	}
	if !updated.CreatedAt.Equal(created.CreatedAt) || !updated.ExpiresAt.Equal(created.ExpiresAt) {
		t.Fatal("UpdateSession moved the absolute expiry")
	}

	if err := s.DeleteSession(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, created.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSession after delete: err = %v, want ErrNotFound", err)
	}
	if err := s.UpdateSession(ctx, got); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateSession after delete: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, created.ID); err != nil {
		t.Fatalf("deleting a missing session: %v", err)
	}
	if _, err := s.GetSession(ctx, other.ID); err != nil {
		t.Fatalf("the other session went too: %v", err)
	}
	if n, err := s.DeleteUserSessions(ctx, "tenant-1/user-1"); err != nil || n != 1 {
		t.Fatalf("DeleteUserSessions = %d, %v; want 1", n, err)
	}
	// SaveSession (the sign-in code's shape): creates or replaces by id, keeping the times
	// it is given.
	id, err := store.NewSessionID()
	if err != nil {
		t.Fatal(err)
	}
	saved := sampleSession()
	saved.ID = id
	saved.CreatedAt = h.clock.Now().Add(-time.Hour)
	saved.LastSeenAt = h.clock.Now().Add(-time.Minute)
	saved.ExpiresAt = h.clock.Now().Add(3 * time.Hour)
	if err := s.SaveSession(ctx, saved); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetSession(ctx, id); err != nil || !reflect.DeepEqual(got, saved) {
		t.Fatalf("after SaveSession (create): %+v, %v\nwant %+v", got, err, saved)
	}
	saved.Name, saved.LastSeenAt = "Ada King", h.clock.Now()
	if err := s.SaveSession(ctx, saved); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetSession(ctx, id); err != nil || !reflect.DeepEqual(got, saved) {
		t.Fatalf("after SaveSession (replace): %+v, %v\nwant %+v", got, err, saved)
	}
	if err := s.SaveSession(ctx, store.Session{ID: "short", UserKey: "u"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("guessable session id: err = %v, want ErrInvalid", err)
	}
	if _, err := s.CreateSession(ctx, store.Session{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("session without user: err = %v, want ErrInvalid", err)
	}
}

func testSessionExpiry(t *testing.T, h *harness) {
	const idle, absolute = 30 * time.Minute, 2 * time.Hour
	s := h.open(store.Keyring{}, store.WithSessionLifetimes(idle, absolute))
	ctx := h.ctx()
	sess, err := s.CreateSession(ctx, sampleSession())
	if err != nil {
		t.Fatal(err)
	}

	// Idle: unused for the idle timeout, it is gone.
	h.clock.Advance(idle - time.Second)
	if _, err := s.GetSession(ctx, sess.ID); err != nil {
		t.Fatalf("just before idle expiry: %v", err)
	}
	// Touch extends it.
	if err := s.TouchSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(idle - time.Second)
	if _, err := s.GetSession(ctx, sess.ID); err != nil {
		t.Fatalf("touched session expired at the old idle deadline: %v", err)
	}
	h.clock.Advance(2 * time.Second)
	if _, err := s.GetSession(ctx, sess.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after idle timeout: err = %v, want ErrNotFound", err)
	}
	if err := s.TouchSession(ctx, sess); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("touching an expired session: err = %v, want ErrNotFound", err)
	}

	// Absolute: even a session used all the time ends.
	sess, err = s.CreateSession(ctx, sampleSession())
	if err != nil {
		t.Fatal(err)
	}
	for elapsed := time.Duration(0); elapsed < absolute-idle/2; elapsed += idle / 2 {
		h.clock.Advance(idle / 2)
		if err := s.TouchSession(ctx, sess); err != nil {
			t.Fatalf("touch at %v: %v", elapsed, err)
		}
	}
	h.clock.Advance(idle / 2)
	if _, err := s.GetSession(ctx, sess.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the absolute lifetime: err = %v, want ErrNotFound", err)
	}
}

func testSessionShared(t *testing.T, h *harness) {
	// Two portal replicas on one database: a session made on one works on the other.
	a, b := h.open(store.Keyring{}), h.open(store.Keyring{})
	ctx := h.ctx()
	sess, err := a.CreateSession(ctx, sampleSession())
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.GetSession(ctx, sess.ID)
	if err != nil {
		t.Fatalf("session made on replica A, read on B: %v", err)
	}
	if got.UserKey != sess.UserKey {
		t.Fatalf("replica B sees %+v", got)
	}
	if _, err := a.GetSession(ctx, sess.ID); err != nil { // A reuses what it read for a moment
		t.Fatal(err)
	}
	if err := b.DeleteSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetSession(ctx, sess.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("signed out on B, still valid on B: %v", err)
	}
	// On A the sign-out takes effect within the session cache's lifetime, not later.
	h.clock.Advance(store.DefaultSessionCacheTTL)
	if _, err := a.GetSession(ctx, sess.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("signed out on B, still valid on A after %v: %v", store.DefaultSessionCacheTTL, err)
	}

	// A session read moments ago is not read again; one deleted here is gone at once.
	other, err := a.CreateSession(ctx, sampleSession())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetSession(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteSession(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetSession(ctx, other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("signed out on A, still valid on A: %v", err)
	}
}

func testHealth(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	if err := s.Ping(h.ctx()); err != nil {
		t.Fatal(err)
	}
	want := "sqlite"
	if h.postgres() {
		want = "postgres"
	}
	if s.Backend() != want {
		t.Fatalf("Backend() = %q, want %q", s.Backend(), want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(h.ctx()); err == nil {
		t.Fatal("Ping on a closed store succeeded")
	}
}

// mustDraft creates a draft or fails the test.
func mustDraft(t *testing.T, h *harness, s *store.Store, owner string, secrets map[endpoint.SecretPurpose]endpoint.Secret) store.Draft {
	t.Helper()
	d, err := s.CreateDraft(h.ctx(), store.Draft{
		Owner: owner, Environment: "contoso-prod",
		Data:    []byte(`{"name":"orders-created","path":"orders"}`),
		Secrets: secrets,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fmtErrs(errs []error) string {
	var b strings.Builder
	for i, err := range errs {
		fmt.Fprintf(&b, "\n  %d: %v", i, err)
	}
	return b.String()
}

// secretsOf wraps plaintexts as a draft's secrets.
func secretsOf(plain map[endpoint.SecretPurpose]string) map[endpoint.SecretPurpose]endpoint.Secret {
	out := make(map[endpoint.SecretPurpose]endpoint.Secret, len(plain))
	for p, v := range plain {
		out[p] = endpoint.NewSecret(v)
	}
	return out
}
