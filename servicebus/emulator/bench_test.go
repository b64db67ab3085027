package emulator

import (
	"context"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// BenchmarkSDKSend measures one azservicebus SendMessage round trip (transfer, disposition)
// on an open link.
func BenchmarkSDKSend(b *testing.B) {
	cfg := DefaultConfig()
	cfg.UserConfig.Namespaces[0].Queues[0].Properties.MaxMessageCount = 1_000_000
	srv, addr := startServer(b, cfg, Options{Limits: Limits{MaxEntityBytes: 1 << 30}})
	client, err := azservicebus.NewClientFromConnectionString(connString(b, srv, addr, DefaultSendPolicy, ""), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close(context.Background())
	sender, _ := client.NewSender(DefaultQueue, nil)
	ctx := context.Background()
	msg := &azservicebus.Message{Body: make([]byte, 1024)}
	if err := sender.SendMessage(ctx, msg, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := sender.SendMessage(ctx, msg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSDKConnectAndSend measures what a probe pays: a new client, $cbs put-token,
// attach and one send.
func BenchmarkSDKConnectAndSend(b *testing.B) {
	cfg := DefaultConfig()
	cfg.UserConfig.Namespaces[0].Queues[0].Properties.MaxMessageCount = 1_000_000
	srv, addr := startServer(b, cfg, Options{})
	cs := connString(b, srv, addr, DefaultSendPolicy, "")
	ctx := context.Background()
	for b.Loop() {
		client, err := azservicebus.NewClientFromConnectionString(cs, nil)
		if err != nil {
			b.Fatal(err)
		}
		sender, _ := client.NewSender(DefaultQueue, nil)
		if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte("probe")}, nil); err != nil {
			b.Fatal(err)
		}
		client.Close(ctx)
	}
}
