package store

import (
	"context"
	"fmt"
	"time"
)

// EndpointRef names an endpoint in an environment.
type EndpointRef struct {
	Environment string `json:"environment"`
	EndpointID  string `json:"endpointId"`
}

// RecordCopy records that copy was made from source (Copy to environment). Recording the same
// copy again changes nothing but the time.
func (s *Store) RecordCopy(ctx context.Context, copy, source EndpointRef) error {
	_, err := s.w.ExecContext(ctx, s.d.q(`INSERT INTO endpoint_copies
		(environment, endpoint_id, source_environment, source_endpoint_id, copied_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (environment, endpoint_id) DO UPDATE SET source_environment = excluded.source_environment,
		source_endpoint_id = excluded.source_endpoint_id, copied_at = excluded.copied_at`),
		copy.Environment, normalizeEndpointID(copy.EndpointID), source.Environment, normalizeEndpointID(source.EndpointID), micros(s.now()))
	if err != nil {
		return fmt.Errorf("record copy of endpoint %s: %w", source.EndpointID, err)
	}
	return nil
}

// CopyLink is an endpoint related to another by a copy: the one it was copied from, or one
// copied from it.
type CopyLink struct {
	EndpointRef
	// CopiedFrom is true when this is the endpoint the other was copied from.
	CopiedFrom bool
	At         time.Time
}

// CopyLinks lists the endpoints an endpoint was copied from and to, oldest first.
func (s *Store) CopyLinks(ctx context.Context, ref EndpointRef) ([]CopyLink, error) {
	id := normalizeEndpointID(ref.EndpointID)
	rows, err := s.r.QueryContext(ctx, s.d.q(`
		SELECT source_environment, source_endpoint_id, 1, copied_at FROM endpoint_copies WHERE environment = ? AND endpoint_id = ?
		UNION ALL
		SELECT environment, endpoint_id, 0, copied_at FROM endpoint_copies WHERE source_environment = ? AND source_endpoint_id = ?
		ORDER BY 4`), ref.Environment, id, ref.Environment, id)
	if err != nil {
		return nil, fmt.Errorf("copies of endpoint %s: %w", ref.EndpointID, err)
	}
	defer rows.Close()
	var out []CopyLink
	for rows.Next() {
		var (
			l    CopyLink
			from int
			at   int64
		)
		if err := rows.Scan(&l.Environment, &l.EndpointID, &from, &at); err != nil {
			return nil, fmt.Errorf("copies of endpoint %s: %w", ref.EndpointID, err)
		}
		l.CopiedFrom, l.At = from == 1, fromMicros(at)
		out = append(out, l)
	}
	return out, rows.Err()
}
