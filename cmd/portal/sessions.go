package main

import (
	"context"
	"errors"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/store"
)

// storeSessions keeps sign-in sessions in the portal's database, so every replica sees them
// and a restart signs nobody out.
type storeSessions struct{ st *store.Store }

func (s storeSessions) SaveSession(ctx context.Context, sess auth.Session) error {
	return s.st.SaveSession(ctx, store.Session(sess))
}

func (s storeSessions) GetSession(ctx context.Context, id string) (auth.Session, error) {
	sess, err := s.st.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return auth.Session{}, auth.ErrSessionNotFound
	}
	return auth.Session(sess), err
}

func (s storeSessions) DeleteSession(ctx context.Context, id string) error {
	return s.st.DeleteSession(ctx, id)
}
