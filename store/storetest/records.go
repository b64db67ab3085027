package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/store"
)

func endpointID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func testOwnership(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	ctx := h.ctx()
	for i := range 5 {
		team := "payments"
		if i%2 == 1 {
			team = "billing"
		}
		if _, err := s.SetOwnership(ctx, store.Ownership{Environment: "prod", EndpointID: endpointID(i), Team: team,
			RegisteredBy: "alice", RegisteredByName: "Alice"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetOwnership(ctx, store.Ownership{Environment: "test", EndpointID: endpointID(0), Team: "payments", RegisteredBy: "bob"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOwnership(ctx, "prod", strings.ToUpper(endpointID(1)))
	if err != nil {
		t.Fatalf("lookup by upper-case GUID: %v", err)
	}
	want := store.Ownership{Environment: "prod", EndpointID: endpointID(1), Team: "billing", RegisteredBy: "alice",
		RegisteredByName: "Alice", RegisteredAt: h.clock.Now()}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetOwnership = %+v\nwant %+v", got, want)
	}
	if _, err := s.GetOwnership(ctx, "test", endpointID(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other environment: err = %v, want ErrNotFound", err)
	}

	ids := []string{endpointID(0), endpointID(2), endpointID(4), endpointID(99), strings.ToUpper(endpointID(3))}
	bulk, err := s.OwnershipOf(ctx, "prod", ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(bulk) != 4 || bulk[endpointID(3)].Team != "billing" || bulk[endpointID(4)].Team != "payments" {
		t.Fatalf("OwnershipOf = %+v", bulk)
	}
	if _, ok := bulk[endpointID(99)]; ok {
		t.Fatal("OwnershipOf invented an owner for an unknown endpoint")
	}
	// More ids than one query carries.
	many := make([]string, 1200)
	for i := range many {
		many[i] = endpointID(i)
	}
	if bulk, err := s.OwnershipOf(ctx, "prod", many); err != nil || len(bulk) != 5 {
		t.Fatalf("OwnershipOf 1,200 ids = %d owners, %v; want 5", len(bulk), err)
	}

	if bulk, err := s.OwnershipOf(ctx, "prod", nil); err != nil || len(bulk) != 0 {
		t.Fatalf("OwnershipOf no ids = %v, %v; want empty", bulk, err)
	}

	team, err := s.OwnershipByTeam(ctx, "payments")
	if err != nil {
		t.Fatal(err)
	}
	if len(team) != 4 || team[0].Environment != "prod" || team[3].Environment != "test" {
		t.Fatalf("OwnershipByTeam = %+v", team)
	}

	if env, err := s.OwnershipInEnvironment(ctx, "test"); err != nil || len(env) != 1 || env[0].RegisteredBy != "bob" {
		t.Fatalf("OwnershipInEnvironment(test) = %+v, %v", env, err)
	}
	if env, err := s.OwnershipInEnvironment(ctx, "prod"); err != nil || len(env) != 5 {
		t.Fatalf("OwnershipInEnvironment(prod) = %d records, %v; want 5", len(env), err)
	}

	// Transfer to another team.
	if _, err := s.SetOwnership(ctx, store.Ownership{Environment: "prod", EndpointID: endpointID(0), Team: "billing", RegisteredBy: "carol"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetOwnership(ctx, "prod", endpointID(0)); got.Team != "billing" {
		t.Fatalf("after transfer: %+v", got)
	}
	if err := s.DeleteOwnership(ctx, "prod", endpointID(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOwnership(ctx, "prod", endpointID(0)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: err = %v", err)
	}
	if _, err := s.SetOwnership(ctx, store.Ownership{Environment: "prod", EndpointID: endpointID(7)}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("ownership without team: err = %v, want ErrInvalid", err)
	}
}

func testValidationRuns(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	ctx := h.ctx()
	var last map[string]store.ValidationRun = map[string]store.ValidationRun{}
	for i := range 3 {
		for j := range 3 {
			h.clock.Advance(time.Minute)
			r := store.ValidationRun{Environment: "prod", EndpointID: endpointID(i), RunBy: "alice", RunByName: "Alice",
				StartedAt: h.clock.Now(), Duration: time.Duration(100+j) * time.Millisecond,
				Result: store.ValidationFailed, Cause: "unauthorized", Summary: fmt.Sprintf("run %d", j),
				Warnings: []string{"namespace-wide policy"}}
			if j == 2 && i != 1 {
				r.Result, r.Cause, r.Warnings = store.ValidationPassed, "", nil
			}
			got, err := s.RecordValidationRun(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID == 0 {
				t.Fatal("no id")
			}
			last[endpointID(i)] = got
		}
	}
	// Same endpoint id in another environment must not leak in.
	if _, err := s.RecordValidationRun(ctx, store.ValidationRun{Environment: "test", EndpointID: endpointID(0), RunBy: "bob",
		Result: store.ValidationFailed, Summary: "other env"}); err != nil {
		t.Fatal(err)
	}

	latest, err := s.LatestValidationRuns(ctx, "prod", []string{endpointID(0), endpointID(1), endpointID(2), endpointID(42)})
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 3 {
		t.Fatalf("LatestValidationRuns has %d endpoints, want 3", len(latest))
	}
	for id, want := range last {
		if !reflect.DeepEqual(latest[id], want) {
			t.Fatalf("latest for %s = %+v\nwant %+v", id, latest[id], want)
		}
	}
	if latest[endpointID(1)].Result != store.ValidationFailed || latest[endpointID(0)].Result != store.ValidationPassed {
		t.Fatal("latest results mixed up")
	}

	if none, err := s.LatestValidationRuns(ctx, "prod", []string{}); err != nil || len(none) != 0 {
		t.Fatalf("LatestValidationRuns no ids = %v, %v; want empty", none, err)
	}

	hist, err := s.ValidationHistory(ctx, "prod", endpointID(0), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Summary != "run 2" || hist[1].Summary != "run 1" {
		t.Fatalf("history (limit 2) = %+v", hist)
	}

	// Draft runs: the latest says which version passed.
	if _, err := s.LatestDraftValidation(ctx, "no-such-draft"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("never validated draft: err = %v", err)
	}
	for v := int64(1); v <= 2; v++ {
		if _, err := s.RecordValidationRun(ctx, store.ValidationRun{Environment: "prod", DraftID: "draft-1", DraftVersion: v,
			RunBy: "alice", Result: store.ValidationPassed, Summary: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.LatestDraftValidation(ctx, "draft-1"); err != nil || r.DraftVersion != 2 {
		t.Fatalf("LatestDraftValidation = %+v, %v", r, err)
	}
	for _, bad := range []store.ValidationRun{
		{Environment: "prod", RunBy: "a", Result: store.ValidationPassed},
		{Environment: "prod", EndpointID: endpointID(1), RunBy: "a", Result: "maybe"},
		{EndpointID: endpointID(1), RunBy: "a", Result: store.ValidationPassed},
	} {
		if _, err := s.RecordValidationRun(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("RecordValidationRun(%+v): err = %v, want ErrInvalid", bad, err)
		}
	}
}

func testAudit(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	ctx := h.ctx()
	start := h.clock.Now()
	var all []store.AuditEntry
	for i := range 12 {
		h.clock.Advance(time.Minute)
		e := store.AuditEntry{ActorKey: []string{"alice", "bob"}[i%2], ActorName: "Someone",
			Action: []string{"endpoint.create", "endpoint.update", "endpoint.delete"}[i%3], Environment: []string{"prod", "test"}[i/6],
			EndpointID: endpointID(i % 4), EndpointName: fmt.Sprintf("ep-%d", i%4),
			Before: json.RawMessage(`{"path":"old"}`), After: json.RawMessage(`{"path":"new","issaskeyset":true}`),
			Outcome: store.AuditSucceeded, RequestID: fmt.Sprintf("req-%d", i)}
		if i == 0 {
			e.Before = nil
		}
		got, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 || !got.At.Equal(h.clock.Now()) {
			t.Fatalf("appended = %+v", got)
		}
		all = append(all, got)
	}
	page, err := s.ListAudit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 12 || page.NextBeforeID != 0 {
		t.Fatalf("unfiltered = %d entries, next %d", len(page.Entries), page.NextBeforeID)
	}
	if !reflect.DeepEqual(page.Entries[0], all[11]) || !reflect.DeepEqual(page.Entries[11], all[0]) {
		t.Fatalf("newest first, round-tripped:\n got %+v\nwant %+v", page.Entries[0], all[11])
	}

	// Paging walks every entry once.
	var seen []int64
	f := store.AuditFilter{Limit: 5}
	for {
		p, err := s.ListAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			seen = append(seen, e.ID)
		}
		if p.NextBeforeID == 0 {
			break
		}
		f.BeforeID = p.NextBeforeID
	}
	if len(seen) != 12 || seen[0] != all[11].ID || seen[11] != all[0].ID {
		t.Fatalf("paged ids = %v", seen)
	}

	count := func(f store.AuditFilter) int {
		t.Helper()
		p, err := s.ListAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Entries)
	}
	for name, tc := range map[string]struct {
		f    store.AuditFilter
		want int
	}{
		"actor":       {store.AuditFilter{ActorKey: "alice"}, 6},
		"action":      {store.AuditFilter{Action: "endpoint.delete"}, 4},
		"environment": {store.AuditFilter{Environment: "test"}, 6},
		"endpoint":    {store.AuditFilter{EndpointID: strings.ToUpper(endpointID(1))}, 3},
		"since":       {store.AuditFilter{Since: start.Add(10 * time.Minute)}, 3},
		"until":       {store.AuditFilter{Until: start.Add(3 * time.Minute)}, 2},
		"combined":    {store.AuditFilter{ActorKey: "bob", Environment: "prod", Action: "endpoint.update"}, 1},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("filter %s: %d entries, want %d", name, got, tc.want)
		}
	}
	if _, err := s.AppendAudit(ctx, store.AuditEntry{ActorKey: "a", Action: "x", Outcome: "perhaps"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad outcome: err = %v, want ErrInvalid", err)
	}
}

func testAuditRefusesSecrets(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	for _, doc := range []string{
		`{"saskey":"abc"}`,
		`{"SASKey":"abc"}`,
		`{"nested":{"auth_value":"<settings/>"}}`,
		`{"connection":"Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc"}`,
		`{"token":"SharedAccessSignature sr=x&sig=y&se=1&skn=z"}`,
		`["not","an","object"]`,
		`{broken`,
	} {
		_, err := s.AppendAudit(h.ctx(), store.AuditEntry{ActorKey: "alice", Action: "endpoint.update", Outcome: store.AuditSucceeded,
			After: json.RawMessage(doc)})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("audit with %s: err = %v, want ErrInvalid", doc, err)
		}
		if err != nil && strings.Contains(err.Error(), "abc") {
			t.Errorf("the refusal repeats the secret: %v", err)
		}
	}
	if p, _ := s.ListAudit(h.ctx(), store.AuditFilter{}); len(p.Entries) != 0 {
		t.Fatalf("%d refused entries were stored", len(p.Entries))
	}
}

func testAuditAppendOnly(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	e, err := s.AppendAudit(h.ctx(), store.AuditEntry{ActorKey: "alice", ActorName: "Alice", Action: "endpoint.create",
		EndpointName: "orders", Outcome: store.AuditSucceeded})
	if err != nil {
		t.Fatal(err)
	}
	raw := h.raw()
	ctx := h.ctx()
	attempts := []string{
		h.rawQ(`UPDATE audit_entries SET actor_key = 'mallory' WHERE id = ?`),
		h.rawQ(`DELETE FROM audit_entries WHERE id = ?`),
	}
	for _, q := range attempts {
		if _, err := raw.ExecContext(ctx, q, e.ID); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the database to refuse (append-only)", q, err)
		}
	}
	if h.postgres() {
		if _, err := raw.ExecContext(ctx, `TRUNCATE audit_entries`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("TRUNCATE: err = %v, want refused", err)
		}
	}
	page, err := s.ListAudit(ctx, store.AuditFilter{})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].ActorKey != "alice" {
		t.Fatalf("after the attempts: %+v, %v; want the entry unchanged", page.Entries, err)
	}
}
