// Package pgtest gives tests a PostgreSQL database of their own: a fresh schema in the server
// named by PORTAL_TEST_DATABASE_URL, dropped when the test ends. Without the variable the tests
// skip loudly; under CI they fail instead, so CI can never pass without PostgreSQL.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// URL returns PORTAL_TEST_DATABASE_URL, or skips t loudly without it (fails under CI).
func URL(t testing.TB) string {
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

// NewDSN makes a fresh schema for one test and returns a URL whose search_path points
// at it; the schema is dropped when the test ends.
func NewDSN(t testing.TB) string {
	base := URL(t)
	ctx := context.Background()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
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
