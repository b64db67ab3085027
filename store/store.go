// Package store keeps the portal's own data: server-side sessions, wizard drafts, which team
// owns which endpoint, validation runs, the append-only audit trail, and the encrypted
// secrets that make test-send buttons work on saved endpoints.
//
// Two backends sit behind one type: SQLite through modernc.org/sqlite (the embedded default;
// a file path) and PostgreSQL through pgx (several replicas share one database). The SQL is
// written once; the few differences between the two live in dialect.go and in the two
// migration folders. Migrations are embedded and applied by Open.
//
// What it must not do: claim that an endpoint exists. Dataverse is the source of truth for
// endpoints; ownership, validation runs and secrets are only metadata keyed by (environment,
// endpoint id), and an endpoint deleted outside the portal simply has metadata nobody shows.
// Secret values never appear in errors, logs or the audit trail, and are stored only
// encrypted (AES-256-GCM, bound to their row).
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Errors callers branch on. They are wrapped with context; test with errors.Is.
var (
	// ErrNotFound: no such record, or it expired, or it belongs to someone else.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the record changed since it was read (optimistic concurrency).
	ErrConflict = errors.New("changed by someone else since it was read")
	// ErrDraftSaving: another request (maybe on another replica) is saving this draft.
	ErrDraftSaving = errors.New("draft is being saved by another request")
	// ErrDraftSaved: the draft was already saved; its EndpointID names the endpoint.
	ErrDraftSaved = errors.New("draft was already saved")
	// ErrClaimLost: the save claim expired and another request took the draft over.
	ErrClaimLost = errors.New("draft save claim was lost to another request")
	// ErrInvalid: the caller passed a record the store refuses (the message says why).
	ErrInvalid = errors.New("invalid")
)

// Defaults for lifetimes; override with options.
const (
	DefaultSessionIdleTimeout = 8 * time.Hour
	DefaultSessionLifetime    = 7 * 24 * time.Hour
	DefaultDraftLifetime      = 24 * time.Hour
	DefaultDraftClaimTimeout  = 2 * time.Minute
)

// Store is the portal's data store. It is safe for concurrent use, and several Stores (in one
// process or in several replicas) may share one database.
type Store struct {
	d       *dialect
	w       *sql.DB // writes (SQLite: one connection, so writers queue in Go, not in busy loops)
	r       *sql.DB // reads (SQLite: a pool of read-only connections; PostgreSQL: same as w)
	keys    Keyring
	opts    options
	dsn     string // redacted, for messages
	release func()

	prepared *sync.Map // query text -> *sql.Stmt on r, for the queries every request makes
	sessions *sessionCache
}

// readStmt returns a prepared statement for a hot read query (written with ?), preparing it
// once: SQLite otherwise parses the SQL on every call, which was half the cost of finding a
// session. PostgreSQL's driver caches statements itself; preparing there does no harm.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.prepared.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.r.PrepareContext(ctx, s.d.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.prepared.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

type options struct {
	now               func() time.Time
	sessionIdle       time.Duration
	sessionLifetime   time.Duration
	sessionTouchEvery time.Duration
	draftLifetime     time.Duration
	draftClaimTimeout time.Duration
	sessionCacheTTL   time.Duration
	logger            *slog.Logger
	skipMigrate       bool
}

// Option adjusts a Store at Open.
type Option func(*options)

// WithClock sets the clock (tests); the default is time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSessionLifetimes sets how long a session lives without use (idle) and at most
// (absolute, counted from sign-in).
func WithSessionLifetimes(idle, absolute time.Duration) Option {
	return func(o *options) { o.sessionIdle, o.sessionLifetime = idle, absolute }
}

// WithDraftLifetime sets how long a draft lives after its last change.
func WithDraftLifetime(d time.Duration) Option { return func(o *options) { o.draftLifetime = d } }

// WithDraftClaimTimeout sets how long a save claim holds a draft before another request may
// take it over (covers a replica that died mid-save).
func WithDraftClaimTimeout(d time.Duration) Option {
	return func(o *options) { o.draftClaimTimeout = d }
}

// WithSessionCacheTTL sets how long a session read from the database is reused without
// reading it again (DefaultSessionCacheTTL); a sign-out on another replica takes effect here
// within it. 0 turns the reuse off.
func WithSessionCacheTTL(d time.Duration) Option { return func(o *options) { o.sessionCacheTTL = d } }

// WithLogger sets the logger for the sweeper and migrations.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithoutMigrate opens the database without applying migrations; Open then fails unless the
// schema is already current. For deployments where only `portal migrate` changes the schema.
func WithoutMigrate() Option { return func(o *options) { o.skipMigrate = true } }

// Open connects to the database named by dsn and applies pending migrations:
//   - "postgres://..." or "postgresql://..." opens PostgreSQL (pgxpool);
//   - "sqlite:PATH", "file:PATH" or a plain file PATH opens (creating if needed) SQLite.
//
// keys seals and opens secrets; the zero Keyring is allowed for tools that touch no secret.
func Open(ctx context.Context, dsn string, keys Keyring, opts ...Option) (*Store, error) {
	o := options{
		now:               time.Now,
		sessionIdle:       DefaultSessionIdleTimeout,
		sessionLifetime:   DefaultSessionLifetime,
		sessionTouchEvery: time.Minute,
		draftLifetime:     DefaultDraftLifetime,
		draftClaimTimeout: DefaultDraftClaimTimeout,
		sessionCacheTTL:   DefaultSessionCacheTTL,
		logger:            slog.Default(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.sessionIdle <= 0 || o.sessionLifetime <= 0 || o.draftLifetime <= 0 || o.draftClaimTimeout <= 0 {
		return nil, fmt.Errorf("open store: lifetimes and timeouts must be positive")
	}
	if o.sessionTouchEvery > o.sessionIdle/4 {
		o.sessionTouchEvery = o.sessionIdle / 4
	}
	c, err := openBackend(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{d: c.d, w: c.w, r: c.r, keys: keys, opts: o, dsn: c.redacted, release: c.release, prepared: &sync.Map{},
		sessions: &sessionCache{}}
	if o.skipMigrate {
		err = s.checkSchemaCurrent(ctx)
	} else {
		_, err = s.Migrate(ctx)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// String names the backend and database (password redacted); Format keeps fmt from printing
// the Store's fields, keys included, through reflection.
func (s *Store) String() string             { return "store.Store{" + s.d.name + " " + s.dsn + "}" }
func (s *Store) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Close releases the database connections.
func (s *Store) Close() error {
	var err error
	s.prepared.Range(func(_, st any) bool {
		err = errors.Join(err, st.(*sql.Stmt).Close())
		return true
	})
	if s.r != s.w {
		err = s.r.Close()
	}
	err = errors.Join(err, s.w.Close())
	s.release()
	return err
}

// Backend is "sqlite" or "postgres".
func (s *Store) Backend() string { return s.d.name }

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database %s: %w", s.d.name, s.dsn, err)
	}
	return nil
}

func (s *Store) now() time.Time { return s.opts.now().UTC() }

// micros and fromMicros convert between time.Time and the schema's Unix-microsecond columns.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// randomToken returns n random bytes, hex-encoded.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// newUUID returns a random (version 4) UUID in Dataverse's lower-case form.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// inTx runs fn in a write transaction and commits when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
