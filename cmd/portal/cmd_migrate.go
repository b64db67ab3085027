package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/contoso/sbportal/store"
)

func init() {
	register(command{
		name:    "migrate",
		summary: "apply the database migrations and print the schema version",
		run:     runMigrate,
	})
}

// runMigrate applies pending migrations. serve applies them too at start; this command is for
// deployments that change the schema in a separate step (e.g. a Kubernetes Job) before rolling
// out replicas. It needs no secret key: migrations never read secrets.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "migrate [--database URL]", stderr)
	database := fs.String("database", "", "the portal's database: a postgres:// URL or a SQLite file path (default $PORTAL_DATABASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dsn, err := databaseFromFlagOrEnv(*database)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	st, err := store.Open(ctx, dsn, store.Keyring{}, store.WithLogger(logger))
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s database is at schema version %d (latest %d)\n", st.Backend(), v, st.LatestSchemaVersion())
	return nil
}

// databaseFromFlagOrEnv picks --database, else PORTAL_DATABASE_URL.
func databaseFromFlagOrEnv(flagValue string) (string, error) {
	if v := strings.TrimSpace(flagValue); v != "" {
		return v, nil
	}
	if v := strings.TrimSpace(os.Getenv("PORTAL_DATABASE_URL")); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("%w: no database given; pass --database or set PORTAL_DATABASE_URL (a postgres:// URL or a SQLite file path)", errUsage)
}
