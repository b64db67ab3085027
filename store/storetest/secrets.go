package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

// A recognisable 44-character SAS key: if these bytes (or their usual encodings) appear in the
// raw database, encryption failed.
const plaintextKey = "PLAINTEXTsasKEYplaintextSASkeyPLAINTEXTsas0="

func testSecrets(t *testing.T, h *harness) {
	s := h.open(h.keyring(h.newKey()))
	ctx := h.ctx()
	ref := store.SecretRef{Environment: "prod", EndpointID: strings.ToUpper(endpointID(1)), Purpose: endpoint.PurposeSASKey}
	if _, err := s.GetSecret(ctx, ref); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing secret: err = %v, want ErrNotFound", err)
	}
	if err := s.PutSecret(ctx, ref, endpoint.NewSecret(plaintextKey)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSecret(ctx, store.SecretRef{Environment: "prod", EndpointID: endpointID(1), Purpose: endpoint.PurposeSASKey})
	if err != nil || got.Reveal() != plaintextKey {
		t.Fatalf("GetSecret: %v (matches: %v)", err, got.Reveal() == plaintextKey)
	}
	if err := s.PutSecret(ctx, ref, endpoint.NewSecret("replaced-value")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSecret(ctx, ref); got.Reveal() != "replaced-value" {
		t.Fatal("PutSecret did not replace the value")
	}
	if err := s.PutSecret(ctx, store.SecretRef{Environment: "prod", EndpointID: endpointID(1), Purpose: endpoint.PurposeAuthValue}, endpoint.NewSecret("x")); err != nil {
		t.Fatal(err)
	}
	purposes, err := s.StoredSecrets(ctx, "prod", endpointID(1))
	if err != nil || len(purposes) != 2 || purposes[0] != endpoint.PurposeAuthValue || purposes[1] != endpoint.PurposeSASKey {
		t.Fatalf("StoredSecrets = %v, %v", purposes, err)
	}
	if err := s.DeleteSecret(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSecret(ctx, ref); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted secret: err = %v", err)
	}
	if n, err := s.DeleteEndpointSecrets(ctx, "prod", endpointID(1)); err != nil || n != 1 {
		t.Fatalf("DeleteEndpointSecrets = %d, %v; want 1", n, err)
	}
	for _, bad := range []store.SecretRef{{EndpointID: "x", Purpose: "saskey"}, {Environment: "p", Purpose: "saskey"},
		{Environment: "p", EndpointID: "x", Purpose: "SAS Key"}, {Environment: "p", EndpointID: "x", Purpose: "connectionstring"}} {
		if err := s.PutSecret(ctx, bad, endpoint.NewSecret("v")); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutSecret(%+v): err = %v, want ErrInvalid", bad, err)
		}
	}
	if err := s.PutSecret(ctx, ref, endpoint.NewSecret("")); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty secret: err = %v, want ErrInvalid", err)
	}
	noKeys := h.open(store.Keyring{})
	if err := noKeys.PutSecret(ctx, ref, endpoint.NewSecret("v")); !errors.Is(err, store.ErrNoKey) {
		t.Fatalf("PutSecret without keys: err = %v, want ErrNoKey", err)
	}
}

// rawDump returns every byte stored in the named tables, concatenated.
func rawDump(t *testing.T, h *harness, tables ...string) []byte {
	t.Helper()
	var all bytes.Buffer
	raw := h.raw()
	for _, table := range tables {
		rows, err := raw.QueryContext(h.ctx(), `SELECT * FROM `+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					all.Write(x)
				case string:
					all.WriteString(x)
				}
				all.WriteByte(0)
			}
		}
		rows.Close()
	}
	return all.Bytes()
}

func testSecretsUnreadable(t *testing.T, h *harness) {
	s := h.open(h.keyring(h.newKey()))
	ctx := h.ctx()
	if err := s.PutSecret(ctx, store.SecretRef{Environment: "prod", EndpointID: endpointID(1), Purpose: endpoint.PurposeSASKey}, endpoint.NewSecret(plaintextKey)); err != nil {
		t.Fatal(err)
	}
	d := mustDraft(t, h, s, "alice", secretsOf(map[endpoint.SecretPurpose]string{endpoint.PurposeSASKey: plaintextKey,
		endpoint.PurposeAuthValue: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + plaintextKey}))
	dump := rawDump(t, h, "endpoint_secrets", "drafts")
	if len(dump) < 100 {
		t.Fatalf("raw dump is only %d bytes: the test reads nothing", len(dump))
	}
	if !bytes.Contains(dump, []byte(d.ID)) {
		t.Fatal("raw dump lacks the draft id: the test is not reading the draft rows")
	}
	for _, form := range [][]byte{
		[]byte(plaintextKey),
		[]byte(plaintextKey[:16]),
		[]byte(base64.StdEncoding.EncodeToString([]byte(plaintextKey))),
		[]byte(hex.EncodeToString([]byte(plaintextKey))),
		[]byte("SharedAccessKeyName=send"),
	} {
		if bytes.Contains(dump, form) {
			t.Fatalf("the raw database contains a secret in clear (%q...)", form[:8])
		}
	}
}

func testSecretTampering(t *testing.T, h *harness) {
	s := h.open(h.keyring(h.newKey()))
	ctx := h.ctx()
	a := store.SecretRef{Environment: "prod", EndpointID: endpointID(1), Purpose: endpoint.PurposeSASKey}
	b := store.SecretRef{Environment: "prod", EndpointID: endpointID(2), Purpose: endpoint.PurposeSASKey}
	c := store.SecretRef{Environment: "prod", EndpointID: endpointID(1), Purpose: endpoint.PurposeSASToken}
	for _, ref := range []store.SecretRef{a, b, c} {
		if err := s.PutSecret(ctx, ref, endpoint.NewSecret("value-of-"+ref.EndpointID+"-"+string(ref.Purpose))); err != nil {
			t.Fatal(err)
		}
	}
	raw := h.raw()
	where := ` WHERE environment = ? AND endpoint_id = ? AND purpose = ?`
	read := func(ref store.SecretRef) []byte {
		var ct []byte
		if err := raw.QueryRowContext(ctx, h.rawQ(`SELECT ciphertext FROM endpoint_secrets`+where), ref.Environment, ref.EndpointID, string(ref.Purpose)).Scan(&ct); err != nil {
			t.Fatal(err)
		}
		return ct
	}
	write := func(ref store.SecretRef, ct []byte) {
		if _, err := raw.ExecContext(ctx, h.rawQ(`UPDATE endpoint_secrets SET ciphertext = ?`+where), ct, ref.Environment, ref.EndpointID, string(ref.Purpose)); err != nil {
			t.Fatal(err)
		}
	}

	// Moving endpoint 1's ciphertext to endpoint 2's row, or to another purpose, fails.
	write(b, read(a))
	if _, err := s.GetSecret(ctx, b); !errors.Is(err, store.ErrUndecryptable) {
		t.Fatalf("ciphertext moved to another endpoint: err = %v, want ErrUndecryptable", err)
	}
	write(c, read(a))
	if _, err := s.GetSecret(ctx, c); !errors.Is(err, store.ErrUndecryptable) {
		t.Fatalf("ciphertext moved to another purpose: err = %v, want ErrUndecryptable", err)
	}
	// Flipping one bit fails.
	ct := read(a)
	ct[len(ct)-1] ^= 1
	write(a, ct)
	_, err := s.GetSecret(ctx, a)
	if !errors.Is(err, store.ErrUndecryptable) {
		t.Fatalf("altered ciphertext: err = %v, want ErrUndecryptable", err)
	}
	if strings.Contains(err.Error(), "value-of") {
		t.Fatal("the error reveals the secret")
	}
	// Truncated to nothing fails cleanly.
	write(a, []byte{1, 2, 3})
	if _, err := s.GetSecret(ctx, a); !errors.Is(err, store.ErrUndecryptable) {
		t.Fatalf("truncated ciphertext: err = %v, want ErrUndecryptable", err)
	}
	// A draft's sealed secrets cannot be moved to another draft either.
	d1 := mustDraft(t, h, s, "alice", secretsOf(map[endpoint.SecretPurpose]string{"saskey": "draft-one"}))
	d2 := mustDraft(t, h, s, "alice", secretsOf(map[endpoint.SecretPurpose]string{"saskey": "draft-two"}))
	if _, err := raw.ExecContext(ctx, h.rawQ(`UPDATE drafts SET secrets = (SELECT secrets FROM drafts WHERE id = ?) WHERE id = ?`), d1.ID, d2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDraft(ctx, d2.ID, "alice"); !errors.Is(err, store.ErrUndecryptable) {
		t.Fatalf("draft secrets moved to another draft: err = %v, want ErrUndecryptable", err)
	}
	if got, err := s.GetDraft(ctx, d1.ID, "alice"); err != nil || got.Secrets["saskey"].Reveal() != "draft-one" {
		t.Fatalf("untouched draft: %v", err)
	}
	// Relabelling a ciphertext with another configured key's id fails too.
	k1, k2 := h.newKey(), h.newKey()
	s2 := h.open(h.keyring(k1, k2))
	ref := store.SecretRef{Environment: "prod", EndpointID: endpointID(3), Purpose: "saskey"}
	if err := s2.PutSecret(ctx, ref, endpoint.NewSecret("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, h.rawQ(`UPDATE endpoint_secrets SET key_id = ?`+where), k2.ID(), ref.Environment, ref.EndpointID, string(ref.Purpose)); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.GetSecret(ctx, ref); !errors.Is(err, store.ErrUndecryptable) {
		t.Fatalf("relabelled key id: err = %v, want ErrUndecryptable", err)
	}
}

func testRotation(t *testing.T, h *harness) {
	ctx := h.ctx()
	oldKey, newKey := h.newKey(), h.newKey()
	before := h.open(h.keyring(oldKey))
	refs := []store.SecretRef{
		{Environment: "prod", EndpointID: endpointID(1), Purpose: endpoint.PurposeSASKey},
		{Environment: "prod", EndpointID: endpointID(2), Purpose: endpoint.PurposeSASKey},
		{Environment: "test", EndpointID: endpointID(1), Purpose: endpoint.PurposeAuthValue},
	}
	for _, ref := range refs {
		if err := before.PutSecret(ctx, ref, endpoint.NewSecret("v-"+ref.Environment+ref.EndpointID+string(ref.Purpose))); err != nil {
			t.Fatal(err)
		}
	}
	d := mustDraft(t, h, before, "alice", secretsOf(map[endpoint.SecretPurpose]string{"saskey": "draft-secret"}))
	if _, err := mustDraftNoSecrets(h, before); err != nil {
		t.Fatal(err)
	}

	// New key in front, old key kept: old ciphertexts still open, new ones use the new key.
	during := h.open(h.keyring(newKey, oldKey))
	for _, ref := range refs {
		if v, err := during.GetSecret(ctx, ref); err != nil || v.Reveal() != "v-"+ref.Environment+ref.EndpointID+string(ref.Purpose) {
			t.Fatalf("old secret under the new keyring: %v", err)
		}
	}
	fresh := store.SecretRef{Environment: "prod", EndpointID: endpointID(9), Purpose: endpoint.PurposeSASKey}
	if err := during.PutSecret(ctx, fresh, endpoint.NewSecret("fresh")); err != nil {
		t.Fatal(err)
	}
	rot, err := during.RotateSecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rot.KeyID != newKey.ID() || rot.EndpointSecrets != 3 || rot.DraftSecrets != 1 || rot.AlreadyCurrent != 1 {
		t.Fatalf("rotation = %+v; want 3 endpoint secrets, 1 draft, 1 already current", rot)
	}
	var stale int
	if err := h.raw().QueryRowContext(ctx, h.rawQ(`SELECT COUNT(*) FROM endpoint_secrets WHERE key_id <> ?`), newKey.ID()).Scan(&stale); err != nil {
		t.Fatal(err)
	}
	if stale != 0 {
		t.Fatalf("%d secrets still sealed with the old key", stale)
	}
	again, err := during.RotateSecrets(ctx)
	if err != nil || again.EndpointSecrets != 0 || again.DraftSecrets != 0 || again.AlreadyCurrent != 5 {
		t.Fatalf("second rotation = %+v, %v; want nothing to do", again, err)
	}

	// Old key dropped: everything still opens with the new key alone.
	after := h.open(h.keyring(newKey))
	for _, ref := range append(refs, fresh) {
		if _, err := after.GetSecret(ctx, ref); err != nil {
			t.Fatalf("after dropping the old key: %v", err)
		}
	}
	if got, err := after.GetDraft(ctx, d.ID, "alice"); err != nil || got.Secrets["saskey"].Reveal() != "draft-secret" {
		t.Fatalf("draft secrets after rotation: %v", err)
	}
	// A keyring without the key that sealed a secret says which key id is missing.
	_, err = before.GetSecret(ctx, refs[0])
	if !errors.Is(err, store.ErrUnknownKey) || !strings.Contains(err.Error(), newKey.ID()) {
		t.Fatalf("old keyring on rotated data: err = %v, want ErrUnknownKey naming %s", err, newKey.ID())
	}
	if _, err := h.open(store.Keyring{}).RotateSecrets(ctx); !errors.Is(err, store.ErrNoKey) {
		t.Fatalf("rotation without keys: err = %v", err)
	}
}

func mustDraftNoSecrets(h *harness, s *store.Store) (store.Draft, error) {
	return s.CreateDraft(h.ctx(), store.Draft{Owner: "bob", Environment: "prod"})
}

func testSweep(t *testing.T, h *harness) {
	s := h.open(h.keyring(h.newKey()), store.WithSessionLifetimes(time.Hour, 8*time.Hour),
		store.WithDraftLifetime(24*time.Hour), store.WithDraftClaimTimeout(time.Minute))
	ctx := h.ctx()
	oldSession, err := s.CreateSession(ctx, sampleSession())
	if err != nil {
		t.Fatal(err)
	}
	oldDraft := mustDraft(t, h, s, "alice", secretsOf(map[endpoint.SecretPurpose]string{"saskey": "x"}))
	if _, err := s.RecordValidationRun(ctx, store.ValidationRun{Environment: "prod", DraftID: oldDraft.ID, RunBy: "alice",
		Result: store.ValidationPassed}); err != nil {
		t.Fatal(err)
	}
	saving := mustDraft(t, h, s, "alice", nil)
	h.clock.Advance(23*time.Hour + 59*time.Minute)
	if _, err := s.ClaimDraftForSave(ctx, saving.ID, "alice", saving.Version); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Minute)
	liveSession, err := s.CreateSession(ctx, sampleSession())
	if err != nil {
		t.Fatal(err)
	}
	liveDraft := mustDraft(t, h, s, "alice", nil)

	swept, err := s.Sweep(ctx, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The old session idled out; the old draft expired; the draft being saved expired but
	// its claim had lapsed too (claim 1 min, 30 min ago), so it goes.
	if swept != (store.Swept{Sessions: 1, Drafts: 2, ValidationRuns: 1}) {
		t.Fatalf("Sweep = %+v", swept)
	}
	count := func(table string) int {
		var n int
		if err := h.raw().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count("sessions") != 1 || count("drafts") != 1 || count("validation_runs") != 0 {
		t.Fatalf("after sweep: %d sessions, %d drafts, %d runs", count("sessions"), count("drafts"), count("validation_runs"))
	}
	if _, err := s.GetSession(ctx, liveSession.ID); err != nil {
		t.Fatalf("live session swept: %v", err)
	}
	if _, err := s.GetDraft(ctx, liveDraft.ID, "alice"); err != nil {
		t.Fatalf("live draft swept: %v", err)
	}
	if _, err := s.GetSession(ctx, oldSession.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("swept session still readable")
	}
	again, err := s.Sweep(ctx, h.clock.Now())
	if err != nil || again != (store.Swept{}) {
		t.Fatalf("second sweep = %+v, %v", again, err)
	}

	// A draft whose save is in flight survives its expiry until the claim lapses.
	inflight := mustDraft(t, h, s, "alice", nil)
	h.clock.Advance(24*time.Hour - 10*time.Second)
	if _, err := s.ClaimDraftForSave(ctx, inflight.ID, "alice", inflight.Version); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(20 * time.Second)
	if _, err := s.Sweep(ctx, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := h.raw().QueryRowContext(ctx, h.rawQ(`SELECT COUNT(*) FROM drafts WHERE id = ?`), inflight.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatal("a draft with a live save claim was swept")
	}
}

func testSweeper(t *testing.T, h *harness) {
	s := h.open(store.Keyring{}, store.WithSessionLifetimes(time.Hour, 8*time.Hour))
	ctx := h.ctx()
	if _, err := s.CreateSession(ctx, sampleSession()); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Hour)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.RunSweeper(runCtx, 10*time.Millisecond); close(done) }()
	// Wait (bounded only by the test's own deadline) for the sweeper to remove the session.
	for {
		var n int
		if err := h.raw().QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the sweeper never removed the expired session")
		case <-time.After(10 * time.Millisecond):
		}
	}
	stop()
	<-done // RunSweeper returns when its context ends
}
