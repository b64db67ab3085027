package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

func testDrafts(t *testing.T, h *harness) {
	s := h.open(h.keyring(h.newKey()), store.WithDraftLifetime(24*time.Hour))
	ctx := h.ctx()
	d := mustDraft(t, h, s, "alice", secretsOf(map[endpoint.SecretPurpose]string{endpoint.PurposeSASKey: "k3y-that-is-secret"}))
	if d.ID == "" || d.EndpointID == "" || d.Version != 1 || d.Status != store.DraftOpen {
		t.Fatalf("new draft = %+v", d)
	}
	if !d.ExpiresAt.Equal(h.clock.Now().Add(24 * time.Hour)) {
		t.Fatalf("draft expires at %v, want 24 h from now", d.ExpiresAt)
	}

	got, err := s.GetDraft(ctx, d.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.EndpointID != d.EndpointID || string(got.Data) != string(d.Data) || got.Secrets[endpoint.PurposeSASKey].Reveal() != "k3y-that-is-secret" {
		t.Fatalf("GetDraft = %+v (data %s)", got, got.Data)
	}
	// A draft belongs to its author: anyone else gets not found.
	if _, err := s.GetDraft(ctx, d.ID, "mallory"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's draft: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteDraft(ctx, d.ID, "mallory"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting another user's draft: err = %v, want ErrNotFound", err)
	}
	list, err := s.ListDrafts(ctx, "alice")
	if err != nil || len(list) != 1 || list[0].ID != d.ID || list[0].Secrets != nil {
		t.Fatalf("ListDrafts = %+v, %v; want the one draft without secrets", list, err)
	}

	// Update: new data, secrets replaced, version bumped, expiry slides.
	h.clock.Advance(time.Hour)
	got.Data = json.RawMessage(`{"name":"orders-created","path":"orders-v2"}`)
	got.Secrets = secretsOf(map[endpoint.SecretPurpose]string{endpoint.PurposeSASToken: "SharedAccessSignature sr=x&sig=y&se=1&skn=send"})
	upd, err := s.UpdateDraft(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	if upd.Version != 2 || !upd.ExpiresAt.Equal(h.clock.Now().Add(24*time.Hour)) {
		t.Fatalf("after update: version %d expires %v", upd.Version, upd.ExpiresAt)
	}
	reread, err := s.GetDraft(ctx, d.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if reread.Version != 2 || string(reread.Data) != string(got.Data) || len(reread.Secrets) != 1 ||
		reread.Secrets[endpoint.PurposeSASToken].Reveal() != got.Secrets[endpoint.PurposeSASToken].Reveal() {
		t.Fatalf("reread after update = %+v", reread)
	}
	if reread.EndpointID != d.EndpointID {
		t.Fatal("UpdateDraft changed the endpoint id chosen at creation")
	}
	if _, err := s.UpdateDraft(ctx, store.Draft{ID: d.ID, Owner: "alice", Environment: "contoso-prod", Version: 2, Data: []byte(`{not json`)}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("update with invalid JSON: err = %v, want ErrInvalid", err)
	}
	if _, err := s.UpdateDraft(ctx, store.Draft{ID: d.ID, Owner: "mallory", Environment: "contoso-prod", Version: 2}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update by another user: err = %v, want ErrNotFound", err)
	}

	// Expiry: after 24 h without a change the draft is gone for every operation.
	h.clock.Advance(24 * time.Hour)
	if _, err := s.GetDraft(ctx, d.ID, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired draft: err = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateDraft(ctx, reread); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("updating an expired draft: err = %v, want ErrNotFound", err)
	}
	if _, err := s.ClaimDraftForSave(ctx, d.ID, "alice", reread.Version); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claiming an expired draft: err = %v, want ErrNotFound", err)
	}

	d2 := mustDraft(t, h, s, "alice", nil)
	if err := s.DeleteDraft(ctx, d2.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDraft(ctx, d2.ID, "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted draft: err = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateDraft(ctx, store.Draft{Environment: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("draft without owner: err = %v, want ErrInvalid", err)
	}
	// A draft with secrets needs a key; one without does not.
	noKeys := h.open(store.Keyring{})
	if _, err := noKeys.CreateDraft(ctx, store.Draft{Owner: "bob", Environment: "x", Secrets: secretsOf(map[endpoint.SecretPurpose]string{"saskey": "v"})}); !errors.Is(err, store.ErrNoKey) {
		t.Fatalf("draft secrets without a key: err = %v, want ErrNoKey", err)
	}
	// Only the endpoint's secret purposes are kept, and only set secrets.
	if _, err := s.CreateDraft(ctx, store.Draft{Owner: "bob", Environment: "x", Secrets: secretsOf(map[endpoint.SecretPurpose]string{"connectionstring": "v"})}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("draft secret with an unknown purpose: err = %v, want ErrInvalid", err)
	}
	blank, err := noKeys.CreateDraft(ctx, store.Draft{Owner: "bob", Environment: "x", Secrets: map[endpoint.SecretPurpose]endpoint.Secret{endpoint.PurposeSASKey: {}}})
	if err != nil {
		t.Fatalf("a draft whose secrets are all unset needs no key: %v", err)
	}
	if got, err := noKeys.GetDraft(ctx, blank.ID, "bob"); err != nil || len(got.Secrets) != 0 {
		t.Fatalf("unset draft secrets were kept: %v, %v", got.Secrets, err)
	}
	if _, err := noKeys.CreateDraft(ctx, store.Draft{Owner: "bob", Environment: "x"}); err != nil {
		t.Fatal(err)
	}
}

func testDraftConcurrency(t *testing.T, h *harness) {
	// Two browser tabs (or two replicas) edit the same draft: the second write, based on the
	// version both read, is refused.
	a, b := h.open(h.keyring(h.newKey())), h.open(h.keyring(h.newKey()))
	ctx := h.ctx()
	d := mustDraft(t, h, a, "alice", nil)
	tab1, err := a.GetDraft(ctx, d.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	tab2, err := b.GetDraft(ctx, d.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	tab1.Data = json.RawMessage(`{"name":"from-tab-1"}`)
	if _, err := a.UpdateDraft(ctx, tab1); err != nil {
		t.Fatal(err)
	}
	tab2.Data = json.RawMessage(`{"name":"from-tab-2"}`)
	if _, err := b.UpdateDraft(ctx, tab2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: err = %v, want ErrConflict", err)
	}
	now, err := b.GetDraft(ctx, d.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if string(now.Data) != `{"name":"from-tab-1"}` || now.Version != 2 {
		t.Fatalf("draft after the conflict = version %d %s", now.Version, now.Data)
	}

	// Many concurrent writers from the same version: exactly one succeeds.
	const writers = 8
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			mine := now
			mine.Data = json.RawMessage(`{"writer":` + string(rune('0'+i)) + `}`)
			_, err := st.UpdateDraft(ctx, mine)
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, store.ErrConflict) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent updates: unexpected errors:%s", fmtErrs(errs))
		}
	}
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent updates from one version succeeded, want exactly 1", wins.Load())
	}
}

func sampleSave(team string) store.DraftSave {
	return store.DraftSave{
		Team: team, RegisteredByName: "Alice",
		Audit: store.AuditEntry{
			ActorKey: "alice", ActorName: "Alice", Action: "endpoint.create", EndpointName: "orders-created",
			After:   json.RawMessage(`{"name":"orders-created","path":"orders","issaskeyset":true}`),
			Outcome: store.AuditSucceeded, RequestID: "req-1",
		},
	}
}

func testDraftSaveClaim(t *testing.T, h *harness) {
	s := h.open(h.keyring(h.newKey()))
	ctx := h.ctx()
	d := mustDraft(t, h, s, "alice", secretsOf(map[endpoint.SecretPurpose]string{endpoint.PurposeSASKey: "the-sas-key-value"}))
	run, err := s.RecordValidationRun(ctx, store.ValidationRun{Environment: d.Environment, DraftID: d.ID, DraftVersion: d.Version,
		RunBy: "alice", Result: store.ValidationPassed, Summary: "sent test message"})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := s.ClaimDraftForSave(ctx, d.ID, "alice", d.Version+1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("claim at the wrong version: err = %v, want ErrConflict", err)
	}
	if _, err := s.ClaimDraftForSave(ctx, d.ID, "mallory", d.Version); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim by another user: err = %v, want ErrNotFound", err)
	}
	claim, err := s.ClaimDraftForSave(ctx, d.ID, "alice", d.Version)
	if err != nil {
		t.Fatal(err)
	}
	if claim.Draft.Status != store.DraftSaving || claim.Draft.Secrets[endpoint.PurposeSASKey].Reveal() != "the-sas-key-value" {
		t.Fatalf("claimed draft = %+v", claim.Draft)
	}
	if _, err := s.ClaimDraftForSave(ctx, d.ID, "alice", d.Version); !errors.Is(err, store.ErrDraftSaving) {
		t.Fatalf("second claim: err = %v, want ErrDraftSaving", err)
	}
	if _, err := s.UpdateDraft(ctx, claim.Draft); !errors.Is(err, store.ErrDraftSaving) {
		t.Fatalf("editing a draft being saved: err = %v, want ErrDraftSaving", err)
	}
	if err := s.DeleteDraft(ctx, d.ID, "alice"); !errors.Is(err, store.ErrDraftSaving) {
		t.Fatalf("deleting a draft being saved: err = %v, want ErrDraftSaving", err)
	}

	// Release: the save failed; the draft is editable again at the same version.
	if err := s.ReleaseDraftClaim(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseDraftClaim(ctx, claim); !errors.Is(err, store.ErrClaimLost) {
		t.Fatalf("releasing twice: err = %v, want ErrClaimLost", err)
	}
	if _, err := s.FinishDraftSave(ctx, claim, sampleSave("payments")); !errors.Is(err, store.ErrClaimLost) {
		t.Fatalf("finishing with a released claim: err = %v, want ErrClaimLost", err)
	}
	claim, err = s.ClaimDraftForSave(ctx, d.ID, "alice", d.Version)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}

	bad := sampleSave("payments")
	bad.Audit.EndpointID = "00000000-0000-0000-0000-000000000000"
	if _, err := s.FinishDraftSave(ctx, claim, bad); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("finish with an audit entry for another endpoint: err = %v, want ErrInvalid", err)
	}
	own, err := s.FinishDraftSave(ctx, claim, sampleSave("payments"))
	if err != nil {
		t.Fatal(err)
	}
	if own.EndpointID != d.EndpointID || own.Team != "payments" || own.RegisteredBy != "alice" {
		t.Fatalf("ownership = %+v", own)
	}

	// Everything the save records is there.
	saved, err := s.GetDraft(ctx, d.ID, "alice")
	if err != nil || saved.Status != store.DraftSaved || saved.Secrets != nil {
		t.Fatalf("draft after save = %+v, %v; want saved, secrets moved out", saved, err)
	}
	if _, err := s.ClaimDraftForSave(ctx, d.ID, "alice", d.Version); !errors.Is(err, store.ErrDraftSaved) {
		t.Fatalf("claim after save: err = %v, want ErrDraftSaved", err)
	}
	if _, err := s.UpdateDraft(ctx, saved); !errors.Is(err, store.ErrDraftSaved) {
		t.Fatalf("edit after save: err = %v, want ErrDraftSaved", err)
	}
	if got, err := s.GetOwnership(ctx, d.Environment, d.EndpointID); err != nil || got.Team != "payments" {
		t.Fatalf("GetOwnership = %+v, %v", got, err)
	}
	key, err := s.GetSecret(ctx, store.SecretRef{Environment: d.Environment, EndpointID: d.EndpointID, Purpose: endpoint.PurposeSASKey})
	if err != nil || key.Reveal() != "the-sas-key-value" {
		t.Fatalf("endpoint secret after save: %v", err)
	}
	hist, err := s.ValidationHistory(ctx, d.Environment, d.EndpointID, 0)
	if err != nil || len(hist) != 1 || hist[0].ID != run.ID {
		t.Fatalf("validation history after save = %+v, %v; want the draft's passing run", hist, err)
	}
	page, err := s.ListAudit(ctx, store.AuditFilter{EndpointID: d.EndpointID})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Action != "endpoint.create" || page.Entries[0].Environment != d.Environment {
		t.Fatalf("audit after save = %+v, %v", page.Entries, err)
	}
}

func testDraftClaimLapse(t *testing.T, h *harness) {
	// A replica dies mid-save: after the claim timeout another request takes over, and the
	// dead one's claim can no longer finish.
	s := h.open(h.keyring(h.newKey()), store.WithDraftClaimTimeout(time.Minute))
	ctx := h.ctx()
	d := mustDraft(t, h, s, "alice", nil)
	first, err := s.ClaimDraftForSave(ctx, d.ID, "alice", d.Version)
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Second)
	if _, err := s.ClaimDraftForSave(ctx, d.ID, "alice", d.Version); !errors.Is(err, store.ErrDraftSaving) {
		t.Fatalf("claim while the first holds: err = %v, want ErrDraftSaving", err)
	}
	h.clock.Advance(31 * time.Second)
	second, err := s.ClaimDraftForSave(ctx, d.ID, "alice", d.Version)
	if err != nil {
		t.Fatalf("take over a lapsed claim: %v", err)
	}
	if second.Draft.EndpointID != first.Draft.EndpointID {
		t.Fatal("a retried save got a different endpoint id: it could create a second endpoint")
	}
	if _, err := s.FinishDraftSave(ctx, first, sampleSave("payments")); !errors.Is(err, store.ErrClaimLost) {
		t.Fatalf("finish with the lapsed claim: err = %v, want ErrClaimLost", err)
	}
	if _, err := s.FinishDraftSave(ctx, second, sampleSave("payments")); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListAudit(ctx, store.AuditFilter{EndpointID: d.EndpointID})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("audit entries = %d, %v; want exactly 1", len(page.Entries), err)
	}
}

func testConcurrentSave(t *testing.T, h *harness) {
	// The same draft saved at once from two portal instances (and double clicks on each):
	// exactly one claim wins, so exactly one endpoint is created and one audit entry written.
	key := h.newKey()
	a, b := h.open(h.keyring(key)), h.open(h.keyring(key))
	ctx := h.ctx()
	const rounds, perInstance = 10, 4
	for round := range rounds {
		d := mustDraft(t, h, a, "alice", secretsOf(map[endpoint.SecretPurpose]string{endpoint.PurposeSASKey: "secret-value"}))
		var (
			wg      sync.WaitGroup
			winners atomic.Int32
			created sync.Map // endpoint ids "created in Dataverse"
			errs    = make([]error, 2*perInstance)
			start   = make(chan struct{})
		)
		for i := range 2 * perInstance {
			st := a
			if i%2 == 1 {
				st = b
			}
			wg.Go(func() {
				<-start
				claim, err := st.ClaimDraftForSave(ctx, d.ID, "alice", d.Version)
				switch {
				case errors.Is(err, store.ErrDraftSaving), errors.Is(err, store.ErrDraftSaved):
					return
				case err != nil:
					errs[i] = err
					return
				}
				winners.Add(1)
				if _, dup := created.LoadOrStore(claim.Draft.EndpointID, true); dup {
					errs[i] = errors.New("endpoint created twice")
				}
				_, errs[i] = st.FinishDraftSave(ctx, claim, sampleSave("payments"))
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: errors:%s", round, fmtErrs(errs))
			}
		}
		if winners.Load() != 1 {
			t.Fatalf("round %d: %d claims won, want exactly 1", round, winners.Load())
		}
		page, err := b.ListAudit(ctx, store.AuditFilter{EndpointID: d.EndpointID})
		if err != nil || len(page.Entries) != 1 {
			t.Fatalf("round %d: %d audit entries (%v), want exactly 1", round, len(page.Entries), err)
		}
		// The draft started on A is finished and readable on B.
		if got, err := b.GetDraft(ctx, d.ID, "alice"); err != nil || got.Status != store.DraftSaved {
			t.Fatalf("round %d: draft on the other instance = %+v, %v", round, got, err)
		}
	}
}
