package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/contoso/sbportal/store"
)

func init() {
	register(command{
		name:    "rotate-secrets",
		summary: "re-encrypt every stored secret with the newest secret key",
		run:     runRotateSecrets,
	})
}

// runRotateSecrets re-encrypts stored secrets with the newest key. Key rotation, step by step:
// put the new key in front of PORTAL_SECRET_KEY ("new:base64,old:base64"), restart the
// replicas, run this command, then remove the old key. It is safe while the portal runs.
func runRotateSecrets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rotate-secrets", "rotate-secrets [--database URL] [--key-file PATH]", stderr)
	database := fs.String("database", "", "the portal's database: a postgres:// URL or a SQLite file path (default $PORTAL_DATABASE_URL)")
	keyFile := fs.String("key-file", "", "read the keys from this file (as portal dev keeps them) instead of $PORTAL_SECRET_KEY")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dsn, err := databaseFromFlagOrEnv(*database)
	if err != nil {
		return err
	}
	var keys store.Keyring
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("read key file: %w", err)
		}
		if keys, err = store.ParseKeyring(string(b)); err != nil {
			return fmt.Errorf("key file %s: %w", *keyFile, err)
		}
	} else if keys, err = store.KeyringFromEnv(os.Getenv); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	st, err := store.Open(ctx, dsn, keys, store.WithLogger(logger))
	if err != nil {
		return err
	}
	defer st.Close()
	rot, err := st.RotateSecrets(ctx)
	fmt.Fprintf(stdout, "re-encrypted %d endpoint secrets and the secrets of %d drafts with key %s; %d were already current\n",
		rot.EndpointSecrets, rot.DraftSecrets, rot.KeyID, rot.AlreadyCurrent)
	if err != nil {
		return fmt.Errorf("%w\nAdd the key it names back to PORTAL_SECRET_KEY (after the newest) and run rotate-secrets again", err)
	}
	return nil
}
