package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migration is one embedded schema step, from a file named NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the backend's migrations in version order.
func (d *dialect) migrationList() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, d.migrations)
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("embedded migration %s: name must be NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(d.migrations, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read embedded migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("embedded migrations for %s: two migrations have version %d", d.name, out[i].version)
		}
	}
	return out, nil
}

// Migrations are numbered by the change that adds them, so a number may be missing for a
// while (another branch's migration not merged yet) and may arrive later than a higher one:
// every migration the database has not applied is applied, in version order, whatever the
// highest applied version is.

// LatestSchemaVersion is the highest schema version this binary's migrations produce.
func (s *Store) LatestSchemaVersion() int {
	ms, err := s.d.migrationList()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// KnownMigrations is how many migrations this binary has (with a gap in the numbering, fewer
// than LatestSchemaVersion).
func (s *Store) KnownMigrations() int {
	ms, _ := s.d.migrationList()
	return len(ms)
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at BIGINT  NOT NULL
)`

// Migrate applies pending migrations in one transaction and returns the resulting schema
// version. Several replicas may call it at once: PostgreSQL serialises them with an advisory
// lock and SQLite with its write lock, and whoever comes second finds nothing left to do. A
// database newer than this binary is refused rather than touched.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	ms, err := s.d.migrationList()
	if err != nil {
		return 0, err
	}
	var version int
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if s.d.lockMigrations != "" {
			if _, err := tx.ExecContext(ctx, s.d.lockMigrations); err != nil {
				return fmt.Errorf("lock for migrations: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		if unknown := unknownVersions(applied, ms); len(unknown) > 0 {
			return fmt.Errorf("database schema has migration %d, which this portal does not know; run the newer portal version", unknown[0])
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %d (%s): %w", m.version, m.name, err)
			}
			if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, micros(s.now())); err != nil {
				return fmt.Errorf("record migration %d: %w", m.version, err)
			}
			s.opts.logger.InfoContext(ctx, "applied database migration", "backend", s.d.name, "version", m.version, "name", m.name)
		}
		version = 0
		if len(ms) > 0 {
			version = max(ms[len(ms)-1].version, maxKey(applied))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("migrate %s database: %w", s.d.name, err)
	}
	return version, nil
}

// SchemaVersion reports the database's current schema version (for /readyz).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

func (s *Store) checkSchemaCurrent(ctx context.Context) error {
	ms, err := s.d.migrationList()
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("open store: read schema version: %w (run `portal migrate`)", err)
	}
	applied, err := scanVersions(rows)
	if err != nil {
		return fmt.Errorf("open store: read schema version: %w (run `portal migrate`)", err)
	}
	for _, m := range ms {
		if !applied[m.version] {
			return fmt.Errorf("open store: the database lacks migration %d (%s) of this portal; run `portal migrate`", m.version, m.name)
		}
	}
	if unknown := unknownVersions(applied, ms); len(unknown) > 0 {
		return fmt.Errorf("open store: database schema has migration %d, which this portal does not know; run the newer portal version", unknown[0])
	}
	return nil
}

// appliedVersions reads which migrations the database has applied.
func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	applied, err := scanVersions(rows)
	if err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	return applied, nil
}

func scanVersions(rows *sql.Rows) (map[int]bool, error) {
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// unknownVersions lists applied versions that no migration of ms has, in order.
func unknownVersions(applied map[int]bool, ms []migration) []int {
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
	}
	var out []int
	for v := range applied {
		if !known[v] {
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

func maxKey(m map[int]bool) int {
	n := 0
	for k := range m {
		n = max(n, k)
	}
	return n
}
