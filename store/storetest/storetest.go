// Package storetest is the store's conformance suite: one set of tests that every backend
// (SQLite, PostgreSQL) must pass. Backends' test files call Run with a function that makes a
// fresh, empty database.
//
// Some tests open the database directly with database/sql, bypassing the store, to prove
// what the store promises about the stored bytes (secrets unreadable, audit append-only).
// It must not be imported by non-test code.
package storetest

import (
	"context"
	"database/sql"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for raw access
	_ "modernc.org/sqlite"             // registers the "sqlite" driver for raw access

	"github.com/contoso/sbportal/store"
)

// NewDSN returns the data source name of a fresh, empty database for one test, and arranges
// its removal with t.Cleanup. Called more than once per test only when the test needs a
// second, independent database.
type NewDSN func(t testing.TB) string

// Run runs the whole suite against the backend that newDSN provides.
func Run(t *testing.T, newDSN NewDSN) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"Migrations", testMigrations},
		{"ConcurrentOpenMigratesOnce", testConcurrentOpen},
		{"MigrationArrivingLate", testMigrationArrivingLate},
		{"Sessions", testSessions},
		{"SessionExpiry", testSessionExpiry},
		{"SessionSharedBetweenInstances", testSessionShared},
		{"Drafts", testDrafts},
		{"DraftOptimisticConcurrency", testDraftConcurrency},
		{"DraftSaveClaim", testDraftSaveClaim},
		{"DraftSaveClaimLapses", testDraftClaimLapse},
		{"DraftConcurrentSaveOneWinner", testConcurrentSave},
		{"Ownership", testOwnership},
		{"ValidationRuns", testValidationRuns},
		{"Audit", testAudit},
		{"AuditRefusesSecrets", testAuditRefusesSecrets},
		{"AuditAppendOnlyInDatabase", testAuditAppendOnly},
		{"AuditClientAndActor", testAuditClientAndActor},
		{"Secrets", testSecrets},
		{"SecretsUnreadableInDatabase", testSecretsUnreadable},
		{"SecretTamperingAndMoving", testSecretTampering},
		{"SecretRotation", testRotation},
		{"Sweep", testSweep},
		{"Sweeper", testSweeper},
		{"Health", testHealth},
		{"EndpointHealthAndNotifications", testEndpointHealth},
		{"RevalidationClaimOneWinner", testRevalidationClaim},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &harness{t: t, dsn: newDSN(t), clock: newClock()}
			tc.fn(t, h)
		})
	}
}

// harness is one test's database plus helpers to open stores on it.
type harness struct {
	t     *testing.T
	dsn   string
	clock *clock
}

func (h *harness) ctx() context.Context { return h.t.Context() }

// open opens a store on the test's database with keys and the test's clock.
func (h *harness) open(keys store.Keyring, opts ...store.Option) *store.Store {
	h.t.Helper()
	opts = append([]store.Option{store.WithClock(h.clock.Now), quiet}, opts...)
	s, err := store.Open(h.ctx(), h.dsn, keys, opts...)
	if err != nil {
		h.t.Fatalf("open store: %v", err)
	}
	h.t.Cleanup(func() { _ = s.Close() })
	return s
}

// quiet keeps migration logs out of test output.
var quiet = store.WithLogger(slog.New(slog.DiscardHandler))

// raw opens the same database directly, bypassing the store.
func (h *harness) raw() *sql.DB {
	h.t.Helper()
	driver, dsn := "sqlite", "file:"+strings.TrimPrefix(strings.TrimPrefix(h.dsn, "sqlite:"), "file:")+"?_busy_timeout=10000"
	if strings.HasPrefix(h.dsn, "postgres") {
		driver, dsn = "pgx", h.dsn
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		h.t.Fatalf("open raw database: %v", err)
	}
	h.t.Cleanup(func() { _ = db.Close() })
	return db
}

// rawQ adapts ? placeholders for PostgreSQL in raw queries.
func (h *harness) rawQ(q string) string {
	if !strings.HasPrefix(h.dsn, "postgres") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (h *harness) postgres() bool { return strings.HasPrefix(h.dsn, "postgres") }

func (h *harness) keyring(keys ...store.Key) store.Keyring {
	h.t.Helper()
	r, err := store.NewKeyring(keys...)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) newKey() store.Key {
	h.t.Helper()
	k, err := store.GenerateKey()
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}

// clock is a controllable clock shared by all stores of one test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
