package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// unresolved is true of an audit entry p that is an intent no outcome has followed: an outcome
// pairs with its intent by request id, action, environment and endpoint.
const unresolved = `p.outcome = 'pending' AND NOT EXISTS (
	SELECT 1 FROM audit_entries o WHERE o.outcome <> 'pending' AND o.request_id = p.request_id
	AND o.action = p.action AND o.environment = p.environment AND o.endpoint_id = p.endpoint_id AND o.id > p.id)`

// UnresolvedIntents returns pending audit entries (intents) recorded before `before` that no
// outcome entry has followed yet (same request id, action, environment and endpoint), oldest
// first, at most limit. The recoverer resolves them by looking at Dataverse.
func (s *Store) UnresolvedIntents(ctx context.Context, before time.Time, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT p.id, p.at, p.actor_key, p.actor_name, p.action, p.environment,
		p.endpoint_id, p.endpoint_name, p.before_json, p.after_json, p.detail, p.request_id
		FROM audit_entries p
		WHERE p.at < ? AND `+unresolved+` ORDER BY p.id LIMIT ?`), micros(before), limit)
	if err != nil {
		return nil, fmt.Errorf("unresolved intents: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var (
			e             AuditEntry
			at            int64
			before, after sql.NullString
		)
		if err := rows.Scan(&e.ID, &at, &e.ActorKey, &e.ActorName, &e.Action, &e.Environment, &e.EndpointID,
			&e.EndpointName, &before, &after, &e.Detail, &e.RequestID); err != nil {
			return nil, fmt.Errorf("unresolved intents: %w", err)
		}
		e.At, e.Outcome = fromMicros(at), AuditPending
		if before.Valid {
			e.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			e.After = json.RawMessage(after.String)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PendingIntent returns the newest unresolved intent of action on an endpoint (found false when
// there is none). A request that retries an interrupted change completes that intent, under
// its request id, instead of recording a second one.
func (s *Store) PendingIntent(ctx context.Context, action, environment, endpointID string) (AuditEntry, bool, error) {
	var e AuditEntry
	var at int64
	err := s.r.QueryRowContext(ctx, s.d.q(`SELECT p.id, p.at, p.actor_key, p.actor_name, p.request_id FROM audit_entries p
		WHERE p.action = ? AND p.environment = ? AND p.endpoint_id = ? AND `+unresolved+` ORDER BY p.id DESC LIMIT 1`), action, environment, normalizeEndpointID(endpointID)).
		Scan(&e.ID, &at, &e.ActorKey, &e.ActorName, &e.RequestID)
	if errors.Is(err, sql.ErrNoRows) {
		return AuditEntry{}, false, nil
	}
	if err != nil {
		return AuditEntry{}, false, fmt.Errorf("pending intent: %w", err)
	}
	e.At, e.Outcome, e.Action, e.Environment, e.EndpointID = fromMicros(at), AuditPending, action, environment, normalizeEndpointID(endpointID)
	return e, true, nil
}
