package storetest

import (
	"testing"

	"github.com/contoso/sbportal/store"
)

// testAuditClientAndActor: an entry records the client address of its request (given, or from
// the context), and the audit log finds a person by stable key or by name.
func testAuditClientAndActor(t *testing.T, h *harness) {
	s := h.open(store.Keyring{})
	ctx := store.WithClientAddress(h.ctx(), "203.0.113.7")
	for _, e := range []store.AuditEntry{
		{ActorKey: "tid/alice", ActorName: "Alice Admin", Action: "endpoint.create", Outcome: store.AuditSucceeded},
		{ActorKey: "tid/bob", ActorName: "Bob Builder", Action: "endpoint.edit", Outcome: store.AuditSucceeded, ClientAddress: "2001:db8::5"},
		{ActorKey: "tid/alice2", ActorName: "alice admin", Action: "endpoint.delete", Outcome: store.AuditFailed},
	} {
		if _, err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AppendAudit(h.ctx(), store.AuditEntry{ActorKey: "tid/carol", ActorName: "Carol", Action: "endpoint.rekey", Outcome: store.AuditSucceeded}); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListAudit(h.ctx(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{}
	for _, e := range page.Entries {
		addrs[e.ActorKey] = e.ClientAddress
	}
	if addrs["tid/alice"] != "203.0.113.7" || addrs["tid/bob"] != "2001:db8::5" || addrs["tid/carol"] != "" {
		t.Errorf("client addresses = %v", addrs)
	}
	for actor, want := range map[string]int{"tid/bob": 1, "Bob Builder": 1, "ALICE ADMIN": 2, "tid/alice": 1, "nobody": 0} {
		p, err := s.ListAudit(h.ctx(), store.AuditFilter{Actor: actor})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) != want {
			t.Errorf("actor %q: %d entries, want %d", actor, len(p.Entries), want)
		}
	}
}
