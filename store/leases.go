package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"sync"
)

// Lease is held by at most one Store (one replica) at a time for a name: background work
// that only one replica may do (finishing saves interrupted by a crash or an outage) runs while
// its replica holds the lease. On PostgreSQL it is a session advisory lock on a connection of
// its own, so a replica that dies or loses its connection loses the lease at once; SQLite serves
// one replica, and the lease is held within the process.
type Lease struct {
	s    *Store
	name string
	mu   sync.Mutex
	conn *sql.Conn // PostgreSQL: the connection holding the lock; nil when not held
	held bool
}

// Lease returns the lease called name (not yet held).
func (s *Store) Lease(name string) *Lease { return &Lease{s: s, name: name} }

var sqliteLeases sync.Map // name -> *Lease holding it, within this process

// Hold takes the lease if nobody holds it, and reports whether this Store holds it now (a
// holder that lost its connection learns it here and may take it again).
func (l *Lease) Hold(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s.d.name != postgresDialect.name {
		holder, _ := sqliteLeases.LoadOrStore(l.s.dsn+"\x00"+l.name, l)
		l.held = holder == l
		return l.held, nil
	}
	if l.conn != nil {
		if err := l.conn.PingContext(ctx); err == nil {
			return true, nil
		}
		_ = l.conn.Close() // the lock went with the connection
		l.conn = nil
	}
	conn, err := l.s.w.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", l.name, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, l.key()).Scan(&ok); err != nil {
		_ = conn.Close()
		return false, fmt.Errorf("lease %s: %w", l.name, err)
	}
	if !ok {
		_ = conn.Close()
		return false, nil
	}
	l.conn = conn
	return true, nil
}

func (l *Lease) key() int64 {
	h := fnv.New64a()
	h.Write([]byte("sbportal/lease/" + l.name))
	return int64(h.Sum64())
}

// Release gives the lease up.
func (l *Lease) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		// The connection goes back to the pool, so the lock is released explicitly.
		_, _ = l.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, l.key())
		_ = l.conn.Close()
		l.conn = nil
	}
	if l.held {
		sqliteLeases.CompareAndDelete(l.s.dsn+"\x00"+l.name, l)
		l.held = false
	}
}
