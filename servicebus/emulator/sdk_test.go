package emulator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

func noRetry() *azservicebus.ClientOptions {
	return &azservicebus.ClientOptions{RetryOptions: azservicebus.RetryOptions{MaxRetries: -1}}
}

func newSBClient(t *testing.T, cs string) *azservicebus.Client {
	t.Helper()
	client, err := azservicebus.NewClientFromConnectionString(cs, noRetry())
	if err != nil {
		t.Fatalf("NewClientFromConnectionString: %v", err)
	}
	t.Cleanup(func() { client.Close(context.Background()) })
	return client
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSDKSendReceiveAndDelete(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	client := newSBClient(t, connString(t, srv, addr, DefaultManagePolicy, ""))
	sender, err := client.NewSender(DefaultQueue, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"validation":true}`)
	if err := sender.SendMessage(ctx, &azservicebus.Message{Body: body, ApplicationProperties: map[string]any{"kind": "probe"}}, nil); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 1 {
		t.Fatalf("queue holds %d messages after one send, want 1", n)
	}
	receiver, err := client.NewReceiverForQueue(DefaultQueue, &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := receiver.ReceiveMessages(ctx, 10, nil)
	if err != nil {
		t.Fatalf("ReceiveMessages: %v", err)
	}
	if len(msgs) != 1 || string(msgs[0].Body) != string(body) || msgs[0].ApplicationProperties["kind"] != "probe" {
		t.Fatalf("received %+v, want the sent message", msgs)
	}
	if msgs[0].SequenceNumber == nil || *msgs[0].SequenceNumber != 1 {
		t.Errorf("sequence number = %v, want 1", msgs[0].SequenceNumber)
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 0 {
		t.Fatalf("queue holds %d messages after receive-and-delete, want 0", n)
	}
}

func sbCode(err error) azservicebus.Code {
	var sbErr *azservicebus.Error
	if errors.As(err, &sbErr) {
		return sbErr.Code
	}
	return ""
}

func TestSDKPeekLockCompleteAndAbandon(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	client := newSBClient(t, connString(t, srv, addr, DefaultManagePolicy, ""))
	sender, _ := client.NewSender(DefaultQueue, nil)
	for _, b := range []string{"one", "two"} {
		if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte(b)}, nil); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
	}
	receiver, err := client.NewReceiverForQueue(DefaultQueue, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := receiver.ReceiveMessages(ctx, 1, nil)
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "one" {
		t.Fatalf("ReceiveMessages = %d messages (%q), %v; want message one", len(msgs), msgs[0].Body, err)
	}
	if msgs[0].LockToken == ([16]byte{}) || msgs[0].LockedUntil == nil {
		t.Errorf("peek-lock message has no lock token or locked-until: %+v", msgs[0])
	}
	before := *msgs[0].LockedUntil
	time.Sleep(20 * time.Millisecond)
	if err := receiver.RenewMessageLock(ctx, msgs[0], nil); err != nil {
		t.Fatalf("RenewMessageLock: %v", err)
	}
	if !msgs[0].LockedUntil.After(before) {
		t.Errorf("lock not extended: %v -> %v", before, *msgs[0].LockedUntil)
	}
	if err := receiver.AbandonMessage(ctx, msgs[0], nil); err != nil {
		t.Fatalf("AbandonMessage: %v", err)
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 2 {
		t.Fatalf("queue holds %d after abandon, want 2", n)
	}
	got := map[string]bool{}
	for len(got) < 2 {
		msgs, err := receiver.ReceiveMessages(ctx, 2, nil)
		if err != nil {
			t.Fatalf("ReceiveMessages: %v", err)
		}
		for _, m := range msgs {
			if string(m.Body) == "one" && m.DeliveryCount != 2 {
				t.Errorf("abandoned message delivery count = %d, want 2 (header %+v)", m.DeliveryCount, m.RawAMQPMessage.Header)
			}
			if err := receiver.CompleteMessage(ctx, m, nil); err != nil {
				t.Fatalf("CompleteMessage: %v", err)
			}
			got[string(m.Body)] = true
		}
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 0 {
		t.Fatalf("queue holds %d after completing both, want 0", n)
	}
}

func TestSDKPeekScheduleCancel(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	client := newSBClient(t, connString(t, srv, addr, DefaultManagePolicy, ""))
	sender, _ := client.NewSender(DefaultQueue, nil)
	if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte("now")}, nil); err != nil {
		t.Fatal(err)
	}
	seqs, err := sender.ScheduleMessages(ctx, []*azservicebus.Message{{Body: []byte("later")}}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatalf("ScheduleMessages: %v", err)
	}
	if len(seqs) != 1 || seqs[0] != 2 {
		t.Fatalf("ScheduleMessages returned %v, want [2]", seqs)
	}
	receiver, _ := client.NewReceiverForQueue(DefaultQueue, nil)
	peeked, err := receiver.PeekMessages(ctx, 10, nil)
	if err != nil {
		t.Fatalf("PeekMessages: %v", err)
	}
	if len(peeked) != 2 || string(peeked[0].Body) != "now" || string(peeked[1].Body) != "later" {
		t.Fatalf("peeked %d messages, want now and later", len(peeked))
	}
	if *peeked[1].SequenceNumber != 2 || peeked[1].State != azservicebus.MessageStateScheduled {
		t.Errorf("scheduled message peeked with seq %d state %v", *peeked[1].SequenceNumber, peeked[1].State)
	}
	if err := sender.CancelScheduledMessages(ctx, seqs, nil); err != nil {
		t.Fatalf("CancelScheduledMessages: %v", err)
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 1 {
		t.Fatalf("queue holds %d after cancel, want 1", n)
	}
	// Peek again from the start: the cancelled message is gone, the other is still there.
	from := int64(0)
	peeked, err = receiver.PeekMessages(ctx, 10, &azservicebus.PeekMessagesOptions{FromSequenceNumber: &from})
	if err != nil || len(peeked) != 1 || string(peeked[0].Body) != "now" {
		t.Fatalf("peek after cancel = %d messages, %v", len(peeked), err)
	}
	// A message scheduled in the near past becomes available at once.
	if _, err := sender.ScheduleMessages(ctx, []*azservicebus.Message{{Body: []byte("due")}}, time.Now().Add(-time.Second), nil); err != nil {
		t.Fatal(err)
	}
	msgs, err := receiver.ReceiveMessages(ctx, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for len(msgs) < 2 {
		more, err := receiver.ReceiveMessages(ctx, 2-len(msgs), nil)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, more...)
	}
	if string(msgs[0].Body) != "now" || string(msgs[1].Body) != "due" {
		t.Errorf("received %q, %q; want now, due", msgs[0].Body, msgs[1].Body)
	}
}

func TestSDKTopicFanOut(t *testing.T) {
	cfg := DefaultConfig()
	cfg.UserConfig.Namespaces[0].Topics[0].Subscriptions = append(cfg.UserConfig.Namespaces[0].Topics[0].Subscriptions, SubscriptionConfig{Name: "billing"})
	srv, addr := startServer(t, cfg, Options{})
	ctx := testCtx(t)
	client := newSBClient(t, connString(t, srv, addr, DefaultManagePolicy, ""))
	sender, _ := client.NewSender(DefaultTopic, nil)
	if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte("event")}, nil); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	for _, sub := range []string{DefaultSubscription, "billing"} {
		r, err := client.NewReceiverForSubscription(DefaultTopic, sub, &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := r.ReceiveMessages(ctx, 1, nil)
		if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "event" {
			t.Fatalf("subscription %s received %v, %v", sub, msgs, err)
		}
	}
}

func TestInspectMessages(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	client := newSBClient(t, connString(t, srv, addr, DefaultSendPolicy, ""))
	sender, _ := client.NewSender(DefaultTopic, nil)
	id, ct := "probe-1", "application/json"
	ttl := 5 * time.Minute
	if err := sender.SendMessage(ctx, &azservicebus.Message{MessageID: &id, ContentType: &ct, TimeToLive: &ttl, Body: []byte(`{"a":1}`),
		ApplicationProperties: map[string]any{"http://schemas.microsoft.com/xrm/2011/Claims/Organization": "org.crm.dynamics.com"}}, nil); err != nil {
		t.Fatal(err)
	}
	msgs, err := srv.Messages(DefaultNamespace, DefaultTopic+"/Subscriptions/"+DefaultSubscription, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Messages = %v, %v", msgs, err)
	}
	m := msgs[0]
	if m.MessageID != id || m.ContentType != ct || string(m.Body) != `{"a":1}` || m.TimeToLive != ttl || m.ExpiresAt.IsZero() ||
		m.ApplicationProperties["http://schemas.microsoft.com/xrm/2011/Claims/Organization"] != "org.crm.dynamics.com" {
		t.Errorf("stored message = %+v", m)
	}
	if _, err := srv.MessageCount(DefaultNamespace, "nope"); !errors.Is(err, ErrUnknownEntity) {
		t.Errorf("MessageCount of an unknown queue: %v", err)
	}
}

// Scheduling on a topic returns one number that cancels the message in every subscription
// and leaves their other messages alone.
func TestTopicScheduleCancel(t *testing.T) {
	cfg := DefaultConfig()
	cfg.UserConfig.Namespaces[0].Topics[0].Subscriptions = append(cfg.UserConfig.Namespaces[0].Topics[0].Subscriptions, SubscriptionConfig{Name: "billing"})
	srv, addr := startServer(t, cfg, Options{})
	ctx := testCtx(t)
	client := newSBClient(t, connString(t, srv, addr, DefaultManagePolicy, ""))
	// Make the subscriptions' contents differ: "first" stays only in "audit".
	sender, _ := client.NewSender(DefaultTopic, nil)
	if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte("first")}, nil); err != nil {
		t.Fatal(err)
	}
	r, _ := client.NewReceiverForSubscription(DefaultTopic, "billing", &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	if msgs, err := r.ReceiveMessages(ctx, 1, nil); err != nil || len(msgs) != 1 {
		t.Fatalf("receive from billing: %v %v", msgs, err)
	}
	if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte("second")}, nil); err != nil {
		t.Fatal(err)
	}
	seqs, err := sender.ScheduleMessages(ctx, []*azservicebus.Message{{Body: []byte("later")}}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.CancelScheduledMessages(ctx, seqs, nil); err != nil {
		t.Fatal(err)
	}
	for sub, want := range map[string][]string{DefaultSubscription: {"first", "second"}, "billing": {"second"}} {
		msgs, err := srv.Messages(DefaultNamespace, DefaultTopic+"/Subscriptions/"+sub, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range msgs {
			got = append(got, string(m.Body))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("subscription %s holds %v, want %v", sub, got, want)
		}
	}
}
