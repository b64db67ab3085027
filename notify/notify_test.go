package notify_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/notify"
	"github.com/contoso/sbportal/notify/devsmtp"
	"github.com/contoso/sbportal/store"
)

// TestSendDueOverRealSockets queues one change for a team with a webhook and an e-mail address
// and sends it to an HTTP server and the stand-in SMTP recipient; a webhook that fails is
// retried after the delay and counted, and its URL's key appears in no error.
func TestSendDueOverRealSockets(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"), store.Keyring{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var fail atomic.Bool
	var mu sync.Mutex
	var posted []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var v map[string]string
		_ = json.NewDecoder(r.Body).Decode(&v)
		mu.Lock()
		posted = append(posted, v["text"])
		mu.Unlock()
	}))
	defer hook.Close()
	mail, err := devsmtp.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mail.Close()

	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	var counted sync.Map
	secretURL := hook.URL + "/webhookb2/abc?sig=TOPSECRETKEY"
	n := notify.New(notify.Options{Store: st, PortalURL: "https://portal.contoso.com",
		Targets: map[string]notify.Target{"Integration": {WebhookURL: endpoint.NewSecret(secretURL), Email: []string{"integration@contoso.example"}}},
		SMTP:    notify.SMTP{Addr: mail.Addr(), From: "portal@contoso.example"},
		Now:     func() time.Time { return now },
		Observe: func(ch, outcome string) {
			v, _ := counted.LoadOrStore(ch+"/"+outcome, new(atomic.Int32))
			v.(*atomic.Int32).Add(1)
		}})
	count := func(k string) int32 {
		v, ok := counted.Load(k)
		if !ok {
			return 0
		}
		return v.(*atomic.Int32).Load()
	}
	if got := n.Compose(notify.Event{Team: "Finance", EndpointName: "x", Failing: true}); len(got) != 0 {
		t.Fatalf("a team without a target got %d notifications", len(got))
	}
	notes := n.Compose(notify.Event{Team: "Integration", Environment: "contoso-dev", EnvironmentName: "Contoso Dev",
		EndpointID: "6f1e2a4c-0000-4000-8000-000000000001", EndpointName: "Orders", Failing: true, Reason: "Re-validation failed: wrong key.", At: now})
	if len(notes) != 2 {
		t.Fatalf("Compose = %d notifications, want webhook and e-mail", len(notes))
	}
	if _, err := st.SetFailing(ctx, "contoso-dev", "6f1e2a4c-0000-4000-8000-000000000001", true, "wrong key", now, notes); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	sent, failed, err := n.SendDue(ctx)
	if err != nil || sent != 1 || failed != 1 {
		t.Fatalf("SendDue with a failing webhook = %d sent, %d failed, %v", sent, failed, err)
	}
	list, _ := st.ListNotifications(ctx, 10)
	for _, nt := range list {
		if strings.Contains(nt.LastError, "TOPSECRETKEY") || strings.Contains(nt.LastError, "webhookb2") {
			t.Fatalf("the webhook URL leaked into the stored error: %q", nt.LastError)
		}
	}
	if d := n.Describe("Integration", notify.ChannelWebhook); strings.Contains(d, "TOPSECRETKEY") || strings.Contains(d, "webhookb2") {
		t.Fatalf("Describe shows the webhook URL: %q", d)
	}
	// Not due again until the retry delay has passed.
	fail.Store(false)
	if sent, failed, _ := n.SendDue(ctx); sent+failed != 0 {
		t.Fatalf("a failed send was retried at once: %d sent, %d failed", sent, failed)
	}
	now = now.Add(2 * time.Minute)
	if sent, failed, err := n.SendDue(ctx); sent != 1 || failed != 0 || err != nil {
		t.Fatalf("the retry = %d sent, %d failed, %v", sent, failed, err)
	}
	if sent, failed, _ := n.SendDue(ctx); sent+failed != 0 {
		t.Fatalf("a sent notification was sent again: %d", sent+failed)
	}
	if count("webhook/failed") != 1 || count("webhook/sent") != 1 || count("email/sent") != 1 {
		t.Fatalf("counted: webhook failed %d sent %d, email sent %d", count("webhook/failed"), count("webhook/sent"), count("email/sent"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posted) != 1 || !strings.Contains(posted[0], "Failing: Orders in Contoso Dev") || !strings.Contains(posted[0], "https://portal.contoso.com/endpoints/contoso-dev/") {
		t.Fatalf("webhook got %q", posted)
	}
	got := mail.Mail()
	if len(got) != 1 || got[0].To[0] != "integration@contoso.example" || !strings.Contains(got[0].Data, "Subject: Failing: Orders in Contoso Dev") {
		t.Fatalf("mail = %+v", got)
	}
}
