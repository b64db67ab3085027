package emulator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/Azure/go-amqp"
)

// A generic AMQP 1.0 client (go-amqp used directly, not through the SDKs) connects with SASL
// ANONYMOUS, authorizes through $cbs, sends and receives with explicit settlement.
func TestGenericAMQPClient(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	conn, err := amqp.Dial(ctx, "amqp://"+addr, &amqp.ConnOptions{SASLType: amqp.SASLTypeAnonymous(), IdleTimeout: time.Minute, MaxFrameSize: 512})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	session, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Before any token the attach is refused.
	if _, err := session.NewSender(ctx, DefaultQueue, nil); err == nil {
		t.Fatal("sender attached without a token")
	} else if e, ok := err.(*amqp.Error); !ok || e.Condition != amqp.ErrCondUnauthorizedAccess {
		t.Fatalf("attach without token: %v, want unauthorized-access", err)
	}

	audience := "amqp://" + addr + "/" + DefaultQueue
	status, desc := putToken(t, ctx, session, audience, SignSAS(audience, DefaultManagePolicy, DefaultManagePrimaryKey, time.Now().Add(time.Hour)))
	if status != 202 {
		t.Fatalf("put-token status %d %q, want 202", status, desc)
	}
	status, _ = putToken(t, ctx, session, audience, SignSAS(audience, DefaultManagePolicy, "wrong-key-wrong-key", time.Now().Add(time.Hour)))
	if status != 401 {
		t.Fatalf("put-token with a wrong key: status %d, want 401", status)
	}

	sender, err := session.NewSender(ctx, DefaultQueue, nil)
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	big := make([]byte, 3000) // several 512-byte frames each way
	for i := range big {
		big[i] = byte(i)
	}
	for i := range 3 {
		if err := sender.Send(ctx, amqp.NewMessage(append([]byte(fmt.Sprint(i)), big...)), nil); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	receiver, err := session.NewReceiver(ctx, DefaultQueue, &amqp.ReceiverOptions{Credit: 10, SettlementMode: amqp.ReceiverSettleModeFirst.Ptr()})
	if err != nil {
		t.Fatalf("NewReceiver: %v", err)
	}
	for i := range 3 {
		msg, err := receiver.Receive(ctx, nil)
		if err != nil {
			t.Fatalf("Receive %d: %v", i, err)
		}
		if got := msg.GetData(); string(got[:1]) != fmt.Sprint(i) || len(got) != 3001 || got[3000] != big[2999] {
			t.Fatalf("message %d body corrupted (len %d)", i, len(got))
		}
		if seq := msg.Annotations["x-opt-sequence-number"]; seq != int64(i+1) {
			t.Errorf("x-opt-sequence-number = %v, want %d", seq, i+1)
		}
		if i == 0 {
			// Released: it goes back to the queue and is delivered again after the others.
			if err := receiver.ReleaseMessage(ctx, msg); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := receiver.AcceptMessage(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	again, err := receiver.Receive(ctx, nil)
	if err != nil || string(again.GetData()[:1]) != "0" {
		t.Fatalf("released message not redelivered: %v", err)
	}
	if err := receiver.AcceptMessage(ctx, again); err != nil {
		t.Fatal(err)
	}
	// In receiver-settles-first mode the client does not wait for the disposition to arrive.
	waitFor(t, func() bool { return srv.queueLen(DefaultNamespace, DefaultQueue) == 0 }, "queue empty after accepting all")
	if err := receiver.Close(ctx); err != nil {
		t.Errorf("receiver close: %v", err)
	}
	if err := sender.Close(ctx); err != nil {
		t.Errorf("sender close: %v", err)
	}
	if err := session.Close(ctx); err != nil {
		t.Errorf("session close: %v", err)
	}
}

func putToken(t *testing.T, ctx context.Context, session *amqp.Session, audience, token string) (int32, string) {
	t.Helper()
	const replyTo = "cbs-reply"
	sender, err := session.NewSender(ctx, "$cbs", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close(ctx)
	receiver, err := session.NewReceiver(ctx, "$cbs", &amqp.ReceiverOptions{TargetAddress: replyTo, Credit: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer receiver.Close(ctx)
	msg := &amqp.Message{
		Value:                 token,
		Properties:            &amqp.MessageProperties{MessageID: "req-1", ReplyTo: to(replyTo)},
		ApplicationProperties: map[string]any{"operation": "put-token", "type": "servicebus.windows.net:sastoken", "name": audience, "expiration": time.Now().Add(time.Hour).Unix()},
	}
	if err := sender.Send(ctx, msg, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := receiver.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Properties == nil || resp.Properties.CorrelationID != "req-1" {
		t.Errorf("response correlation-id = %+v, want req-1", resp.Properties)
	}
	status, ok := resp.ApplicationProperties["status-code"].(int32)
	if !ok {
		t.Fatalf("status-code is %T, want int32", resp.ApplicationProperties["status-code"])
	}
	desc, _ := resp.ApplicationProperties["status-description"].(string)
	return status, desc
}
