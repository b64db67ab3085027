package emulator

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
)

func TestEventHubSendReceive(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	ctx := testCtx(t)
	cs := connString(t, srv, addr, DefaultManagePolicy, "")
	producer, err := azeventhubs.NewProducerClientFromConnectionString(cs, DefaultEventHub, &azeventhubs.ProducerClientOptions{RetryOptions: azeventhubs.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close(context.Background())
	props, err := producer.GetEventHubProperties(ctx, nil)
	if err != nil {
		t.Fatalf("GetEventHubProperties: %v", err)
	}
	if props.Name != DefaultEventHub || strings.Join(props.PartitionIDs, ",") != "0,1" {
		t.Fatalf("hub properties = %+v", props)
	}
	pid := "1"
	batch, err := producer.NewEventDataBatch(ctx, &azeventhubs.EventDataBatchOptions{PartitionID: &pid})
	if err != nil {
		t.Fatalf("NewEventDataBatch: %v", err)
	}
	for i := range 3 {
		if err := batch.AddEventData(&azeventhubs.EventData{Body: []byte(fmt.Sprintf("event-%d", i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := producer.SendEventDataBatch(ctx, batch, nil); err != nil {
		t.Fatalf("SendEventDataBatch: %v", err)
	}
	pp, err := producer.GetPartitionProperties(ctx, "1", nil)
	if err != nil || pp.LastEnqueuedSequenceNumber != 2 || pp.IsEmpty {
		t.Fatalf("partition 1 properties = %+v, %v", pp, err)
	}

	consumer, err := azeventhubs.NewConsumerClientFromConnectionString(cs, DefaultEventHub, azeventhubs.DefaultConsumerGroup, &azeventhubs.ConsumerClientOptions{RetryOptions: azeventhubs.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close(context.Background())
	pc, err := consumer.NewPartitionClient("1", &azeventhubs.PartitionClientOptions{StartPosition: azeventhubs.StartPosition{Earliest: to(true)}})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(context.Background())
	var got []string
	for len(got) < 3 {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		events, err := pc.ReceiveEvents(rctx, 3-len(got), nil)
		cancel()
		if err != nil && len(events) == 0 {
			t.Fatalf("ReceiveEvents: %v (got %v)", err, got)
		}
		for _, e := range events {
			got = append(got, string(e.Body))
			if e.EnqueuedTime == nil || e.Offset == "" {
				t.Errorf("event lacks enqueued time or offset: %+v", e)
			}
		}
	}
	if strings.Join(got, ",") != "event-0,event-1,event-2" {
		t.Fatalf("received %v", got)
	}
}

func to[T any](v T) *T { return &v }
