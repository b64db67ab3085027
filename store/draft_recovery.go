package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// TakeOverDraftSave takes the owner's draft that another request is saving (or was saving when
// it died), whatever its claim's expiry. It is safe because finishing a save is idempotent: the
// endpoint id is the draft's, so whichever request finishes first wins, and the other's
// FinishDraftSave answers ErrClaimLost. ErrDraftSaved when the save has finished meanwhile;
// ErrConflict when the draft is open again (a failed save released it).
func (s *Store) TakeOverDraftSave(ctx context.Context, id, owner string) (DraftClaim, error) {
	token, err := randomToken(16)
	if err != nil {
		return DraftClaim{}, fmt.Errorf("take over draft %s: %w", id, err)
	}
	now := s.now()
	till := now.Add(s.opts.draftClaimTimeout)
	res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE drafts SET claim_token = ?, claim_expires_at = ?
		WHERE id = ? AND owner_key = ? AND status = 'saving' AND expires_at > ?`),
		token, micros(till), id, owner, micros(now))
	if err != nil {
		return DraftClaim{}, fmt.Errorf("take over draft %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		d, err := s.getDraft(ctx, s.w, id, owner)
		switch {
		case err != nil:
			return DraftClaim{}, fmt.Errorf("take over draft %s: %w", id, err)
		case d.Status == DraftSaved:
			return DraftClaim{}, fmt.Errorf("take over draft %s: %w", id, ErrDraftSaved)
		default:
			return DraftClaim{}, fmt.Errorf("take over draft %s: %w", id, ErrConflict)
		}
	}
	d, err := s.getDraft(ctx, s.w, id, owner)
	if err != nil {
		return DraftClaim{}, fmt.Errorf("take over draft %s: %w", id, err)
	}
	return DraftClaim{Draft: d, Token: token, ExpiresAt: till}, nil
}

// ExpireDraftClaim ends a claim at once without giving the save up: the request that held it
// failed in a way that leaves the outcome unknown (Dataverse did not answer, the database
// failed), and the next Save should not wait for the claim to lapse before finishing it.
func (s *Store) ExpireDraftClaim(ctx context.Context, claim DraftClaim) error {
	_, err := s.w.ExecContext(ctx, s.d.q(`UPDATE drafts SET claim_expires_at = ?
		WHERE id = ? AND claim_token = ? AND status = 'saving'`), micros(s.now()), claim.Draft.ID, claim.Token)
	if err != nil {
		return fmt.Errorf("expire claim on draft %s: %w", claim.Draft.ID, err)
	}
	return nil
}

// StaleDraftSaves lists unexpired drafts whose save claim has lapsed without the save
// finishing (the saving request died, or the database or Dataverse failed under it), oldest
// first, without their secrets. The recoverer finishes or releases each.
func (s *Store) StaleDraftSaves(ctx context.Context, limit int) ([]Draft, error) {
	if limit <= 0 {
		limit = 100
	}
	now := micros(s.now())
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT `+draftColumns+` FROM drafts
		WHERE status = 'saving' AND claim_expires_at <= ? AND expires_at > ? ORDER BY updated_at, id LIMIT ?`), now, now, limit)
	if err != nil {
		return nil, fmt.Errorf("stale draft saves: %w", err)
	}
	defer rows.Close()
	var out []Draft
	for rows.Next() {
		d, _, _, err := scanDraft(rows)
		if err != nil {
			return nil, fmt.Errorf("stale draft saves: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// FindDraftForEndpoint returns the draft that registers the endpoint (any status, without its
// secrets); ErrNotFound when there is none (left to expire, or registered elsewhere).
func (s *Store) FindDraftForEndpoint(ctx context.Context, environment, endpointID string) (Draft, error) {
	d, _, _, err := scanDraft(s.r.QueryRowContext(ctx, s.d.q(`SELECT `+draftColumns+` FROM drafts
		WHERE environment = ? AND endpoint_id = ? ORDER BY updated_at DESC LIMIT 1`), environment, normalizeEndpointID(endpointID)))
	if err != nil {
		return Draft{}, fmt.Errorf("draft of endpoint %s: %w", endpointID, notFoundIfNoRows(err))
	}
	return d, nil
}

func notFoundIfNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
