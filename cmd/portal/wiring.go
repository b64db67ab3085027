package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/handlers"
	"github.com/contoso/sbportal/store"
)

// readinessChecks reports the database (critical) and each Dataverse environment (not
// critical: one environment down leaves the portal serving the others).
func readinessChecks(st *store.Store, envs *dataverse.Environments) []handlers.ReadinessCheck {
	checks := []handlers.ReadinessCheck{{Name: "database", Critical: true, Check: func(ctx context.Context) (string, error) {
		if err := st.Ping(ctx); err != nil {
			return "", err
		}
		v, err := st.SchemaVersion(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s, schema version %d", st.Backend(), v), nil
	}}}
	for _, env := range envs.List() {
		checks = append(checks, handlers.ReadinessCheck{Name: "dataverse " + env.ID, Check: func(ctx context.Context) (string, error) {
			who, err := env.Client.WhoAmI(ctx)
			if err != nil {
				return "", fmt.Errorf("%s", dataverse.Explain(err))
			}
			return env.DisplayName + ": WhoAmI answered, user " + who.UserID, nil
		}})
	}
	return checks
}

// deriveKey makes a purpose-specific key from a configured one, so one secret never serves two
// purposes directly.
func deriveKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sbportal/" + purpose))
	return m.Sum(nil)
}
