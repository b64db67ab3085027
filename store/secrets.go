package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/contoso/sbportal/endpoint"
)

// SecretRef names one stored secret: the endpoint it belongs to and what it is for. All three
// parts are bound into the ciphertext, so a ciphertext copied to another row does not open.
type SecretRef struct {
	Environment string
	EndpointID  string
	Purpose     endpoint.SecretPurpose
}

func (ref SecretRef) normalized() (SecretRef, error) {
	ref.EndpointID = normalizeEndpointID(ref.EndpointID)
	if ref.Environment == "" || ref.EndpointID == "" {
		return ref, fmt.Errorf("%w: secret needs an environment and an endpoint id", ErrInvalid)
	}
	if err := checkPurpose(ref.Purpose); err != nil {
		return ref, err
	}
	return ref, nil
}

// checkPurpose accepts only the purposes the endpoint package knows: each names the write-only
// column the secret is written to, so any other would be stored and never read.
func checkPurpose(p endpoint.SecretPurpose) error {
	if !p.Valid() {
		return fmt.Errorf("%w: secret purpose %q is none of %v", ErrInvalid, truncatePurpose(p), endpoint.SecretPurposes)
	}
	return nil
}

// truncatePurpose keeps an invalid purpose short in an error message.
func truncatePurpose(p endpoint.SecretPurpose) string {
	const max = 64
	if len(p) > max {
		return string(p[:max]) + "…"
	}
	return string(p)
}

// normalizeEndpointID lower-cases endpoint ids: Dataverse GUIDs compare case-insensitively,
// and one spelling keeps lookups exact.
func normalizeEndpointID(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

func endpointSecretAD(ref SecretRef) []string {
	return []string{"endpoint", ref.Environment, ref.EndpointID, string(ref.Purpose)}
}

// PutSecret encrypts value with the newest key and stores it for ref, replacing any earlier
// value.
func (s *Store) PutSecret(ctx context.Context, ref SecretRef, value endpoint.Secret) error {
	ref, err := ref.normalized()
	if err != nil {
		return fmt.Errorf("put secret: %w", err)
	}
	return s.putSecret(ctx, s.w, ref, value)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) putSecret(ctx context.Context, db execer, ref SecretRef, value endpoint.Secret) error {
	if !value.IsSet() {
		return fmt.Errorf("put secret %s for endpoint %s: %w: value is empty", ref.Purpose, ref.EndpointID, ErrInvalid)
	}
	keyID, sealed, err := s.keys.seal([]byte(value.Reveal()), endpointSecretAD(ref)...)
	if err != nil {
		return fmt.Errorf("put secret %s for endpoint %s: %w", ref.Purpose, ref.EndpointID, err)
	}
	_, err = db.ExecContext(ctx, s.d.q(`INSERT INTO endpoint_secrets (environment, endpoint_id, purpose, key_id, ciphertext, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (environment, endpoint_id, purpose)
		DO UPDATE SET key_id = excluded.key_id, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`),
		ref.Environment, ref.EndpointID, string(ref.Purpose), keyID, sealed, micros(s.now()))
	if err != nil {
		return fmt.Errorf("put secret %s for endpoint %s: %w", ref.Purpose, ref.EndpointID, err)
	}
	return nil
}

// GetSecret decrypts the secret stored for ref. ErrNotFound when none is stored;
// ErrUndecryptable when the stored ciphertext was altered or belongs to another row.
func (s *Store) GetSecret(ctx context.Context, ref SecretRef) (endpoint.Secret, error) {
	ref, err := ref.normalized()
	if err != nil {
		return endpoint.Secret{}, fmt.Errorf("get secret: %w", err)
	}
	var (
		keyID  string
		sealed []byte
	)
	err = s.r.QueryRowContext(ctx, s.d.q(`SELECT key_id, ciphertext FROM endpoint_secrets
		WHERE environment = ? AND endpoint_id = ? AND purpose = ?`),
		ref.Environment, ref.EndpointID, string(ref.Purpose)).Scan(&keyID, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return endpoint.Secret{}, fmt.Errorf("get secret %s for endpoint %s: %w", ref.Purpose, ref.EndpointID, ErrNotFound)
	}
	if err != nil {
		return endpoint.Secret{}, fmt.Errorf("get secret %s for endpoint %s: %w", ref.Purpose, ref.EndpointID, err)
	}
	plain, err := s.keys.open(keyID, sealed, endpointSecretAD(ref)...)
	if err != nil {
		return endpoint.Secret{}, fmt.Errorf("get secret %s for endpoint %s: %w", ref.Purpose, ref.EndpointID, err)
	}
	return endpoint.NewSecret(string(plain)), nil
}

// StoredSecrets lists which secrets are stored for an endpoint (without decrypting any), so
// a page can say "SAS key stored" or offer a test-send button.
func (s *Store) StoredSecrets(ctx context.Context, environment, endpointID string) ([]endpoint.SecretPurpose, error) {
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT purpose FROM endpoint_secrets
		WHERE environment = ? AND endpoint_id = ? ORDER BY purpose`), environment, normalizeEndpointID(endpointID))
	if err != nil {
		return nil, fmt.Errorf("list secrets of endpoint %s: %w", endpointID, err)
	}
	defer rows.Close()
	var out []endpoint.SecretPurpose
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("list secrets of endpoint %s: %w", endpointID, err)
		}
		out = append(out, endpoint.SecretPurpose(p))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list secrets of endpoint %s: %w", endpointID, err)
	}
	return out, nil
}

// DeleteSecret removes one secret; removing a missing one is not an error.
func (s *Store) DeleteSecret(ctx context.Context, ref SecretRef) error {
	ref, err := ref.normalized()
	if err != nil {
		return fmt.Errorf("delete secret: %w", err)
	}
	_, err = s.w.ExecContext(ctx, s.d.q(`DELETE FROM endpoint_secrets WHERE environment = ? AND endpoint_id = ? AND purpose = ?`),
		ref.Environment, ref.EndpointID, string(ref.Purpose))
	if err != nil {
		return fmt.Errorf("delete secret %s for endpoint %s: %w", ref.Purpose, ref.EndpointID, err)
	}
	return nil
}

// DeleteEndpointSecrets removes every secret of an endpoint (after it is deleted) and returns
// how many there were.
func (s *Store) DeleteEndpointSecrets(ctx context.Context, environment, endpointID string) (int, error) {
	res, err := s.w.ExecContext(ctx, s.d.q(`DELETE FROM endpoint_secrets WHERE environment = ? AND endpoint_id = ?`),
		environment, normalizeEndpointID(endpointID))
	if err != nil {
		return 0, fmt.Errorf("delete secrets of endpoint %s: %w", endpointID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Rotation reports what RotateSecrets did.
type Rotation struct {
	KeyID           string // the newest key, which now seals everything
	EndpointSecrets int    // endpoint secrets re-encrypted
	DraftSecrets    int    // drafts whose secrets were re-encrypted
	AlreadyCurrent  int    // rows already sealed with the newest key
}

// RotateSecrets re-encrypts every stored secret (endpoint secrets and drafts' secrets) that is
// not sealed with the newest key. Each row is rewritten only if it has not changed meanwhile,
// so it is safe while the portal runs; rerun it until it reports nothing left. It stops at the
// first row it cannot open (for example, its key was removed from the configuration) and says
// which key id that row needs.
func (s *Store) RotateSecrets(ctx context.Context) (Rotation, error) {
	current, ok := s.keys.Current()
	if !ok {
		return Rotation{}, fmt.Errorf("rotate secrets: %w", ErrNoKey)
	}
	rot := Rotation{KeyID: current.ID()}

	type row struct {
		env, endpointID, purpose, keyID string
		sealed                          []byte
	}
	rows, err := s.r.QueryContext(ctx, `SELECT environment, endpoint_id, purpose, key_id, ciphertext FROM endpoint_secrets`)
	if err != nil {
		return rot, fmt.Errorf("rotate secrets: %w", err)
	}
	var stale []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.env, &r.endpointID, &r.purpose, &r.keyID, &r.sealed); err != nil {
			rows.Close()
			return rot, fmt.Errorf("rotate secrets: %w", err)
		}
		if r.keyID == current.ID() {
			rot.AlreadyCurrent++
			continue
		}
		stale = append(stale, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rot, fmt.Errorf("rotate secrets: %w", err)
	}
	for _, r := range stale {
		ref := SecretRef{Environment: r.env, EndpointID: r.endpointID, Purpose: endpoint.SecretPurpose(r.purpose)}
		plain, err := s.keys.open(r.keyID, r.sealed, endpointSecretAD(ref)...)
		if err != nil {
			return rot, fmt.Errorf("rotate secrets: secret %s of endpoint %s in %s: %w", r.purpose, r.endpointID, r.env, err)
		}
		keyID, sealed, err := s.keys.seal(plain, endpointSecretAD(ref)...)
		if err != nil {
			return rot, fmt.Errorf("rotate secrets: %w", err)
		}
		res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE endpoint_secrets SET key_id = ?, ciphertext = ?
			WHERE environment = ? AND endpoint_id = ? AND purpose = ? AND key_id = ? AND ciphertext = ?`),
			keyID, sealed, r.env, r.endpointID, r.purpose, r.keyID, r.sealed)
		if err != nil {
			return rot, fmt.Errorf("rotate secrets: secret %s of endpoint %s: %w", r.purpose, r.endpointID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			rot.EndpointSecrets++
		}
	}

	n, current2, err := s.rotateDraftSecrets(ctx, current)
	rot.DraftSecrets, rot.AlreadyCurrent = n, rot.AlreadyCurrent+current2
	if err != nil {
		return rot, fmt.Errorf("rotate secrets: %w", err)
	}
	return rot, nil
}
