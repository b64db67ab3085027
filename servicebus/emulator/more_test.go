package emulator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/go-amqp"
)

// dialAuthorized opens a go-amqp session with a manage claim for the namespace.
func dialAuthorized(t *testing.T, addr string, opts *amqp.ConnOptions) (*amqp.Conn, *amqp.Session) {
	t.Helper()
	ctx := testCtx(t)
	if opts == nil {
		opts = &amqp.ConnOptions{}
	}
	opts.SASLType = amqp.SASLTypeAnonymous()
	conn, err := amqp.Dial(ctx, "amqp://"+addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	session, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	aud := "amqp://" + addr + "/"
	if status, desc := putToken(t, ctx, session, aud, SignSAS(aud, DefaultManagePolicy, DefaultManagePrimaryKey, time.Now().Add(time.Hour))); status != 202 {
		t.Fatalf("put-token: %d %s", status, desc)
	}
	return conn, session
}

func TestDrainAndHeartbeats(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	// The client asks for frames at least every 400 ms: the emulator must send empty frames
	// while nothing else happens, or go-amqp drops the connection.
	_, session := dialAuthorized(t, addr, &amqp.ConnOptions{IdleTimeout: 400 * time.Millisecond})
	receiver, err := session.NewReceiver(ctx, DefaultQueue, &amqp.ReceiverOptions{Credit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := receiver.IssueCredit(5); err != nil {
		t.Fatal(err)
	}
	// Drain on an empty queue: the emulator must answer, consuming the credit.
	if err := receiver.DrainCredit(ctx, nil); err != nil {
		t.Fatalf("DrainCredit: %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
	sender, err := session.NewSender(ctx, DefaultQueue, nil)
	if err != nil {
		t.Fatalf("NewSender after idling: %v", err)
	}
	if err := sender.Send(ctx, amqp.NewMessage([]byte("after idle")), nil); err != nil {
		t.Fatalf("Send after idling: %v", err)
	}
	// Drained credit is gone: nothing is delivered until new credit arrives.
	time.Sleep(100 * time.Millisecond)
	if m := receiver.Prefetched(); m != nil {
		t.Fatalf("message delivered without credit")
	}
	if err := receiver.IssueCredit(1); err != nil {
		t.Fatal(err)
	}
	msg, err := receiver.Receive(ctx, nil)
	if err != nil || string(msg.GetData()) != "after idle" {
		t.Fatalf("Receive: %v", err)
	}
	if err := receiver.AcceptMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return srv.queueLen(DefaultNamespace, DefaultQueue) == 0 }, "message completed")
}

func TestLockExpiryAndDeadLetter(t *testing.T) {
	cfg := DefaultConfig()
	cfg.UserConfig.Namespaces[0].Queues[0].Properties.LockDuration = "PT0.3S"
	cfg.UserConfig.Namespaces[0].Queues[0].Properties.MaxDeliveryCount = 3
	srv, addr := startServer(t, cfg, Options{})
	ctx := testCtx(t)
	client := newSBClient(t, connString(t, srv, addr, DefaultManagePolicy, ""))
	sender, _ := client.NewSender(DefaultQueue, nil)
	for _, b := range []string{"expires", "poison"} {
		if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte(b)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	receiver, _ := client.NewReceiverForQueue(DefaultQueue, nil)
	first, err := receiver.ReceiveMessages(ctx, 1, nil)
	if err != nil || len(first) != 1 || string(first[0].Body) != "expires" {
		t.Fatalf("first receive: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // the lock runs out; the message returns
	if err := receiver.CompleteMessage(ctx, first[0], nil); err == nil {
		t.Error("completing a message whose lock expired succeeded")
	}
	again, err := receiver.ReceiveMessages(ctx, 1, nil)
	if err != nil || len(again) != 1 || string(again[0].Body) != "expires" || again[0].DeliveryCount != 2 {
		t.Fatalf("after lock expiry got %v (count %d), %v", again, again[0].DeliveryCount, err)
	}
	if err := receiver.DeadLetterMessage(ctx, again[0], &azservicebus.DeadLetterOptions{Reason: to("test")}); err != nil {
		t.Fatalf("DeadLetterMessage: %v", err)
	}
	dlq, _ := client.NewReceiverForQueue(DefaultQueue, &azservicebus.ReceiverOptions{SubQueue: azservicebus.SubQueueDeadLetter, ReceiveMode: azservicebus.ReceiveModeReceiveAndDelete})
	dead, err := dlq.ReceiveMessages(ctx, 1, nil)
	if err != nil || len(dead) != 1 || string(dead[0].Body) != "expires" {
		t.Fatalf("dead-letter queue: %v, %v", dead, err)
	}
	// Abandoning "poison" MaxDeliveryCount times moves it to the dead-letter queue.
	for i := range 3 {
		msgs, err := receiver.ReceiveMessages(ctx, 1, nil)
		if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "poison" {
			t.Fatalf("abandon round %d: %v, %v", i, msgs, err)
		}
		if err := receiver.AbandonMessage(ctx, msgs[0], nil); err != nil {
			t.Fatal(err)
		}
	}
	dead, err = dlq.ReceiveMessages(ctx, 1, nil)
	if err != nil || len(dead) != 1 || string(dead[0].Body) != "poison" {
		t.Fatalf("poison message not dead-lettered: %v, %v", dead, err)
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 0 {
		t.Errorf("queue holds %d, want 0", n)
	}
}

func TestEventHubAuthorization(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	noRetryEH := azeventhubs.RetryOptions{MaxRetries: -1}
	send := func(cs, hub string) error {
		p, err := azeventhubs.NewProducerClientFromConnectionString(cs, hub, &azeventhubs.ProducerClientOptions{RetryOptions: noRetryEH})
		if err != nil {
			return err
		}
		defer p.Close(context.Background())
		batch, err := p.NewEventDataBatch(ctx, nil)
		if err != nil {
			return err
		}
		if err := batch.AddEventData(&azeventhubs.EventData{Body: []byte("e")}, nil); err != nil {
			return err
		}
		return p.SendEventDataBatch(ctx, batch, nil)
	}
	if err := send(connString(t, srv, addr, DefaultSendPolicy, ""), DefaultEventHub); err != nil {
		t.Fatalf("send with a send-only policy: %v", err)
	}
	err := send(connString(t, srv, addr, DefaultListenPolicy, ""), DefaultEventHub)
	if err == nil || !strings.Contains(err.Error(), "'Send' claim(s) are required") {
		t.Fatalf("send with a listen-only policy: %v", err)
	}
	err = send(connString(t, srv, addr, DefaultSendPolicy, ""), "no-such-hub")
	if err == nil || !strings.Contains(err.Error(), "could not be found") {
		t.Fatalf("send to an unknown hub: %v", err)
	}
}

func TestCloseDisconnectsClients(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	_, session := dialAuthorized(t, addr, nil)
	receiver, err := session.NewReceiver(ctx, DefaultQueue, nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := receiver.Receive(ctx, nil)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Receive returned a message from a closed emulator")
		}
		if !strings.Contains(err.Error(), "shutting down") {
			t.Logf("receiver error after Close: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("receiver still blocked after Close")
	}
}

func TestScheduledEnqueueTimeAndRights(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	client := newSBClient(t, connString(t, srv, addr, DefaultSendPolicy, ""))
	sender, _ := client.NewSender(DefaultQueue, nil)
	soon := time.Now().Add(300 * time.Millisecond)
	if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte("soon"), ScheduledEnqueueTime: &soon}, nil); err != nil {
		t.Fatal(err)
	}
	listen := newSBClient(t, connString(t, srv, addr, DefaultListenPolicy, ""))
	receiver, _ := listen.NewReceiverForQueue(DefaultQueue, nil)
	peeked, err := receiver.PeekMessages(ctx, 1, nil)
	if err != nil || len(peeked) != 1 || peeked[0].State != azservicebus.MessageStateScheduled {
		t.Fatalf("peek of a scheduled message: %v, %v", peeked, err)
	}
	msgs, err := receiver.ReceiveMessages(ctx, 1, nil)
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != "soon" {
		t.Fatalf("ReceiveMessages: %v, %v", msgs, err)
	}
	// AMQP timestamps carry milliseconds: the schedule is soon, truncated to the millisecond.
	if time.Now().Before(soon.Truncate(time.Millisecond)) {
		t.Errorf("scheduled message delivered before its time")
	}
	// Scheduling needs Send: with a listen-only policy the SDK is refused (its sender attach
	// and the schedule operation both need the claim).
	lsender, _ := listen.NewSender(DefaultQueue, nil)
	_, err = lsender.ScheduleMessages(ctx, []*azservicebus.Message{{Body: []byte("x")}}, time.Now().Add(time.Hour), nil)
	if sbCode(err) != azservicebus.CodeUnauthorizedAccess {
		t.Fatalf("schedule with a listen-only policy: %v", err)
	}
}

func TestAttachToUnknownEntity(t *testing.T) {
	_, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	_, session := dialAuthorized(t, addr, nil)
	for _, address := range []string{"nope", DefaultTopic + "/Subscriptions/nope", DefaultEventHub + "/Partitions/7", DefaultEventHub + "/ConsumerGroups/nope/Partitions/0"} {
		_, err := session.NewReceiver(ctx, address, nil)
		var amqpErr *amqp.Error
		if !errors.As(err, &amqpErr) || amqpErr.Condition != amqp.ErrCondNotFound || !strings.Contains(amqpErr.Description, "could not be found") {
			t.Errorf("receiver for %q: %v, want amqp:not-found", address, err)
		}
	}
	// Sending to a subscription is not possible either.
	if _, err := session.NewSender(ctx, DefaultTopic+"/Subscriptions/"+DefaultSubscription, nil); err == nil {
		t.Error("sender attached to a subscription")
	}
}
