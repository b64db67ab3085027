package emulator

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// store keeps the organization's rows in memory, and when opened on a file, writes every
// change through to SQLite (one table of JSON documents) so a restarted emulator finds its
// data again. Secrets are stored as given: this is a local development stand-in, never a
// place for production keys.
type store struct {
	mu     sync.RWMutex
	tables map[string]map[string]record // entity set -> id -> row
	db     *sql.DB
}

func openStore(path string) (*store, error) {
	s := &store{tables: map[string]map[string]record{}}
	if path == "" {
		return s, nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS dataverse_rows (
		entity_set TEXT NOT NULL,
		id TEXT NOT NULL,
		doc TEXT NOT NULL,
		PRIMARY KEY (entity_set, id))`); err != nil {
		db.Close()
		return nil, fmt.Errorf("create table in %s: %w", path, err)
	}
	rows, err := db.Query(`SELECT entity_set, id, doc FROM dataverse_rows`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var set, id, doc string
		if err := rows.Scan(&set, &id, &doc); err != nil {
			db.Close()
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		var r record
		if err := json.Unmarshal([]byte(doc), &r); err != nil {
			db.Close()
			return nil, fmt.Errorf("load %s: row %s/%s: %w", path, set, id, err)
		}
		s.table(set)[id] = r
	}
	if err := rows.Err(); err != nil {
		db.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	s.db = db
	return s, nil
}

func (s *store) table(set string) map[string]record {
	t, ok := s.tables[set]
	if !ok {
		t = map[string]record{}
		s.tables[set] = t
	}
	return t
}

func (s *store) close() error {
	if s.db != nil {
		return s.db.Close()
	}
	return nil
}

// The methods below expect the caller to hold s.mu (write lock for changes).

func (s *store) get(set, id string) (record, bool) {
	r, ok := s.tables[set][id]
	return r, ok
}

func (s *store) put(set, id string, r record) error {
	if s.db != nil {
		doc, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := s.db.Exec(`INSERT INTO dataverse_rows (entity_set, id, doc) VALUES (?, ?, ?)
			ON CONFLICT (entity_set, id) DO UPDATE SET doc = excluded.doc`, set, id, string(doc)); err != nil {
			return fmt.Errorf("save %s(%s): %w", set, id, err)
		}
	}
	s.table(set)[id] = r
	return nil
}

func (s *store) delete(set, id string) error {
	if s.db != nil {
		if _, err := s.db.Exec(`DELETE FROM dataverse_rows WHERE entity_set = ? AND id = ?`, set, id); err != nil {
			return fmt.Errorf("delete %s(%s): %w", set, id, err)
		}
	}
	delete(s.tables[set], id)
	return nil
}

func (s *store) all(set string) []record {
	t := s.tables[set]
	out := make([]record, 0, len(t))
	for _, r := range t {
		out = append(out, r)
	}
	return out
}
