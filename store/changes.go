package store

import (
	"context"
	"fmt"
	"time"
)

// ChangeKind says what changed about an endpoint, so a replica knows what to re-read.
type ChangeKind string

// Kinds of change.
const (
	// ChangeRecord: the Dataverse record changed (created, edited, re-keyed): re-read it.
	ChangeRecord ChangeKind = "record"
	// ChangeDeleted: the record was deleted.
	ChangeDeleted ChangeKind = "deleted"
	// ChangeFacts: only the portal's own facts changed (owning team, a validation run).
	ChangeFacts ChangeKind = "facts"
	// ChangeSteps: the steps registered against the endpoint changed: read them anew.
	ChangeSteps ChangeKind = "steps"
)

// Change is one entry of the change log that keeps replicas' catalogs in step.
type Change struct {
	Seq         int64
	Environment string
	EndpointID  string
	Kind        ChangeKind
	// Origin names the process that made the change, so it can skip its own.
	Origin string
	At     time.Time
}

// ChangeRetention is how long change log entries are kept before the sweeper removes them.
const ChangeRetention = time.Hour

// RecordChange appends c to the change log and returns its sequence number.
func (s *Store) RecordChange(ctx context.Context, c Change) (int64, error) {
	if c.Environment == "" || c.EndpointID == "" || c.Kind == "" {
		return 0, fmt.Errorf("record change: %w: needs environment, endpoint id and kind", ErrInvalid)
	}
	var seq int64
	err := s.w.QueryRowContext(ctx, s.d.q(`INSERT INTO catalog_changes (environment, endpoint_id, kind, origin, at)
		VALUES (?, ?, ?, ?, ?) RETURNING seq`),
		c.Environment, normalizeEndpointID(c.EndpointID), string(c.Kind), c.Origin, micros(s.now())).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("record change of endpoint %s: %w", c.EndpointID, err)
	}
	return seq, nil
}

// ChangesSince returns up to limit changes after seq, oldest first.
func (s *Store) ChangesSince(ctx context.Context, seq int64, limit int) ([]Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT seq, environment, endpoint_id, kind, origin, at
		FROM catalog_changes WHERE seq > ? ORDER BY seq LIMIT ?`), seq, limit)
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var (
			c    Change
			kind string
			at   int64
		)
		if err := rows.Scan(&c.Seq, &c.Environment, &c.EndpointID, &kind, &c.Origin, &at); err != nil {
			return nil, fmt.Errorf("read changes: %w", err)
		}
		c.Kind, c.At = ChangeKind(kind), fromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	return out, nil
}

// LatestChange is the newest change's sequence number (0 when the log is empty): where a
// catalog that has just loaded everything starts following the log.
func (s *Store) LatestChange(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM catalog_changes`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read latest change: %w", err)
	}
	return seq, nil
}
