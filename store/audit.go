package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AuditOutcome says how an audited action ended.
type AuditOutcome string

const (
	AuditSucceeded AuditOutcome = "succeeded"
	AuditFailed    AuditOutcome = "failed"
	AuditDenied    AuditOutcome = "denied" // refused by the authorization policy
	// AuditPending is an intent, recorded before a change is attempted in Dataverse. The
	// outcome follows as another entry with the same request id, action and endpoint; a
	// pending entry without one is resolved by the portal's recoverer.
	AuditPending AuditOutcome = "pending"
)

// AuditEntry is one line of the append-only audit trail. Before and After are JSON objects
// of the endpoint's non-secret fields; the store refuses entries whose JSON carries a field
// named like a secret or a value that looks like a connection string or SAS token.
type AuditEntry struct {
	ID           int64           `json:"id"`
	At           time.Time       `json:"at"`
	ActorKey     string          `json:"actorKey"`
	ActorName    string          `json:"actorName"`
	Action       string          `json:"action"` // e.g. "endpoint.create", "endpoint.rekey"
	Environment  string          `json:"environment,omitempty"`
	EndpointID   string          `json:"endpointId,omitempty"`
	EndpointName string          `json:"endpointName,omitempty"`
	Before       json.RawMessage `json:"before,omitempty"`
	After        json.RawMessage `json:"after,omitempty"`
	Outcome      AuditOutcome    `json:"outcome"`
	Detail       string          `json:"detail,omitempty"` // e.g. why it failed, in words
	RequestID    string          `json:"requestId,omitempty"`
	// ClientAddress is the address the request came from (behind trusted proxies, the client's
	// as they forwarded it). Empty means the one WithClientAddress put in the context.
	ClientAddress string `json:"clientAddress,omitempty"`
}

type clientAddressKey struct{}

// WithClientAddress returns a context whose audit entries record addr as their client
// address: the HTTP layer sets it once per request, so every entry written for the request
// (by any handler, in any transaction) says where it came from.
func WithClientAddress(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddressKey{}, addr)
}

// ClientAddressFrom returns the address WithClientAddress put in ctx ("" when none).
func ClientAddressFrom(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddressKey{}).(string)
	return addr
}

// AppendAudit adds an entry to the audit trail and returns it with its ID (and At, when it was
// zero). There is deliberately no way to change or remove entries, and the database refuses
// UPDATE and DELETE on the table as well.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	e, err := s.prepareAudit(e)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("append audit entry: %w", err)
	}
	if e.ID, err = s.insertAudit(ctx, s.w, e); err != nil {
		return AuditEntry{}, fmt.Errorf("append audit entry: %w", err)
	}
	return e, nil
}

func (s *Store) prepareAudit(e AuditEntry) (AuditEntry, error) {
	switch {
	case e.ActorKey == "" || e.Action == "":
		return e, fmt.Errorf("%w: audit entry needs who (actor key) and what (action)", ErrInvalid)
	case e.Outcome != AuditSucceeded && e.Outcome != AuditFailed && e.Outcome != AuditDenied && e.Outcome != AuditPending:
		return e, fmt.Errorf("%w: audit outcome must be %q, %q, %q or %q", ErrInvalid, AuditSucceeded, AuditFailed, AuditDenied, AuditPending)
	}
	for _, side := range []struct {
		name string
		doc  json.RawMessage
	}{{"before", e.Before}, {"after", e.After}} {
		if len(side.doc) == 0 {
			continue
		}
		if err := checkNoSecrets(side.doc); err != nil {
			return e, fmt.Errorf("%w: audit %s: %v", ErrInvalid, side.name, err)
		}
	}
	if looksSecret(e.Detail) || looksSecret(e.EndpointName) {
		return e, fmt.Errorf("%w: audit entry text looks like it contains a secret", ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = fromMicros(micros(e.At))
	e.EndpointID = normalizeEndpointID(e.EndpointID)
	return e, nil
}

// secretFieldNames are field names (lower case, without separators) that hold secrets in
// Dataverse's serviceendpoint or in connection strings.
var secretFieldNames = map[string]bool{
	"saskey": true, "sastoken": true, "authvalue": true, "sharedaccesskey": true,
	"sharedaccesssignature": true, "connectionstring": true, "secret": true, "clientsecret": true,
	"password": true, "accesstoken": true, "webhookkey": true, "key": true,
}

// checkNoSecrets refuses a before/after document that is not a JSON object or that carries a
// secret. The check is a safety net; callers are expected to pass non-secret fields only.
func checkNoSecrets(doc json.RawMessage) error {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return fmt.Errorf("not valid JSON")
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("must be a JSON object")
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				norm := strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(k))
				if secretFieldNames[norm] {
					return fmt.Errorf("field %q holds a secret; record only non-secret fields (e.g. %q: true)", k, "is"+norm+"set")
				}
				if err := walk(child); err != nil {
					return err
				}
			}
		case []any:
			for _, child := range t {
				if err := walk(child); err != nil {
					return err
				}
			}
		case string:
			if looksSecret(t) {
				return fmt.Errorf("a value looks like a connection string or SAS token")
			}
		}
		return nil
	}
	return walk(v)
}

func looksSecret(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "sharedaccesskey=") || strings.Contains(l, "sharedaccesssignature") ||
		strings.Contains(l, "sig=") && strings.Contains(l, "se=")
}

func (s *Store) insertAudit(ctx context.Context, db querier, e AuditEntry) (int64, error) {
	if e.ClientAddress == "" {
		e.ClientAddress = ClientAddressFrom(ctx)
	}
	var id int64
	err := db.QueryRowContext(ctx, s.d.q(`INSERT INTO audit_entries
		(at, actor_key, actor_name, action, environment, endpoint_id, endpoint_name, before_json, after_json, outcome, detail, request_id, client_address)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		micros(e.At), e.ActorKey, e.ActorName, e.Action, e.Environment, e.EndpointID, e.EndpointName,
		nullJSON(e.Before), nullJSON(e.After), string(e.Outcome), e.Detail, e.RequestID, e.ClientAddress).Scan(&id)
	return id, err
}

func nullJSON(doc json.RawMessage) sql.NullString {
	if len(doc) == 0 {
		return sql.NullString{}
	}
	return sql.NullString{String: string(doc), Valid: true}
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	ActorKey string
	// Actor matches a person by either their stable key or their name as shown (ignoring
	// case): what a person types into the audit log's filter.
	Actor       string
	Action      string
	Environment string
	EndpointID  string
	Since       time.Time // inclusive
	Until       time.Time // exclusive
	// BeforeID continues a listing: pass the previous page's NextBeforeID.
	BeforeID int64
	Limit    int // 0 means 50; at most 500
}

// AuditPage is one page of entries, newest first.
type AuditPage struct {
	Entries []AuditEntry
	// NextBeforeID is the BeforeID for the next (older) page; 0 when this is the last page.
	NextBeforeID int64
}

// ListAudit returns entries matching f, newest first, one page at a time.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if f.ActorKey != "" {
		add("actor_key = ?", f.ActorKey)
	}
	if f.Actor != "" {
		where = append(where, "(actor_key = ? OR lower(actor_name) = lower(?))")
		args = append(args, f.Actor, f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Environment != "" {
		add("environment = ?", f.Environment)
	}
	if f.EndpointID != "" {
		add("endpoint_id = ?", normalizeEndpointID(f.EndpointID))
	}
	if !f.Since.IsZero() {
		add("at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", micros(f.Until))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	query := `SELECT id, at, actor_key, actor_name, action, environment, endpoint_id, endpoint_name,
		before_json, after_json, outcome, detail, request_id, client_address FROM audit_entries`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return AuditPage{}, fmt.Errorf("list audit entries: %w", err)
	}
	defer rows.Close()
	var page AuditPage
	for rows.Next() {
		var (
			e             AuditEntry
			at            int64
			before, after sql.NullString
			outcome       string
		)
		if err := rows.Scan(&e.ID, &at, &e.ActorKey, &e.ActorName, &e.Action, &e.Environment, &e.EndpointID,
			&e.EndpointName, &before, &after, &outcome, &e.Detail, &e.RequestID, &e.ClientAddress); err != nil {
			return AuditPage{}, fmt.Errorf("list audit entries: %w", err)
		}
		e.At, e.Outcome = fromMicros(at), AuditOutcome(outcome)
		if before.Valid {
			e.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			e.After = json.RawMessage(after.String)
		}
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return AuditPage{}, fmt.Errorf("list audit entries: %w", err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.NextBeforeID = page.Entries[limit-1].ID
	}
	return page, nil
}
