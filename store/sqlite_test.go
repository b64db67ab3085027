package store_test

import (
	"path/filepath"
	"testing"

	"github.com/contoso/sbportal/store/storetest"
)

// newSQLiteDSN gives each test its own database file in a temporary folder.
func newSQLiteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "portal.db")
}

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, newSQLiteDSN)
}
