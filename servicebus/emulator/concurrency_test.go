package emulator

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// 50 clients, each on its own connection, send 100 messages; 5 peek-lock receivers complete
// them concurrently. Every message must arrive exactly once.
func TestConcurrentClientsExactlyOnce(t *testing.T) {
	const clients, perClient, receivers = 50, 100, 5
	srv, addr := startServer(t, DefaultConfig(), Options{})
	cs := connString(t, srv, addr, DefaultManagePolicy, "")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var sendWG sync.WaitGroup
	errs := make(chan error, clients+receivers)
	for c := range clients {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			client, err := azservicebus.NewClientFromConnectionString(cs, noRetry())
			if err != nil {
				errs <- err
				return
			}
			defer client.Close(context.Background())
			sender, err := client.NewSender(DefaultQueue, nil)
			if err != nil {
				errs <- err
				return
			}
			for i := range perClient {
				id := fmt.Sprintf("c%02d-m%03d", c, i)
				if err := sender.SendMessage(ctx, &azservicebus.Message{MessageID: &id, Body: []byte(id)}, nil); err != nil {
					errs <- fmt.Errorf("client %d message %d: %w", c, i, err)
					return
				}
			}
		}()
	}

	var mu sync.Mutex
	seen := map[string]int{}
	total := 0
	var recvWG sync.WaitGroup
	for range receivers {
		recvWG.Add(1)
		go func() {
			defer recvWG.Done()
			client, err := azservicebus.NewClientFromConnectionString(cs, noRetry())
			if err != nil {
				errs <- err
				return
			}
			defer client.Close(context.Background())
			r, err := client.NewReceiverForQueue(DefaultQueue, nil)
			if err != nil {
				errs <- err
				return
			}
			for {
				mu.Lock()
				done := total >= clients*perClient
				mu.Unlock()
				if done || ctx.Err() != nil {
					return
				}
				rctx, rcancel := context.WithTimeout(ctx, 500*time.Millisecond)
				msgs, err := r.ReceiveMessages(rctx, 50, nil)
				rcancel()
				if err != nil && ctx.Err() == nil && rctx.Err() == nil {
					errs <- err
					return
				}
				for _, m := range msgs {
					if err := r.CompleteMessage(ctx, m, nil); err != nil {
						errs <- fmt.Errorf("complete %s: %w", m.MessageID, err)
						return
					}
					mu.Lock()
					seen[m.MessageID]++
					total++
					mu.Unlock()
				}
			}
		}()
	}
	sendWG.Wait()
	recvWG.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != clients*perClient {
		t.Fatalf("received %d distinct messages, want %d", len(seen), clients*perClient)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s received %d times", id, n)
		}
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 0 {
		t.Errorf("queue still holds %d messages", n)
	}
}
