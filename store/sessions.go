package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Session is a signed-in person's server-side session. The cookie carries only ID; everything
// else stays here. The database keeps a SHA-256 of the ID, never the ID itself, so reading the
// sessions table does not yield usable cookies. It holds no tokens.
//
// Its fields match auth.Session one for one, in the same order, so an adapter converts with
// store.Session(s) and auth.Session(s); the compiler flags any drift between the two.
type Session struct {
	ID       string   `json:"id"`
	UserKey  string   `json:"userKey"` // stable person id, e.g. "<tid>/<oid>"
	Name     string   `json:"name"`
	Username string   `json:"username"` // display only, never for authorization
	Tenant   string   `json:"tenant"`
	Roles    []string `json:"roles"`
	Teams    []string `json:"teams"`
	// CreatedAt is the sign-in time, LastSeenAt the last noted use, ExpiresAt the absolute
	// end. Idle expiry comes earlier when the session goes unused for the idle timeout.
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
}

// NewSessionID returns a fresh random session id (256 bits, hex).
func NewSessionID() (string, error) { return randomToken(32) }

func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// minSessionIDLen refuses ids short enough to guess (32 characters of hex is 128 bits).
const minSessionIDLen = 32

// CreateSession stores a new session. An empty ID gets a fresh random id; CreatedAt,
// LastSeenAt and ExpiresAt are set from the store's clock and lifetimes. It returns the
// stored session.
func (s *Store) CreateSession(ctx context.Context, sess Session) (Session, error) {
	if sess.ID == "" {
		id, err := NewSessionID()
		if err != nil {
			return Session{}, fmt.Errorf("create session: %w", err)
		}
		sess.ID = id
	}
	now := s.now()
	sess.CreatedAt, sess.LastSeenAt = now, now
	sess.ExpiresAt = now.Add(s.opts.sessionLifetime)
	if err := s.SaveSession(ctx, sess); err != nil {
		return Session{}, err
	}
	return sess, nil
}

// SaveSession creates the session or replaces the one with the same ID, keeping the times it
// is given (the shape of auth.SessionStore's SaveSession). Zero CreatedAt and LastSeenAt mean
// now, a zero ExpiresAt means CreatedAt plus the session lifetime. Idle expiry is LastSeenAt
// plus the store's idle timeout (WithSessionLifetimes), capped at ExpiresAt: configure it with
// the same idle timeout the sign-in code applies.
func (s *Store) SaveSession(ctx context.Context, sess Session) error {
	defer s.sessions.drop(sessionKey(sess.ID))
	switch {
	case sess.UserKey == "":
		return fmt.Errorf("save session: %w: user key is empty", ErrInvalid)
	case len(sess.ID) < minSessionIDLen:
		return fmt.Errorf("save session: %w: session id is too short to be unguessable (use NewSessionID)", ErrInvalid)
	}
	now := s.now()
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now
	}
	if sess.LastSeenAt.IsZero() {
		sess.LastSeenAt = now
	}
	if sess.ExpiresAt.IsZero() {
		sess.ExpiresAt = sess.CreatedAt.Add(s.opts.sessionLifetime)
	}
	roles, err1 := json.Marshal(nonNil(sess.Roles))
	teams, err2 := json.Marshal(nonNil(sess.Teams))
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("save session: encode: %w", err)
	}
	_, err := s.w.ExecContext(ctx, s.d.q(`INSERT INTO sessions
		(id_hash, user_key, display_name, username, tenant_id, roles, teams, created_at, last_seen_at, idle_expires_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id_hash) DO UPDATE SET user_key = excluded.user_key, display_name = excluded.display_name,
		username = excluded.username, tenant_id = excluded.tenant_id, roles = excluded.roles, teams = excluded.teams,
		created_at = excluded.created_at, last_seen_at = excluded.last_seen_at,
		idle_expires_at = excluded.idle_expires_at, expires_at = excluded.expires_at`),
		sessionKey(sess.ID), sess.UserKey, sess.Name, sess.Username, sess.Tenant, string(roles), string(teams),
		micros(sess.CreatedAt), micros(sess.LastSeenAt), micros(s.idleExpiry(sess.LastSeenAt, sess.ExpiresAt)), micros(sess.ExpiresAt))
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

func (s *Store) idleExpiry(lastSeen, absolute time.Time) time.Time {
	idle := lastSeen.Add(s.opts.sessionIdle)
	if idle.After(absolute) {
		return absolute
	}
	return idle
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// GetSession returns the live session with this id, or ErrNotFound when there is none or it
// has expired (idle or absolute). It does not extend the session: call TouchSession.
func (s *Store) GetSession(ctx context.Context, id string) (Session, error) {
	if id == "" {
		return Session{}, fmt.Errorf("get session: %w", ErrNotFound)
	}
	hash := sessionKey(id)
	at := s.now()
	if sess, ok := s.sessions.get(hash, at); ok {
		return sess, nil
	}
	now := micros(at)
	var (
		sess                        Session
		roles, teams                string
		created, lastSeen, absolute int64
	)
	stmt, err := s.readStmt(ctx, `SELECT user_key, display_name, username, tenant_id, roles, teams, created_at, last_seen_at, expires_at
		FROM sessions WHERE id_hash = ? AND idle_expires_at > ? AND expires_at > ?`)
	if err != nil {
		return Session{}, fmt.Errorf("get session: %w", err)
	}
	err = stmt.QueryRowContext(ctx, hash, now, now).
		Scan(&sess.UserKey, &sess.Name, &sess.Username, &sess.Tenant, &roles, &teams, &created, &lastSeen, &absolute)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("get session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("get session: %w", err)
	}
	sess.ID = id
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = fromMicros(created), fromMicros(lastSeen), fromMicros(absolute)
	if err := errors.Join(json.Unmarshal([]byte(roles), &sess.Roles), json.Unmarshal([]byte(teams), &sess.Teams)); err != nil {
		return Session{}, fmt.Errorf("get session: decode: %w", err)
	}
	if ttl := s.opts.sessionCacheTTL; ttl > 0 {
		s.sessions.put(hash, sess, minTime(at.Add(ttl), s.idleExpiry(sess.LastSeenAt, sess.ExpiresAt)))
	}
	return sess, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// UpdateSession replaces a live session's person data (name, username, tenant, roles, teams)
// and marks it used now. Unlike SaveSession it never revives a session: ErrNotFound when it
// has expired or was deleted.
func (s *Store) UpdateSession(ctx context.Context, sess Session) error {
	roles, err1 := json.Marshal(nonNil(sess.Roles))
	teams, err2 := json.Marshal(nonNil(sess.Teams))
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("update session: encode: %w", err)
	}
	// Dropped after the write too: a read racing with it must not keep the old values.
	defer s.sessions.drop(sessionKey(sess.ID))
	now := s.now()
	res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE sessions SET
		user_key = ?, display_name = ?, username = ?, tenant_id = ?, roles = ?, teams = ?, last_seen_at = ?,
		idle_expires_at = CASE WHEN ? < expires_at THEN ? ELSE expires_at END
		WHERE id_hash = ? AND idle_expires_at > ? AND expires_at > ?`),
		sess.UserKey, sess.Name, sess.Username, sess.Tenant, string(roles), string(teams), micros(now),
		micros(now.Add(s.opts.sessionIdle)), micros(now.Add(s.opts.sessionIdle)),
		sessionKey(sess.ID), micros(now), micros(now))
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	return expectOne(res, "update session")
}

// TouchSession extends a live session's idle expiry; sess is the session as GetSession
// returned it. To spare the database a write on every request, it writes only when the session
// was last marked used more than a minute ago (or a quarter of the idle timeout, if shorter),
// so the usual request costs one read. ErrNotFound when the session has expired meanwhile.
func (s *Store) TouchSession(ctx context.Context, sess Session) error {
	now := s.now()
	if now.Sub(sess.LastSeenAt) < s.opts.sessionTouchEvery {
		return nil
	}
	defer s.sessions.drop(sessionKey(sess.ID)) // its LastSeenAt changes
	res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE sessions SET last_seen_at = ?,
		idle_expires_at = CASE WHEN ? < expires_at THEN ? ELSE expires_at END
		WHERE id_hash = ? AND idle_expires_at > ? AND expires_at > ?`),
		micros(now), micros(now.Add(s.opts.sessionIdle)), micros(now.Add(s.opts.sessionIdle)),
		sessionKey(sess.ID), micros(now), micros(now))
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return expectOne(res, "touch session")
}

// DeleteSession ends a session (sign-out). Deleting a missing session is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	// Dropped after the delete: a read racing with it must not keep the session alive here.
	defer s.sessions.drop(sessionKey(id))
	if _, err := s.w.ExecContext(ctx, s.d.q(`DELETE FROM sessions WHERE id_hash = ?`), sessionKey(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of one person (e.g. when an administrator revokes
// access) and returns how many there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userKey string) (int, error) {
	defer s.sessions.clear()
	res, err := s.w.ExecContext(ctx, s.d.q(`DELETE FROM sessions WHERE user_key = ?`), userKey)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func expectOne(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}
