package store_test

import (
	"testing"

	"github.com/contoso/sbportal/internal/pgtest"
	"github.com/contoso/sbportal/store/storetest"
)

// TestPostgresConformance runs the conformance suite on PostgreSQL (see package pgtest for
// where the server comes from).
func TestPostgresConformance(t *testing.T) {
	pgtest.URL(t)
	storetest.Run(t, pgtest.NewDSN)
}
