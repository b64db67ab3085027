package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contoso/sbportal/store"
)

// testEndpointHealth: a change of state is recorded once with its notifications; the same
// state again queues nothing; delivery counts are kept; the outbox retries and marks sends.
func testEndpointHealth(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	ctx := h.ctx()
	const env, id = "contoso-prod", "6F1E2A4C-0000-4000-8000-000000000001"
	got, err := s.GetHealth(ctx, env, id)
	if err != nil || got.Failing() || got.EndpointID != "6f1e2a4c-0000-4000-8000-000000000001" {
		t.Fatalf("GetHealth of a new endpoint = %+v, %v", got, err)
	}
	at := h.clock.Now()
	notes := []store.Notification{{Team: "Integration", Channel: "email", EndpointName: "Orders", Event: "failing", Subject: "Orders is failing", Body: "wrong key"}}
	for i, want := range []bool{true, false} {
		changed, err := s.SetFailing(ctx, env, id, true, "wrong key", at, notes)
		if err != nil || changed != want {
			t.Fatalf("SetFailing(true) #%d = %v, %v; want %v", i, changed, err, want)
		}
	}
	if _, err := s.SetFailing(ctx, env, id, true, "SharedAccessKey=abc", at, nil); err == nil {
		t.Fatal("SetFailing accepted a reason holding a key")
	}
	got, _ = s.GetHealth(ctx, env, id)
	if !got.FailingSince.Equal(at.Truncate(time.Microsecond)) || got.FailingReason != "wrong key" {
		t.Fatalf("after failing: %+v", got)
	}
	d := store.DeliveryFailures{CheckedAt: at, Failed24h: 2, Waiting24h: 1, Failed7d: 5, Waiting7d: 1, LastError: "401", LastErrorAt: at}
	if err := s.RecordDeliveryFailures(ctx, env, id, d); err != nil {
		t.Fatal(err)
	}
	many, err := s.HealthOf(ctx, env, []string{id, "6f1e2a4c-0000-4000-8000-000000000002"})
	if err != nil || len(many) != 1 || many["6f1e2a4c-0000-4000-8000-000000000001"].Deliveries.Failed7d != 5 ||
		!many["6f1e2a4c-0000-4000-8000-000000000001"].Failing() {
		t.Fatalf("HealthOf = %+v, %v", many, err)
	}
	recovered := []store.Notification{{Team: "Integration", Channel: "email", EndpointName: "Orders", Event: "recovered", Subject: "Orders recovered", Body: "ok"}}
	for i, want := range []bool{true, false} {
		if changed, err := s.SetFailing(ctx, env, id, false, "", at.Add(time.Hour), recovered); err != nil || changed != want {
			t.Fatalf("SetFailing(false) #%d = %v, %v; want %v", i, changed, err, want)
		}
	}
	list, err := s.ListNotifications(ctx, 10)
	if err != nil || len(list) != 2 || list[0].Event != "recovered" || list[1].Event != "failing" {
		t.Fatalf("ListNotifications = %+v, %v", list, err)
	}
	due, err := s.DueNotifications(ctx, at, 10)
	if err != nil || len(due) != 1 || due[0].Event != "failing" {
		t.Fatalf("DueNotifications at the first change = %+v, %v", due, err)
	}
	if err := s.NotificationFailed(ctx, due[0].ID, "connection refused", at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueNotifications(ctx, at.Add(time.Hour), 10)
	if len(due) != 1 || due[0].Event != "recovered" {
		t.Fatalf("a failed send is due again before its retry time: %+v", due)
	}
	if err := s.NotificationSent(ctx, due[0].ID, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueNotifications(ctx, at.Add(3*time.Hour), 10)
	if len(due) != 1 || due[0].Event != "failing" || due[0].Attempts != 1 || due[0].LastError != "connection refused" {
		t.Fatalf("retry due = %+v", due)
	}
	// A deleted endpoint's health goes; its notifications stay as history.
	if err := s.DeleteHealth(ctx, env, id); err != nil {
		t.Fatal(err)
	}
	if many, err := s.HealthOf(ctx, env, []string{id}); err != nil || len(many) != 0 {
		t.Fatalf("after DeleteHealth: %+v, %v", many, err)
	}
	if list, _ := s.ListNotifications(ctx, 10); len(list) != 2 {
		t.Fatalf("DeleteHealth removed notifications: %d left", len(list))
	}
}

// testRevalidationClaim: many stores claiming one endpoint for one round: exactly one wins; a
// later round may claim it again.
func testRevalidationClaim(t *testing.T, h *harness) {
	a, b := h.open(store.Keyring{}), h.open(store.Keyring{})
	ctx := h.ctx()
	now := h.clock.Now()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			ok, err := s.ClaimRevalidation(ctx, "contoso-prod", "6f1e2a4c-0000-4000-8000-000000000001", now, now.Add(-time.Hour))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claims won one round, want 1", wins.Load())
	}
	later := now.Add(2 * time.Hour)
	if ok, err := a.ClaimRevalidation(ctx, "contoso-prod", "6f1e2a4c-0000-4000-8000-000000000001", later, later.Add(-time.Hour)); !ok || err != nil {
		t.Fatalf("the next round's claim = %v, %v", ok, err)
	}
}
