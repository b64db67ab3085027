package servicebus

import (
	"context"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/servicebus/emulator"
)

// BenchmarkProbeVsBareSend compares a probe (policy checks, guarded dial, one connection per
// probe, classification, warnings) with the bare SDK doing the same send on a fresh
// connection, and with a send on a connection that stays open:
//
//	go test -run '^$' -bench ProbeVsBareSend -benchtime 300x ./servicebus/
func BenchmarkProbeVsBareSend(b *testing.B) {
	cfg := emulator.DefaultConfig()
	cfg.UserConfig.Namespaces[0].Queues[0].Properties.MaxMessageCount = 1000000
	_, addr := startEmulator(b, cfg, emulator.Options{Limits: emulator.Limits{MaxMessagesPerEntity: 1000000, MaxEntityBytes: 1 << 30}})
	e := sbEndpoint(addr, endpoint.ContractQueue, emulator.DefaultQueue, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	cs := "Endpoint=sb://" + addr + ";SharedAccessKeyName=" + emulator.DefaultSendPolicy + ";SharedAccessKey=" + emulator.DefaultSendPrimaryKey + ";UseDevelopmentEmulator=true"
	ctx := context.Background()
	body := newTestMessage(Request{Endpoint: e}).Body

	b.Run("probe", func(b *testing.B) {
		p := devProber()
		for b.Loop() {
			if r := p.Probe(ctx, emulatorRequest(e, ModeSend)); !r.Passed {
				b.Fatal(r.Summary)
			}
		}
	})
	b.Run("bare-sdk-new-connection", func(b *testing.B) {
		for b.Loop() {
			c, err := azservicebus.NewClientFromConnectionString(cs, &azservicebus.ClientOptions{RetryOptions: noRetries()})
			if err != nil {
				b.Fatal(err)
			}
			s, err := c.NewSender(emulator.DefaultQueue, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.SendMessage(ctx, &azservicebus.Message{Body: body}, nil); err != nil {
				b.Fatal(err)
			}
			s.Close(ctx)
			c.Close(ctx)
		}
	})
	b.Run("bare-sdk-open-connection", func(b *testing.B) {
		c, err := azservicebus.NewClientFromConnectionString(cs, &azservicebus.ClientOptions{RetryOptions: noRetries()})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(ctx)
		s, err := c.NewSender(emulator.DefaultQueue, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close(ctx)
		for b.Loop() {
			if err := s.SendMessage(ctx, &azservicebus.Message{Body: body}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
