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
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("embedded migrations for %s: expected version %d, found %d (versions must be 1, 2, 3, ...)", d.name, i+1, m.version)
		}
	}
	return out, nil
}

// LatestSchemaVersion is the schema version this binary's migrations produce.
func (s *Store) LatestSchemaVersion() int {
	ms, err := s.d.migrationList()
	if err != nil {
		return 0
	}
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
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if version > len(ms) {
			return fmt.Errorf("database schema version %d is newer than this portal's (%d); run the newer portal version", version, len(ms))
		}
		for _, m := range ms[version:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %d (%s): %w", m.version, m.name, err)
			}
			if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, micros(s.now())); err != nil {
				return fmt.Errorf("record migration %d: %w", m.version, err)
			}
			s.opts.logger.InfoContext(ctx, "applied database migration", "backend", s.d.name, "version", m.version, "name", m.name)
			version = m.version
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
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("open store: %w (run `portal migrate`)", err)
	}
	if latest := s.LatestSchemaVersion(); v != latest {
		return fmt.Errorf("open store: database schema version is %d, this portal needs %d; run `portal migrate`", v, latest)
	}
	return nil
}
