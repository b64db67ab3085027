package store

// Everything that differs between SQLite and PostgreSQL, apart from the DDL in
// migrations/sqlite and migrations/postgres, lives in this file: how to connect, the
// placeholder style, and how migrations are serialised across replicas.

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

type dialect struct {
	name string // "sqlite" or "postgres"
	// numbered placeholders ($1, $2, ...) instead of ?.
	numbered bool
	// migrations is the folder in migrationFiles with this backend's DDL.
	migrations string
	// lockMigrations serialises schema changes across processes inside the migration
	// transaction (SQLite's BEGIN IMMEDIATE already holds the single write lock).
	lockMigrations string

	rebound sync.Map // query with ? -> query with $n
}

var (
	sqliteDialect = &dialect{name: "sqlite", migrations: "migrations/sqlite"}
	// The advisory lock key is fixed: the portal's migrations, whatever schema they target.
	// Transaction-scoped, so a crashed replica cannot leave it held.
	postgresDialect = &dialect{name: "postgres", numbered: true, migrations: "migrations/postgres",
		lockMigrations: "SELECT pg_advisory_xact_lock(7306086118207640420)"}
)

// q adapts a query written with ? placeholders to the backend. The store never writes a
// literal ? inside SQL text, so the rewrite is a plain scan; results are cached.
func (d *dialect) q(query string) string {
	if !d.numbered {
		return query
	}
	if v, ok := d.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	// The store's queries are a fixed set (the audit filter combines at most a few dozen
	// variants), so the cache stays small.
	d.rebound.Store(query, out)
	return out
}

// inList is a condition "column is one of a list" that takes the whole list as one
// parameter (listArg), so a query's text does not change with the list's length. PostgreSQL
// unnests an array: the plain "= ANY(array)" form, once pgx's cached statement gets a generic
// plan, compares every row with every id (measured: 20 ms instead of 1.5 ms for 1,000 ids),
// while the unnest form plans as a hashed semi-join. SQLite reads a JSON array via json_each.
func (d *dialect) inList(column string) string {
	if d.numbered {
		return column + " IN (SELECT unnest(?::text[]))"
	}
	return column + " IN (SELECT value FROM json_each(?))"
}

// listTable is a FROM item that yields one row per list element, in a column named id; its
// single parameter is a listArg. Queries probe an index once per element through it, so their
// cost follows the list's length rather than the table's size, whatever plan is cached.
func (d *dialect) listTable(alias string) string {
	if d.numbered {
		return "unnest(?::text[]) AS " + alias + "(id)"
	}
	return "(SELECT value AS id FROM json_each(?)) AS " + alias
}

// listArg encodes a list of strings as the single parameter inList expects.
func (d *dialect) listArg(values []string) (any, error) {
	if d.numbered {
		return values, nil
	}
	b, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("encode list parameter: %w", err)
	}
	return string(b), nil
}

// connection is an opened backend: its dialect, pools, and a redacted name for messages.
type connection struct {
	d        *dialect
	w, r     *sql.DB
	redacted string
	// release frees what closing w and r does not (pgx's pool).
	release func()
}

// openBackend picks the backend from dsn and opens its connection pools.
func openBackend(ctx context.Context, dsn string) (connection, error) {
	dsn = strings.TrimSpace(dsn)
	switch {
	case dsn == "":
		return connection{}, fmt.Errorf("open store: no database given; set PORTAL_DATABASE_URL to a file path (SQLite) or a postgres:// URL")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	default:
		path, err := sqlitePath(dsn)
		if err != nil {
			return connection{}, fmt.Errorf("open store: %w", err)
		}
		w, r, err := openSQLite(ctx, path)
		if err != nil {
			return connection{}, err
		}
		return connection{d: sqliteDialect, w: w, r: r, redacted: path, release: func() {}}, nil
	}
}

func openPostgres(ctx context.Context, dsn string) (connection, error) {
	// Messages name the server without password or query (which may carry password=).
	redacted := "the PostgreSQL database"
	if u, err := url.Parse(dsn); err == nil {
		u.RawQuery = ""
		redacted = u.Redacted()
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse error quotes the URL with only best-effort redaction: leave it out.
		return connection{}, errors.New("open store: the PostgreSQL URL is not valid; expected postgres://user:password@host:5432/database?sslmode=verify-full (pool settings such as pool_max_conns=10 may be added)")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return connection{}, fmt.Errorf("open store: connect to %s: %w", redacted, err)
	}
	// database/sql on top of pgxpool: one SQL code path for both backends, pgx's pool and
	// protocol underneath. Closing the sql.DB does not close the pool, hence release.
	db := stdlib.OpenDBFromPool(pool)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		pool.Close()
		return connection{}, fmt.Errorf("open store: connect to %s: %w", redacted, err)
	}
	return connection{d: postgresDialect, w: db, r: db, redacted: redacted, release: pool.Close}, nil
}

// sqlitePath turns "sqlite:PATH", "file:PATH" or "PATH" into a file path.
func sqlitePath(dsn string) (string, error) {
	path := dsn
	if i := strings.Index(dsn, "://"); i > 0 && !strings.HasPrefix(dsn, "file:") && !strings.HasPrefix(dsn, "sqlite:") {
		return "", fmt.Errorf("database URL scheme %q is not supported; use a postgres:// URL or a file path for SQLite", dsn[:i])
	}
	for _, prefix := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if strings.HasPrefix(path, prefix) {
			path = strings.TrimPrefix(path, prefix)
			break
		}
	}
	switch {
	case path == "" || path == ":memory:" || strings.HasPrefix(path, ":memory:"):
		return "", fmt.Errorf("SQLite needs a file path (an in-memory database would not be shared between connections)")
	case strings.ContainsAny(path, "?#"):
		return "", fmt.Errorf("SQLite path %q may not contain '?' or '#'; the store sets its own connection options", path)
	}
	return filepath.Clean(path), nil
}

// openSQLite opens one writer connection and a small pool of read-only ones. WAL lets readers
// run while the writer writes; the busy timeout covers other processes (another Store on the
// same file); _txlock=immediate takes the write lock at BEGIN so a transaction never fails
// midway upgrading a read lock.
func openSQLite(ctx context.Context, path string) (w, r *sql.DB, err error) {
	if dir := filepath.Dir(path); dir != "." {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return nil, nil, fmt.Errorf("open store: folder %s for the SQLite file does not exist; create it first", dir)
		}
	}
	// A new database file is readable by the portal's user only: it holds session hashes,
	// the audit trail and (encrypted) secrets. SQLite gives its -wal and -shm files the same
	// mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_ = f.Close()
	}
	common := "_busy_timeout=10000&_foreign_keys=1&_synchronous=NORMAL"
	w, err = sql.Open("sqlite", "file:"+path+"?"+common+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, nil, fmt.Errorf("open store: SQLite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	// The writer must create the file and switch it to WAL before readers open it read-only.
	if err := pingSQLite(ctx, w); err != nil {
		_ = w.Close()
		return nil, nil, fmt.Errorf("open store: SQLite %s: %w", path, err)
	}
	r, err = sql.Open("sqlite", "file:"+path+"?"+common+"&_query_only=1")
	if err != nil {
		_ = w.Close()
		return nil, nil, fmt.Errorf("open store: SQLite %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return w, r, nil
}

// pingSQLite opens the first connection, retrying while the file is busy: switching a new
// database to WAL needs an exclusive lock and SQLite reports SQLITE_BUSY at once, without the
// busy timeout, when another process (a second replica starting) holds the file.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || attempt == 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code (extended codes keep it in the low byte).
const sqliteBusy = 5
