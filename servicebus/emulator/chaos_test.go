package emulator

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/contoso/sbportal/servicebus/emulator/amqp"
)

// randomFrame builds a well-formed frame with arbitrary (often nonsensical) field values, to
// drive the connection state machine through sequences no client produces.
func randomFrame(r *rand.Rand) []byte {
	u32 := func() uint32 {
		if r.IntN(2) == 0 {
			return uint32(r.IntN(4))
		}
		return r.Uint32()
	}
	p32 := func() *uint32 {
		if r.IntN(3) == 0 {
			return nil
		}
		v := u32()
		return &v
	}
	addr := []string{"$cbs", "$management", DefaultQueue, DefaultQueue + "/$management", DefaultTopic, DefaultTopic + "/Subscriptions/" + DefaultSubscription,
		DefaultEventHub + "/Partitions/0", DefaultEventHub + "/ConsumerGroups/$Default/Partitions/1", "nope", ""}[r.IntN(10)]
	ch := uint16(r.IntN(3))
	var p amqp.Performative
	var payload []byte
	switch r.IntN(9) {
	case 0:
		p = &amqp.Begin{IncomingWindow: u32(), OutgoingWindow: u32(), NextOutgoingID: u32(), HandleMax: u32()}
	case 1:
		a := &amqp.Attach{Name: "l", Handle: uint32(r.IntN(4)), Role: r.IntN(2) == 0, InitialDeliveryCount: p32()}
		if r.IntN(4) != 0 {
			a.Source = amqp.NewSource(addr)
		}
		if r.IntN(4) != 0 {
			a.Target = amqp.NewTarget(addr)
		}
		p = a
	case 2:
		h := uint32(r.IntN(4))
		p = &amqp.Flow{NextIncomingID: p32(), IncomingWindow: u32(), NextOutgoingID: u32(), OutgoingWindow: u32(), Handle: &h, DeliveryCount: p32(), LinkCredit: p32(), Drain: r.IntN(2) == 0, Echo: r.IntN(2) == 0}
	case 3, 4:
		settled := r.IntN(2) == 0
		p = &amqp.Transfer{Handle: uint32(r.IntN(4)), DeliveryID: p32(), DeliveryTag: []byte{byte(r.IntN(256))}, Settled: &settled, More: r.IntN(3) == 0, Aborted: r.IntN(10) == 0}
		payload = amqp.MustAppend(nil, amqp.Described{Descriptor: amqp.SectionValue, Value: "x"})
		if r.IntN(4) == 0 {
			payload = []byte{0x00, 0x53, byte(r.IntN(256)), byte(r.IntN(256))}
		}
	case 5:
		states := []any{nil, amqp.Accepted, amqp.Released, amqp.Rejected(&amqp.Error{Condition: "x"}), amqp.Described{Descriptor: uint64(0x27), Value: []any{true}}}
		p = &amqp.Disposition{Role: r.IntN(2) == 0, First: u32(), Last: p32(), Settled: r.IntN(2) == 0, State: states[r.IntN(len(states))]}
	case 6:
		p = &amqp.Detach{Handle: uint32(r.IntN(4)), Closed: r.IntN(2) == 0}
	case 7:
		p = &amqp.End{}
	default:
		return []byte{0, 0, 0, 8, 2, 0, 0, 0}
	}
	return amqp.AppendFrame(nil, amqp.FrameAMQP, ch, p, payload)
}

// Random frame sequences must never crash, hang or wedge the emulator: afterwards a normal
// client still sends and receives.
func TestRandomFrameSequences(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{Limits: Limits{IdleTimeout: 2 * time.Second}})
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		nc := rawOpen(t, addr, nil)
		// Start from open sessions so most frames reach the link and delivery logic.
		buf := amqp.AppendFrame(nil, amqp.FrameAMQP, 0, &amqp.Begin{IncomingWindow: 100, OutgoingWindow: 100, HandleMax: 10}, nil)
		buf = amqp.AppendFrame(buf, amqp.FrameAMQP, 1, &amqp.Begin{IncomingWindow: 100, OutgoingWindow: 100, HandleMax: 10}, nil)
		for range 1 + r.IntN(40) {
			buf = append(buf, randomFrame(r)...)
		}
		nc.Write(buf)
		// Read until the server closes or goes quiet.
		nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		for {
			if _, err := amqp.ReadFrame(nc, 1<<20); err != nil {
				break
			}
		}
		nc.Close()
	}
	if err := sendOnce(t, connString(t, srv, addr, DefaultManagePolicy, ""), DefaultQueue, []byte("still alive")); err != nil {
		t.Fatalf("send after the random sequences: %v", err)
	}
	waitFor(t, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.conns) == 0
	}, "connections to be released")
}
