package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Session is a signed-in person's server-side session. The browser's cookie carries only ID
// (signed); everything else stays on the server. It holds no tokens: the portal needs none
// after sign-in.
type Session struct {
	ID       string   `json:"id"`
	UserKey  string   `json:"userKey"`
	Name     string   `json:"name"`
	Username string   `json:"username"`
	Tenant   string   `json:"tenant"`
	Roles    []string `json:"roles"`
	Teams    []string `json:"teams"`
	// CreatedAt is the sign-in time; LastSeenAt the last request (updated at most once a
	// minute, see touchInterval); ExpiresAt the absolute end, whatever the activity.
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
}

// Identity returns the person the session belongs to.
func (s Session) Identity() Identity {
	roles := make([]Role, 0, len(s.Roles))
	for _, r := range s.Roles {
		roles = append(roles, Role(r))
	}
	return Identity{Key: s.UserKey, Name: s.Name, Username: s.Username, Tenant: s.Tenant,
		Roles: roles, Teams: slices.Clone(s.Teams)}
}

// ErrSessionNotFound is returned by SessionStore.GetSession for an unknown id.
var ErrSessionNotFound = errors.New("session not found")

// SessionStore keeps sessions on the server. Implementations must be safe for concurrent use.
// The portal's database implements it for production; MemoryStore serves tests and one-replica
// setups that accept losing sessions on restart.
type SessionStore interface {
	// SaveSession creates the session or replaces the one with the same ID.
	SaveSession(ctx context.Context, s Session) error
	// GetSession returns the session with this id, or ErrSessionNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// DeleteSession removes the session; removing an unknown id is not an error.
	DeleteSession(ctx context.Context, id string) error
}

// MemoryStore is a SessionStore in process memory. It drops sessions past their absolute
// expiry when it saves, so it does not grow without bound.
type MemoryStore struct {
	mu       sync.Mutex
	sessions map[string]Session
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{sessions: map[string]Session{}} }

// SaveSession implements SessionStore.
func (m *MemoryStore) SaveSession(_ context.Context, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, old := range m.sessions {
		if !old.ExpiresAt.IsZero() && old.ExpiresAt.Before(s.LastSeenAt) {
			delete(m.sessions, id)
		}
	}
	s.Roles, s.Teams = slices.Clone(s.Roles), slices.Clone(s.Teams)
	m.sessions[s.ID] = s
	return nil
}

// GetSession implements SessionStore.
func (m *MemoryStore) GetSession(_ context.Context, id string) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return Session{}, ErrSessionNotFound
	}
	s.Roles, s.Teams = slices.Clone(s.Roles), slices.Clone(s.Teams)
	return s, nil
}

// DeleteSession implements SessionStore.
func (m *MemoryStore) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
	return nil
}

// Len returns how many sessions the store holds.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}
