package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ValidationResult is a validation run's verdict.
type ValidationResult string

const (
	ValidationPassed ValidationResult = "passed"
	ValidationFailed ValidationResult = "failed"
)

// ValidationRun is one test of an endpoint's settings (a test send, or a check without
// delivery), of a saved endpoint or of a draft. Cause and Summary are the probe's words and
// must not contain secrets.
type ValidationRun struct {
	ID           int64            `json:"id"`
	Environment  string           `json:"environment"`
	EndpointID   string           `json:"endpointId,omitempty"` // saved endpoint; set for a draft's runs once it is saved
	DraftID      string           `json:"draftId,omitempty"`
	DraftVersion int64            `json:"draftVersion,omitempty"` // which draft version was tested
	RunBy        string           `json:"runBy"`                  // user key
	RunByName    string           `json:"runByName"`
	StartedAt    time.Time        `json:"startedAt"`
	Duration     time.Duration    `json:"duration"`
	Result       ValidationResult `json:"result"`
	Cause        string           `json:"cause,omitempty"` // machine-readable cause of a failure, e.g. "unauthorized"
	Summary      string           `json:"summary"`
	Warnings     []string         `json:"warnings,omitempty"`
}

// RecordValidationRun stores a run and returns it with its ID.
func (s *Store) RecordValidationRun(ctx context.Context, r ValidationRun) (ValidationRun, error) {
	r.EndpointID = normalizeEndpointID(r.EndpointID)
	switch {
	case r.Environment == "" || r.RunBy == "":
		return ValidationRun{}, fmt.Errorf("record validation run: %w: environment and who ran it are required", ErrInvalid)
	case r.EndpointID == "" && r.DraftID == "":
		return ValidationRun{}, fmt.Errorf("record validation run: %w: it must name an endpoint or a draft", ErrInvalid)
	case r.Result != ValidationPassed && r.Result != ValidationFailed:
		return ValidationRun{}, fmt.Errorf("record validation run: %w: result must be %q or %q", ErrInvalid, ValidationPassed, ValidationFailed)
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = s.now()
	}
	r.StartedAt = fromMicros(micros(r.StartedAt))
	r.Duration = r.Duration.Truncate(time.Microsecond)
	warnings, err := json.Marshal(nonNil(r.Warnings))
	if err != nil {
		return ValidationRun{}, fmt.Errorf("record validation run: %w", err)
	}
	err = s.w.QueryRowContext(ctx, s.d.q(`INSERT INTO validation_runs
		(environment, endpoint_id, draft_id, draft_version, run_by_key, run_by_name, started_at, duration_us, result, cause, summary, warnings)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		r.Environment, r.EndpointID, r.DraftID, r.DraftVersion, r.RunBy, r.RunByName, micros(r.StartedAt),
		r.Duration.Microseconds(), string(r.Result), r.Cause, r.Summary, string(warnings)).Scan(&r.ID)
	if err != nil {
		return ValidationRun{}, fmt.Errorf("record validation run: %w", err)
	}
	return r, nil
}

const validationColumns = `id, environment, endpoint_id, draft_id, draft_version, run_by_key, run_by_name, started_at, duration_us, result, cause, summary, warnings`

func scanValidationRun(row rowScanner) (ValidationRun, error) {
	var (
		r                  ValidationRun
		started, durMicros int64
		result, warnings   string
	)
	err := row.Scan(&r.ID, &r.Environment, &r.EndpointID, &r.DraftID, &r.DraftVersion, &r.RunBy, &r.RunByName,
		&started, &durMicros, &result, &r.Cause, &r.Summary, &warnings)
	if err != nil {
		return r, err
	}
	r.StartedAt, r.Duration, r.Result = fromMicros(started), time.Duration(durMicros)*time.Microsecond, ValidationResult(result)
	if warnings != "[]" { // most runs have none: skip the decoder
		if err := json.Unmarshal([]byte(warnings), &r.Warnings); err != nil {
			return r, fmt.Errorf("decode warnings of validation run %d: %w", r.ID, err)
		}
		if len(r.Warnings) == 0 {
			r.Warnings = nil
		}
	}
	return r, nil
}

func collectValidationRuns(rows *sql.Rows, err error) ([]ValidationRun, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ValidationRun
	for rows.Next() {
		r, err := scanValidationRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LatestValidationRuns returns the most recent run of each of many endpoints of one
// environment (the list page), keyed by lower-case endpoint id. Endpoints never validated
// are absent.
func (s *Store) LatestValidationRuns(ctx context.Context, environment string, endpointIDs []string) (map[string]ValidationRun, error) {
	ids, err := s.d.listArg(normalizeIDs(endpointIDs))
	if err != nil {
		return nil, err
	}
	// The latest run per endpoint is the one with the highest id: for each requested id the
	// (environment, endpoint_id, id) index answers MAX(id) with one probe, and the primary key
	// fetches that row. (A GROUP BY over all the environment's runs was 10 times slower on
	// PostgreSQL once the cached statement switched to a generic plan.)
	runs, err := collectValidationRuns(s.r.QueryContext(ctx, s.d.q(`SELECT `+validationColumns+` FROM validation_runs
		WHERE id IN (SELECT (SELECT MAX(w.id) FROM validation_runs w WHERE w.environment = ? AND w.endpoint_id = ids.id)
			FROM `+s.d.listTable("ids")+`)`), environment, ids))
	if err != nil {
		return nil, fmt.Errorf("latest validation of %d endpoints: %w", len(endpointIDs), err)
	}
	out := make(map[string]ValidationRun, len(runs))
	for _, r := range runs {
		out[r.EndpointID] = r
	}
	return out, nil
}

// ValidationHistory returns an endpoint's runs, newest first, at most limit (0 means 50).
func (s *Store) ValidationHistory(ctx context.Context, environment, endpointID string, limit int) ([]ValidationRun, error) {
	if limit <= 0 {
		limit = 50
	}
	runs, err := collectValidationRuns(s.r.QueryContext(ctx, s.d.q(`SELECT `+validationColumns+` FROM validation_runs
		WHERE environment = ? AND endpoint_id = ? ORDER BY id DESC LIMIT ?`), environment, normalizeEndpointID(endpointID), limit))
	if err != nil {
		return nil, fmt.Errorf("validation history of endpoint %s: %w", endpointID, err)
	}
	return runs, nil
}

// LatestDraftValidation returns the most recent run of a draft; ErrNotFound when it was never
// validated. The save step compares its DraftVersion and Result with the draft's version to
// save only what passed.
func (s *Store) LatestDraftValidation(ctx context.Context, draftID string) (ValidationRun, error) {
	r, err := scanValidationRun(s.r.QueryRowContext(ctx, s.d.q(`SELECT `+validationColumns+` FROM validation_runs
		WHERE draft_id = ? ORDER BY id DESC LIMIT 1`), draftID))
	if errors.Is(err, sql.ErrNoRows) {
		return ValidationRun{}, fmt.Errorf("latest validation of draft %s: %w", draftID, ErrNotFound)
	}
	if err != nil {
		return ValidationRun{}, fmt.Errorf("latest validation of draft %s: %w", draftID, err)
	}
	return r, nil
}
