package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Swept reports what Sweep removed.
type Swept struct {
	Sessions       int
	Drafts         int
	ValidationRuns int // runs of drafts that expired unsaved
	Changes        int // change log entries older than ChangeRetention
}

// Sweep deletes sessions and drafts that expired at or before now, and the validation runs of
// drafts that expired unsaved. Lookups already ignore expired records; sweeping only reclaims
// space (and removes expired drafts' encrypted secrets). Several replicas may sweep at once.
func (s *Store) Sweep(ctx context.Context, now time.Time) (Swept, error) {
	var out Swept
	at := micros(now)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM sessions WHERE idle_expires_at <= ? OR expires_at <= ?`), at, at)
		if err != nil {
			return fmt.Errorf("sessions: %w", err)
		}
		n, _ := res.RowsAffected()
		out.Sessions = int(n)
		// A draft being saved is kept until its claim lapses, so a save in flight never loses
		// its row.
		res, err = tx.ExecContext(ctx, s.d.q(`DELETE FROM drafts WHERE expires_at <= ?
			AND NOT (status = 'saving' AND claim_expires_at > ?)`), at, at)
		if err != nil {
			return fmt.Errorf("drafts: %w", err)
		}
		n, _ = res.RowsAffected()
		out.Drafts = int(n)
		res, err = tx.ExecContext(ctx, `DELETE FROM validation_runs WHERE endpoint_id = '' AND draft_id <> ''
			AND NOT EXISTS (SELECT 1 FROM drafts WHERE drafts.id = validation_runs.draft_id)`)
		if err != nil {
			return fmt.Errorf("validation runs of expired drafts: %w", err)
		}
		n, _ = res.RowsAffected()
		out.ValidationRuns = int(n)
		res, err = tx.ExecContext(ctx, s.d.q(`DELETE FROM catalog_changes WHERE at <= ?`), micros(now.Add(-ChangeRetention)))
		if err != nil {
			return fmt.Errorf("change log: %w", err)
		}
		n, _ = res.RowsAffected()
		out.Changes = int(n)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("sweep expired records: %w", err)
	}
	return out, nil
}

// RunSweeper calls Sweep every interval until ctx ends, logging what it removed and any
// failure (a failed sweep is retried at the next tick; it never stops the portal).
func (s *Store) RunSweeper(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		swept, err := s.Sweep(ctx, s.now())
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			s.opts.logger.WarnContext(ctx, "store sweep failed; will retry", "err", err)
		case swept != Swept{}:
			s.opts.logger.InfoContext(ctx, "store sweep removed expired records",
				"sessions", swept.Sessions, "drafts", swept.Drafts, "validation_runs", swept.ValidationRuns, "changes", swept.Changes)
		}
	}
}
