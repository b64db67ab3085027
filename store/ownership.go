package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Ownership records which team owns an endpoint registered through the portal. It is
// metadata only: the endpoint itself lives in Dataverse, which may have deleted it since.
type Ownership struct {
	Environment      string    `json:"environment"`
	EndpointID       string    `json:"endpointId"`
	Team             string    `json:"team"`
	RegisteredBy     string    `json:"registeredBy"` // user key
	RegisteredByName string    `json:"registeredByName"`
	RegisteredAt     time.Time `json:"registeredAt"`
}

// SetOwnership records (or replaces, e.g. on a transfer between teams) who owns an endpoint.
// A zero RegisteredAt is set to now.
func (s *Store) SetOwnership(ctx context.Context, o Ownership) (Ownership, error) {
	if o.RegisteredAt.IsZero() {
		o.RegisteredAt = s.now()
	}
	if err := s.putOwnership(ctx, s.w, o); err != nil {
		return Ownership{}, fmt.Errorf("set owner of endpoint %s: %w", o.EndpointID, err)
	}
	o.EndpointID = normalizeEndpointID(o.EndpointID)
	o.RegisteredAt = fromMicros(micros(o.RegisteredAt))
	return o, nil
}

func (s *Store) putOwnership(ctx context.Context, db execer, o Ownership) error {
	o.EndpointID = normalizeEndpointID(o.EndpointID)
	if o.Environment == "" || o.EndpointID == "" || o.Team == "" || o.RegisteredBy == "" {
		return fmt.Errorf("%w: ownership needs environment, endpoint id, team and who registered it", ErrInvalid)
	}
	_, err := db.ExecContext(ctx, s.d.q(`INSERT INTO endpoint_owners
		(environment, endpoint_id, team, registered_by_key, registered_by_name, registered_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (environment, endpoint_id) DO UPDATE SET team = excluded.team,
		registered_by_key = excluded.registered_by_key, registered_by_name = excluded.registered_by_name,
		registered_at = excluded.registered_at`),
		o.Environment, o.EndpointID, o.Team, o.RegisteredBy, o.RegisteredByName, micros(o.RegisteredAt))
	return err
}

const ownershipColumns = `environment, endpoint_id, team, registered_by_key, registered_by_name, registered_at`

func scanOwnership(row rowScanner) (Ownership, error) {
	var (
		o  Ownership
		at int64
	)
	err := row.Scan(&o.Environment, &o.EndpointID, &o.Team, &o.RegisteredBy, &o.RegisteredByName, &at)
	o.RegisteredAt = fromMicros(at)
	return o, err
}

// GetOwnership returns who owns one endpoint; ErrNotFound when the portal has no record
// (registered elsewhere, or before the portal).
func (s *Store) GetOwnership(ctx context.Context, environment, endpointID string) (Ownership, error) {
	o, err := scanOwnership(s.r.QueryRowContext(ctx, s.d.q(`SELECT `+ownershipColumns+` FROM endpoint_owners
		WHERE environment = ? AND endpoint_id = ?`), environment, normalizeEndpointID(endpointID)))
	if errors.Is(err, sql.ErrNoRows) {
		return Ownership{}, fmt.Errorf("owner of endpoint %s: %w", endpointID, ErrNotFound)
	}
	if err != nil {
		return Ownership{}, fmt.Errorf("owner of endpoint %s: %w", endpointID, err)
	}
	return o, nil
}

// OwnershipOf returns the owners of many endpoints of one environment at once (the list
// page), keyed by lower-case endpoint id. Endpoints without a record are absent.
func (s *Store) OwnershipOf(ctx context.Context, environment string, endpointIDs []string) (map[string]Ownership, error) {
	out := make(map[string]Ownership, len(endpointIDs))
	ids, err := s.d.listArg(normalizeIDs(endpointIDs))
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT `+ownershipColumns+` FROM endpoint_owners
		WHERE environment = ? AND `+s.d.inList("endpoint_id")), environment, ids)
	if err != nil {
		return nil, fmt.Errorf("owners of %d endpoints: %w", len(endpointIDs), err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanOwnership(rows)
		if err != nil {
			return nil, fmt.Errorf("owners of %d endpoints: %w", len(endpointIDs), err)
		}
		out[o.EndpointID] = o
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("owners of %d endpoints: %w", len(endpointIDs), err)
	}
	return out, nil
}

// OwnershipByTeam lists the endpoints a team owns across environments (environment, then
// endpoint id order).
func (s *Store) OwnershipByTeam(ctx context.Context, team string) ([]Ownership, error) {
	out, err := s.listOwnership(ctx, `team = ?`, team)
	if err != nil {
		return nil, fmt.Errorf("endpoints of team %s: %w", team, err)
	}
	return out, nil
}

// OwnershipInEnvironment lists every ownership record of one environment. Compared with
// Dataverse's list, it finds endpoints the portal registered that were deleted outside it
// (records whose endpoint Dataverse no longer has), which the list page shows as such.
func (s *Store) OwnershipInEnvironment(ctx context.Context, environment string) ([]Ownership, error) {
	out, err := s.listOwnership(ctx, `environment = ?`, environment)
	if err != nil {
		return nil, fmt.Errorf("endpoints of environment %s: %w", environment, err)
	}
	return out, nil
}

func (s *Store) listOwnership(ctx context.Context, where string, arg any) ([]Ownership, error) {
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT `+ownershipColumns+` FROM endpoint_owners
		WHERE `+where+` ORDER BY environment, endpoint_id`), arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Ownership
	for rows.Next() {
		o, err := scanOwnership(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// DeleteOwnership forgets who owned an endpoint (after it is deleted). Missing is not an
// error.
func (s *Store) DeleteOwnership(ctx context.Context, environment, endpointID string) error {
	_, err := s.w.ExecContext(ctx, s.d.q(`DELETE FROM endpoint_owners WHERE environment = ? AND endpoint_id = ?`),
		environment, normalizeEndpointID(endpointID))
	if err != nil {
		return fmt.Errorf("delete owner of endpoint %s: %w", endpointID, err)
	}
	return nil
}

func normalizeIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = normalizeEndpointID(id)
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
