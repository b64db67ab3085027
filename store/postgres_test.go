package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/contoso/sbportal/store/storetest"
)

// postgresURL returns the server the PostgreSQL tests use. Without PORTAL_TEST_DATABASE_URL
// the tests skip loudly on a developer's machine, and fail under CI, where skipping would
// hide that the PostgreSQL backend went untested.
func postgresURL(t testing.TB) string {
	u := os.Getenv("PORTAL_TEST_DATABASE_URL")
	if u != "" {
		return u
	}
	const how = "set PORTAL_TEST_DATABASE_URL (e.g. run store/testdata/start-postgres.sh " +
		"and export PORTAL_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable)"
	if os.Getenv("CI") != "" {
		t.Fatal("PostgreSQL tests cannot run under CI without a database: " + how)
	}
	t.Skip("\n\n*** PostgreSQL tests SKIPPED: " + how + " ***\n\n")
	return ""
}

// newPostgresDSN makes a fresh schema for one test and returns a URL whose search_path points
// at it; the schema is dropped when the test ends.
func newPostgresDSN(t testing.TB) string {
	base := postgresURL(t)
	ctx := context.Background()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "storetest_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to PORTAL_TEST_DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("PORTAL_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestPostgresConformance(t *testing.T) {
	postgresURL(t)
	storetest.Run(t, newPostgresDSN)
}
