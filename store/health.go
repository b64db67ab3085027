package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Health is what the portal found about a saved endpoint after it was saved: scheduled
// re-validation and its steps' failed deliveries. The zero value is an endpoint never looked at.
type Health struct {
	Environment string
	EndpointID  string
	// RevalidationClaimedAt is when the scheduler last claimed the endpoint for a round.
	RevalidationClaimedAt time.Time
	// FailingSince is set while the endpoint is failing; FailingReason says why, in words
	// (never a secret).
	FailingSince  time.Time
	FailingReason string
	Deliveries    DeliveryFailures
}

// Failing reports whether the endpoint is failing.
func (h Health) Failing() bool { return !h.FailingSince.IsZero() }

// DeliveryFailures counts the system jobs of an endpoint's steps that failed or wait for a
// retry, as last read from Dataverse.
type DeliveryFailures struct {
	CheckedAt             time.Time
	Failed24h, Waiting24h int
	Failed7d, Waiting7d   int
	// LastError is the newest job's error message and LastErrorAt when that job was created.
	LastError   string
	LastErrorAt time.Time
}

// Recent reports whether any delivery failed or waits for a retry in the last 24 hours.
func (d DeliveryFailures) Recent() bool { return d.Failed24h+d.Waiting24h > 0 }

// Any reports whether any delivery failed or waits for a retry in the last 7 days.
func (d DeliveryFailures) Any() bool { return d.Failed7d+d.Waiting7d > 0 }

// DeleteHealth forgets what the portal knows of a deleted endpoint's health (its notifications
// stay, as history).
func (s *Store) DeleteHealth(ctx context.Context, environment, endpointID string) error {
	_, err := s.w.ExecContext(ctx, s.d.q(`DELETE FROM endpoint_health WHERE environment = ? AND endpoint_id = ?`),
		environment, normalizeEndpointID(endpointID))
	if err != nil {
		return fmt.Errorf("delete health of endpoint %s: %w", endpointID, err)
	}
	return nil
}

// EndpointsWithSecrets lists every endpoint the portal keeps a secret for (the endpoints
// scheduled re-validation can prove), in a stable order.
func (s *Store) EndpointsWithSecrets(ctx context.Context) ([]EndpointRef, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT environment, endpoint_id FROM endpoint_secrets ORDER BY environment, endpoint_id`)
	if err != nil {
		return nil, fmt.Errorf("endpoints with secrets: %w", err)
	}
	defer rows.Close()
	var out []EndpointRef
	for rows.Next() {
		var r EndpointRef
		if err := rows.Scan(&r.Environment, &r.EndpointID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ensureHealth adds an endpoint's health row if it has none.
func (s *Store) ensureHealth(ctx context.Context, db execer, environment, endpointID string) error {
	_, err := db.ExecContext(ctx, s.d.q(`INSERT INTO endpoint_health (environment, endpoint_id) VALUES (?, ?)
		ON CONFLICT (environment, endpoint_id) DO NOTHING`), environment, endpointID)
	return err
}

// ClaimRevalidation claims an endpoint for this round of scheduled re-validation: it succeeds
// (true) only when the endpoint was last claimed before claimedBefore, and then records now as
// its claim. The claim is one conditional update, so however many replicas try, one wins.
func (s *Store) ClaimRevalidation(ctx context.Context, environment, endpointID string, now, claimedBefore time.Time) (bool, error) {
	id := normalizeEndpointID(endpointID)
	if err := s.ensureHealth(ctx, s.w, environment, id); err != nil {
		return false, fmt.Errorf("claim endpoint %s for re-validation: %w", id, err)
	}
	res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE endpoint_health SET revalidation_claimed_at = ?
		WHERE environment = ? AND endpoint_id = ? AND revalidation_claimed_at < ?`), micros(now), environment, id, micros(claimedBefore))
	if err != nil {
		return false, fmt.Errorf("claim endpoint %s for re-validation: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecordDeliveryFailures stores what was last read of an endpoint's failed deliveries.
func (s *Store) RecordDeliveryFailures(ctx context.Context, environment, endpointID string, d DeliveryFailures) error {
	id := normalizeEndpointID(endpointID)
	if looksSecret(d.LastError) {
		d.LastError = "(the error message held something that looks like a key; see the system job in Dataverse)"
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureHealth(ctx, tx, environment, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.d.q(`UPDATE endpoint_health SET deliveries_checked_at = ?, failed_24h = ?, waiting_24h = ?,
			failed_7d = ?, waiting_7d = ?, last_error = ?, last_error_at = ? WHERE environment = ? AND endpoint_id = ?`),
			micros(d.CheckedAt), d.Failed24h, d.Waiting24h, d.Failed7d, d.Waiting7d, d.LastError, micros(d.LastErrorAt), environment, id)
		return err
	})
}

const healthColumns = `environment, endpoint_id, revalidation_claimed_at, failing_since, failing_reason, deliveries_checked_at,
	failed_24h, waiting_24h, failed_7d, waiting_7d, last_error, last_error_at`

func scanHealth(row rowScanner) (Health, error) {
	var (
		h                                    Health
		claimed, since, checked, lastErrorAt int64
	)
	err := row.Scan(&h.Environment, &h.EndpointID, &claimed, &since, &h.FailingReason, &checked,
		&h.Deliveries.Failed24h, &h.Deliveries.Waiting24h, &h.Deliveries.Failed7d, &h.Deliveries.Waiting7d, &h.Deliveries.LastError, &lastErrorAt)
	h.RevalidationClaimedAt, h.FailingSince, h.Deliveries.CheckedAt, h.Deliveries.LastErrorAt =
		fromMicros(claimed), fromMicros(since), fromMicros(checked), fromMicros(lastErrorAt)
	return h, err
}

// GetHealth returns an endpoint's health; the zero Health (with the ids) when nothing was
// recorded.
func (s *Store) GetHealth(ctx context.Context, environment, endpointID string) (Health, error) {
	id := normalizeEndpointID(endpointID)
	h, err := scanHealth(s.r.QueryRowContext(ctx, s.d.q(`SELECT `+healthColumns+` FROM endpoint_health
		WHERE environment = ? AND endpoint_id = ?`), environment, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Health{Environment: environment, EndpointID: id}, nil
	}
	if err != nil {
		return Health{}, fmt.Errorf("health of endpoint %s: %w", id, err)
	}
	return h, nil
}

// HealthOf returns the health of many endpoints of one environment, keyed by lower-case id;
// endpoints with nothing recorded are absent.
func (s *Store) HealthOf(ctx context.Context, environment string, endpointIDs []string) (map[string]Health, error) {
	ids, err := s.d.listArg(normalizeIDs(endpointIDs))
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT `+healthColumns+` FROM endpoint_health
		WHERE environment = ? AND `+s.d.inList("endpoint_id")), environment, ids)
	if err != nil {
		return nil, fmt.Errorf("health of %d endpoints: %w", len(endpointIDs), err)
	}
	defer rows.Close()
	out := map[string]Health{}
	for rows.Next() {
		h, err := scanHealth(rows)
		if err != nil {
			return nil, err
		}
		out[h.EndpointID] = h
	}
	return out, rows.Err()
}

// SetFailing records that an endpoint started failing (failing true, at, with reason) or
// stopped, and queues notes (the notifications of the change) in the same transaction. It
// reports whether the state changed: when it did not, nothing is queued (a failing endpoint's
// reason is updated). The change is a conditional update, so one change is recorded once
// however many callers see it.
func (s *Store) SetFailing(ctx context.Context, environment, endpointID string, failing bool, reason string, at time.Time, notes []Notification) (bool, error) {
	id := normalizeEndpointID(endpointID)
	if looksSecret(reason) {
		return false, fmt.Errorf("set endpoint %s failing: %w: the reason looks like it holds a key", id, ErrInvalid)
	}
	for _, n := range notes {
		if looksSecret(n.Subject) || looksSecret(n.Body) {
			return false, fmt.Errorf("set endpoint %s failing: %w: a notification looks like it holds a key", id, ErrInvalid)
		}
	}
	changed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureHealth(ctx, tx, environment, id); err != nil {
			return err
		}
		var res sql.Result
		var err error
		if failing {
			res, err = tx.ExecContext(ctx, s.d.q(`UPDATE endpoint_health SET failing_since = ?, failing_reason = ?
				WHERE environment = ? AND endpoint_id = ? AND failing_since = 0`), micros(at), reason, environment, id)
		} else {
			res, err = tx.ExecContext(ctx, s.d.q(`UPDATE endpoint_health SET failing_since = 0, failing_reason = ''
				WHERE environment = ? AND endpoint_id = ? AND failing_since <> 0`), environment, id)
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if changed = n == 1; !changed {
			if failing {
				_, err = tx.ExecContext(ctx, s.d.q(`UPDATE endpoint_health SET failing_reason = ? WHERE environment = ? AND endpoint_id = ?`),
					reason, environment, id)
			}
			return err
		}
		for _, note := range notes {
			note.Environment, note.EndpointID = environment, id
			if note.CreatedAt.IsZero() {
				note.CreatedAt = at
			}
			if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO notifications (created_at, team, channel, environment, endpoint_id,
				endpoint_name, event, subject, body, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				micros(note.CreatedAt), note.Team, note.Channel, note.Environment, note.EndpointID, note.EndpointName, note.Event,
				note.Subject, note.Body, micros(note.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("set endpoint %s failing=%t: %w", id, failing, err)
	}
	return changed, nil
}

// Notification is a message to a team about a change of an endpoint's health, on one channel
// (a team with a webhook and an e-mail address gets two). Subject and Body never hold a secret;
// the channel's address is looked up when it is sent, never stored.
type Notification struct {
	ID           int64
	CreatedAt    time.Time
	Team         string
	Channel      string // e.g. "webhook", "email"
	Environment  string
	EndpointID   string
	EndpointName string
	Event        string // e.g. "failing", "recovered"
	Subject      string
	Body         string
	// Attempts counts the sends tried; NextAttemptAt is when the next is due; SentAt is set
	// once sent; LastError says why the last attempt failed.
	Attempts      int
	NextAttemptAt time.Time
	SentAt        time.Time
	LastError     string
}

const notificationColumns = `id, created_at, team, channel, environment, endpoint_id, endpoint_name, event, subject, body,
	attempts, next_attempt_at, sent_at, last_error`

func collectNotifications(rows *sql.Rows, err error) ([]Notification, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var (
			n                   Notification
			created, next, sent int64
		)
		if err := rows.Scan(&n.ID, &created, &n.Team, &n.Channel, &n.Environment, &n.EndpointID, &n.EndpointName, &n.Event,
			&n.Subject, &n.Body, &n.Attempts, &next, &sent, &n.LastError); err != nil {
			return nil, err
		}
		n.CreatedAt, n.NextAttemptAt, n.SentAt = fromMicros(created), fromMicros(next), fromMicros(sent)
		out = append(out, n)
	}
	return out, rows.Err()
}

// DueNotifications returns unsent notifications whose next attempt is due at now, oldest
// first, at most limit.
func (s *Store) DueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error) {
	out, err := collectNotifications(s.r.QueryContext(ctx, s.d.q(`SELECT `+notificationColumns+` FROM notifications
		WHERE sent_at = 0 AND next_attempt_at <= ? ORDER BY id LIMIT ?`), micros(now), limit))
	if err != nil {
		return nil, fmt.Errorf("due notifications: %w", err)
	}
	return out, nil
}

// ListNotifications returns the newest notifications, at most limit (0 means 100).
func (s *Store) ListNotifications(ctx context.Context, limit int) ([]Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	out, err := collectNotifications(s.r.QueryContext(ctx, s.d.q(`SELECT `+notificationColumns+` FROM notifications
		ORDER BY id DESC LIMIT ?`), limit))
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return out, nil
}

// NotificationSent records a successful send.
func (s *Store) NotificationSent(ctx context.Context, id int64, at time.Time) error {
	_, err := s.w.ExecContext(ctx, s.d.q(`UPDATE notifications SET sent_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?`), micros(at), id)
	if err != nil {
		return fmt.Errorf("record notification %d sent: %w", id, err)
	}
	return nil
}

// NotificationFailed records a failed send and when to try again; problem must not hold a
// secret (callers strip addresses).
func (s *Store) NotificationFailed(ctx context.Context, id int64, problem string, retryAt time.Time) error {
	if looksSecret(problem) {
		problem = "the send failed (details withheld: they looked like a key)"
	}
	_, err := s.w.ExecContext(ctx, s.d.q(`UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`),
		problem, micros(retryAt), id)
	if err != nil {
		return fmt.Errorf("record notification %d failed: %w", id, err)
	}
	return nil
}
