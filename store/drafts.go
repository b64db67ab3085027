package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// DraftStatus is where a draft is in its life.
type DraftStatus string

const (
	// DraftOpen: being edited; UpdateDraft and ClaimDraftForSave accept it.
	DraftOpen DraftStatus = "open"
	// DraftSaving: one request holds the save claim and is creating the endpoint.
	DraftSaving DraftStatus = "saving"
	// DraftSaved: the endpoint exists; EndpointID names it. Kept until it expires so a
	// second click, a refresh or the losing replica can find where it went.
	DraftSaved DraftStatus = "saved"
)

// Draft is a registration wizard's server-side state. It belongs to its owner alone: every
// lookup is by id and owner. Data is the handlers' JSON document, opaque to the store.
type Draft struct {
	ID          string `json:"id"`
	Owner       string `json:"owner"` // the author's user key
	Environment string `json:"environment"`
	// EndpointID is the id the endpoint will get in Dataverse, chosen when the draft is made
	// so that retrying a save can never create a second endpoint.
	EndpointID string          `json:"endpointId"`
	Status     DraftStatus     `json:"status"`
	Version    int64           `json:"version"` // bumped by every update; pass it back to UpdateDraft
	Data       json.RawMessage `json:"data"`
	// Secrets are the wizard's secret values by purpose (e.g. endpoint.PurposeSASKey), stored
	// encrypted with the draft and moved to the endpoint when the save finishes. Unset values
	// are not stored.
	Secrets   map[endpoint.SecretPurpose]endpoint.Secret `json:"-"`
	CreatedAt time.Time                                  `json:"createdAt"`
	UpdatedAt time.Time                                  `json:"updatedAt"`
	ExpiresAt time.Time                                  `json:"expiresAt"`
}

func draftSecretAD(id string) []string { return []string{"draft", id} }

// sealDraftSecrets encrypts a draft's secrets as one JSON object bound to the draft's id.
func (s *Store) sealDraftSecrets(id string, secrets map[endpoint.SecretPurpose]endpoint.Secret) (keyID string, sealed []byte, err error) {
	plain := make(map[string]string, len(secrets))
	for purpose, v := range secrets {
		if err := checkPurpose(purpose); err != nil {
			return "", nil, err
		}
		if v.IsSet() {
			plain[string(purpose)] = v.Reveal()
		}
	}
	if len(plain) == 0 {
		return "", nil, nil
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return "", nil, fmt.Errorf("encode draft secrets: %w", err)
	}
	return s.keys.seal(b, draftSecretAD(id)...)
}

func (s *Store) openDraftSecrets(id, keyID string, sealed []byte) (map[endpoint.SecretPurpose]endpoint.Secret, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	b, err := s.keys.open(keyID, sealed, draftSecretAD(id)...)
	if err != nil {
		return nil, err
	}
	var plain map[string]string
	if err := json.Unmarshal(b, &plain); err != nil {
		return nil, fmt.Errorf("decode draft secrets: %w", ErrUndecryptable)
	}
	out := make(map[endpoint.SecretPurpose]endpoint.Secret, len(plain))
	for k, v := range plain {
		out[endpoint.SecretPurpose(k)] = endpoint.NewSecret(v)
	}
	return out, nil
}

func draftData(d json.RawMessage) ([]byte, error) {
	if len(d) == 0 {
		return []byte("{}"), nil
	}
	if !json.Valid(d) {
		return nil, fmt.Errorf("%w: draft data is not valid JSON", ErrInvalid)
	}
	return d, nil
}

// CreateDraft stores a new open draft for d.Owner in d.Environment. The store fills ID,
// EndpointID (when empty), Status, Version (1) and the times.
func (s *Store) CreateDraft(ctx context.Context, d Draft) (Draft, error) {
	if d.Owner == "" || d.Environment == "" {
		return Draft{}, fmt.Errorf("create draft: %w: owner and environment are required", ErrInvalid)
	}
	data, err := draftData(d.Data)
	if err != nil {
		return Draft{}, fmt.Errorf("create draft: %w", err)
	}
	if d.ID, err = newUUID(); err != nil {
		return Draft{}, fmt.Errorf("create draft: %w", err)
	}
	if d.EndpointID = normalizeEndpointID(d.EndpointID); d.EndpointID == "" {
		if d.EndpointID, err = newUUID(); err != nil {
			return Draft{}, fmt.Errorf("create draft: %w", err)
		}
	}
	keyID, sealed, err := s.sealDraftSecrets(d.ID, d.Secrets)
	if err != nil {
		return Draft{}, fmt.Errorf("create draft: %w", err)
	}
	now := s.now()
	d.Status, d.Version, d.Data = DraftOpen, 1, data
	d.CreatedAt, d.UpdatedAt, d.ExpiresAt = now, now, now.Add(s.opts.draftLifetime)
	_, err = s.w.ExecContext(ctx, s.d.q(`INSERT INTO drafts
		(id, owner_key, environment, endpoint_id, status, version, data, secrets_key_id, secrets, created_at, updated_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		d.ID, d.Owner, d.Environment, d.EndpointID, string(d.Status), d.Version, data, keyID, sealed,
		micros(now), micros(now), micros(d.ExpiresAt))
	if err != nil {
		return Draft{}, fmt.Errorf("create draft: %w", err)
	}
	return d, nil
}

const draftColumns = `id, owner_key, environment, endpoint_id, status, version, data, secrets_key_id, secrets, created_at, updated_at, expires_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanDraft(row rowScanner) (d Draft, keyID string, sealed []byte, err error) {
	var (
		status                    string
		data                      []byte
		created, updated, expires int64
	)
	err = row.Scan(&d.ID, &d.Owner, &d.Environment, &d.EndpointID, &status, &d.Version, &data, &keyID, &sealed,
		&created, &updated, &expires)
	d.Status, d.Data = DraftStatus(status), json.RawMessage(data)
	d.CreatedAt, d.UpdatedAt, d.ExpiresAt = fromMicros(created), fromMicros(updated), fromMicros(expires)
	return d, keyID, sealed, err
}

// GetDraft returns the owner's unexpired draft with its secrets decrypted, in any status.
// Another user's draft is ErrNotFound, exactly like a missing one.
func (s *Store) GetDraft(ctx context.Context, id, owner string) (Draft, error) {
	d, err := s.getDraft(ctx, s.r, id, owner)
	if err != nil {
		return Draft{}, fmt.Errorf("get draft %s: %w", id, err)
	}
	return d, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) getDraft(ctx context.Context, db querier, id, owner string) (Draft, error) {
	d, keyID, sealed, err := scanDraft(db.QueryRowContext(ctx, s.d.q(`SELECT `+draftColumns+` FROM drafts
		WHERE id = ? AND owner_key = ? AND expires_at > ?`), id, owner, micros(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return Draft{}, ErrNotFound
	}
	if err != nil {
		return Draft{}, err
	}
	if d.Secrets, err = s.openDraftSecrets(d.ID, keyID, sealed); err != nil {
		return Draft{}, err
	}
	return d, nil
}

// ListDrafts returns the owner's unexpired open drafts, most recently changed first, without
// their secrets.
func (s *Store) ListDrafts(ctx context.Context, owner string) ([]Draft, error) {
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT `+draftColumns+` FROM drafts
		WHERE owner_key = ? AND status = 'open' AND expires_at > ? ORDER BY updated_at DESC, id`), owner, micros(s.now()))
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	defer rows.Close()
	var out []Draft
	for rows.Next() {
		d, _, _, err := scanDraft(rows)
		if err != nil {
			return nil, fmt.Errorf("list drafts: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	return out, nil
}

// UpdateDraft writes d's Environment, Data and Secrets (all three replace what is stored: pass
// back the Secrets GetDraft returned to keep them; nil removes them) if the stored draft still has
// d.Version (optimistic concurrency) and is open. It returns the draft with its new version
// and extended expiry. ErrConflict when someone changed it meanwhile (reload and retry);
// ErrDraftSaving or ErrDraftSaved when a save has begun or finished; ErrNotFound when it is
// gone.
func (s *Store) UpdateDraft(ctx context.Context, d Draft) (Draft, error) {
	data, err := draftData(d.Data)
	if err != nil {
		return Draft{}, fmt.Errorf("update draft %s: %w", d.ID, err)
	}
	if d.Environment == "" {
		return Draft{}, fmt.Errorf("update draft %s: %w: environment is required", d.ID, ErrInvalid)
	}
	keyID, sealed, err := s.sealDraftSecrets(d.ID, d.Secrets)
	if err != nil {
		return Draft{}, fmt.Errorf("update draft %s: %w", d.ID, err)
	}
	now := s.now()
	res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE drafts SET environment = ?, data = ?, secrets_key_id = ?, secrets = ?,
		version = version + 1, updated_at = ?, expires_at = ?
		WHERE id = ? AND owner_key = ? AND version = ? AND status = 'open' AND expires_at > ?`),
		d.Environment, data, keyID, sealed, micros(now), micros(now.Add(s.opts.draftLifetime)),
		d.ID, d.Owner, d.Version, micros(now))
	if err != nil {
		return Draft{}, fmt.Errorf("update draft %s: %w", d.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Draft{}, fmt.Errorf("update draft %s: %w", d.ID, s.whyNotDraft(ctx, d.ID, d.Owner, d.Version))
	}
	d.Version++
	d.Data, d.UpdatedAt, d.ExpiresAt = data, now, now.Add(s.opts.draftLifetime)
	d.Status = DraftOpen
	return d, nil
}

// whyNotDraft explains why a conditional write on a draft matched no row.
func (s *Store) whyNotDraft(ctx context.Context, id, owner string, version int64) error {
	var (
		status       string
		v, claimTill int64
	)
	now := micros(s.now())
	err := s.w.QueryRowContext(ctx, s.d.q(`SELECT status, version, claim_expires_at FROM drafts
		WHERE id = ? AND owner_key = ? AND expires_at > ?`), id, owner, now).Scan(&status, &v, &claimTill)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return err
	case DraftStatus(status) == DraftSaved:
		return ErrDraftSaved
	case DraftStatus(status) == DraftSaving && claimTill > now:
		return ErrDraftSaving
	case v != version:
		return ErrConflict
	case DraftStatus(status) == DraftSaving:
		return ErrDraftSaving
	}
	return ErrConflict
}

// DeleteDraft removes the owner's draft (the user abandoned the wizard). A draft whose save
// is in progress is not removed (ErrDraftSaving). Removing a missing draft is ErrNotFound.
func (s *Store) DeleteDraft(ctx context.Context, id, owner string) error {
	now := micros(s.now())
	res, err := s.w.ExecContext(ctx, s.d.q(`DELETE FROM drafts WHERE id = ? AND owner_key = ?
		AND NOT (status = 'saving' AND claim_expires_at > ?)`), id, owner, now)
	if err != nil {
		return fmt.Errorf("delete draft %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var status string
		err := s.w.QueryRowContext(ctx, s.d.q(`SELECT status FROM drafts WHERE id = ? AND owner_key = ?`), id, owner).Scan(&status)
		if err == nil {
			return fmt.Errorf("delete draft %s: %w", id, ErrDraftSaving)
		}
		return fmt.Errorf("delete draft %s: %w", id, ErrNotFound)
	}
	return nil
}

// DraftClaim is the right to save one draft, held by exactly one request at a time.
type DraftClaim struct {
	Draft     Draft // the draft as claimed, secrets decrypted
	Token     string
	ExpiresAt time.Time
}

// ClaimDraftForSave takes the owner's open draft at version for saving, so that of several
// concurrent saves (double clicks, two replicas) exactly one proceeds. It is one conditional
// UPDATE, atomic in both backends. How a handler saves a draft:
//
//	claim, err := st.ClaimDraftForSave(ctx, draftID, user, version)
//	// ErrDraftSaved: already done; GetDraft and redirect to its EndpointID.
//	// ErrDraftSaving: someone else is saving; show "being saved" and let the page refresh.
//	// ErrConflict: the draft changed since it was validated; show it again.
//	create the endpoint in Dataverse with id claim.Draft.EndpointID
//	// (a "duplicate id" answer means an earlier attempt already created it: carry on)
//	on failure:  st.ReleaseDraftClaim(ctx, claim)   // the draft is editable again
//	on success:  st.FinishDraftSave(ctx, claim, DraftSave{...})  // ownership, secrets, audit
//
// A claim lapses after the claim timeout (a replica died mid-save); a later claim may then
// take the draft over, and because the endpoint id is fixed it cannot create a second one.
func (s *Store) ClaimDraftForSave(ctx context.Context, id, owner string, version int64) (DraftClaim, error) {
	token, err := randomToken(16)
	if err != nil {
		return DraftClaim{}, fmt.Errorf("claim draft %s: %w", id, err)
	}
	now := s.now()
	till := now.Add(s.opts.draftClaimTimeout)
	res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE drafts SET status = 'saving', claim_token = ?, claim_expires_at = ?
		WHERE id = ? AND owner_key = ? AND version = ? AND expires_at > ?
		AND (status = 'open' OR (status = 'saving' AND claim_expires_at <= ?))`),
		token, micros(till), id, owner, version, micros(now), micros(now))
	if err != nil {
		return DraftClaim{}, fmt.Errorf("claim draft %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return DraftClaim{}, fmt.Errorf("claim draft %s: %w", id, s.whyNotDraft(ctx, id, owner, version))
	}
	d, err := s.getDraft(ctx, s.w, id, owner)
	if err != nil {
		return DraftClaim{}, fmt.Errorf("claim draft %s: %w", id, err)
	}
	return DraftClaim{Draft: d, Token: token, ExpiresAt: till}, nil
}

// ReleaseDraftClaim gives up a claim after a failed save: the draft is open again, at the
// same version. ErrClaimLost when the claim had lapsed and another request took the draft.
func (s *Store) ReleaseDraftClaim(ctx context.Context, claim DraftClaim) error {
	res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE drafts SET status = 'open', claim_token = '', claim_expires_at = 0
		WHERE id = ? AND claim_token = ? AND status = 'saving'`), claim.Draft.ID, claim.Token)
	if err != nil {
		return fmt.Errorf("release draft %s: %w", claim.Draft.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("release draft %s: %w", claim.Draft.ID, ErrClaimLost)
	}
	return nil
}

// DraftSave is what FinishDraftSave records once the endpoint exists in Dataverse.
type DraftSave struct {
	Team             string // the team that owns the new endpoint
	RegisteredByName string // the author's display name
	// Audit is the "created" entry. Environment and EndpointID are taken from the draft when
	// empty (and must match it when set).
	Audit AuditEntry
}

// FinishDraftSave completes a save in one transaction: marks the draft saved, records
// ownership, moves the draft's secrets to the endpoint, attaches the draft's validation runs
// to the endpoint, and appends the audit entry. ErrClaimLost when this claim no longer holds
// the draft (nothing is written then).
func (s *Store) FinishDraftSave(ctx context.Context, claim DraftClaim, save DraftSave) (Ownership, error) {
	d := claim.Draft
	if save.Team == "" {
		return Ownership{}, fmt.Errorf("finish saving draft %s: %w: team is required", d.ID, ErrInvalid)
	}
	a := save.Audit
	if a.Environment == "" {
		a.Environment = d.Environment
	}
	if a.EndpointID == "" {
		a.EndpointID = d.EndpointID
	}
	if a.Environment != d.Environment || normalizeEndpointID(a.EndpointID) != d.EndpointID {
		return Ownership{}, fmt.Errorf("finish saving draft %s: %w: audit entry names another endpoint", d.ID, ErrInvalid)
	}
	a, err := s.prepareAudit(a)
	if err != nil {
		return Ownership{}, fmt.Errorf("finish saving draft %s: %w", d.ID, err)
	}
	now := s.now()
	own := Ownership{Environment: d.Environment, EndpointID: d.EndpointID, Team: save.Team,
		RegisteredBy: d.Owner, RegisteredByName: save.RegisteredByName, RegisteredAt: now}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE drafts SET status = 'saved', claim_token = '', claim_expires_at = 0, updated_at = ?
			WHERE id = ? AND claim_token = ? AND status = 'saving'`), micros(now), d.ID, claim.Token)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrClaimLost
		}
		if err := s.putOwnership(ctx, tx, own); err != nil {
			return err
		}
		// Secrets come from the row, not from the claim, so what is stored is what was sealed.
		var (
			keyID  string
			sealed []byte
		)
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT secrets_key_id, secrets FROM drafts WHERE id = ?`), d.ID).Scan(&keyID, &sealed); err != nil {
			return err
		}
		secrets, err := s.openDraftSecrets(d.ID, keyID, sealed)
		if err != nil {
			return err
		}
		for purpose, v := range secrets {
			if !v.IsSet() || !purpose.Valid() {
				// Drafts sealed before purposes were checked may hold these; no column takes them.
				continue
			}
			ref := SecretRef{Environment: d.Environment, EndpointID: d.EndpointID, Purpose: purpose}
			if err := s.putSecret(ctx, tx, ref, v); err != nil {
				return err
			}
		}
		// The draft no longer needs its copy.
		if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE drafts SET secrets_key_id = '', secrets = NULL WHERE id = ?`), d.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE validation_runs SET endpoint_id = ?
			WHERE draft_id = ? AND endpoint_id = '' AND environment = ?`), d.EndpointID, d.ID, d.Environment); err != nil {
			return err
		}
		_, err = s.insertAudit(ctx, tx, a)
		return err
	})
	if err != nil {
		return Ownership{}, fmt.Errorf("finish saving draft %s: %w", d.ID, err)
	}
	return own, nil
}

// rotateDraftSecrets re-seals drafts' secrets with the newest key.
func (s *Store) rotateDraftSecrets(ctx context.Context, current Key) (rotated, alreadyCurrent int, err error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, secrets_key_id, secrets FROM drafts WHERE secrets IS NOT NULL`)
	if err != nil {
		return 0, 0, err
	}
	type row struct {
		id, keyID string
		sealed    []byte
	}
	var stale []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.keyID, &r.sealed); err != nil {
			rows.Close()
			return 0, 0, err
		}
		if r.keyID == current.ID() {
			alreadyCurrent++
			continue
		}
		stale = append(stale, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for _, r := range stale {
		plain, err := s.keys.open(r.keyID, r.sealed, draftSecretAD(r.id)...)
		if err != nil {
			return rotated, alreadyCurrent, fmt.Errorf("secrets of draft %s: %w", r.id, err)
		}
		keyID, sealed, err := s.keys.seal(plain, draftSecretAD(r.id)...)
		if err != nil {
			return rotated, alreadyCurrent, err
		}
		res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE drafts SET secrets_key_id = ?, secrets = ?
			WHERE id = ? AND secrets_key_id = ? AND secrets = ?`), keyID, sealed, r.id, r.keyID, r.sealed)
		if err != nil {
			return rotated, alreadyCurrent, fmt.Errorf("secrets of draft %s: %w", r.id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			rotated++
		}
	}
	return rotated, alreadyCurrent, nil
}
