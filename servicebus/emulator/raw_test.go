package emulator

import (
	"net"
	"testing"
	"time"

	"github.com/contoso/sbportal/servicebus/emulator/amqp"
)

// rawClient drives the emulator frame by frame, for behaviour no well-behaved client shows.
type rawClient struct {
	t  *testing.T
	nc net.Conn
}

func (r *rawClient) send(p amqp.Performative, payload []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(amqp.AppendFrame(nil, amqp.FrameAMQP, 0, p, payload)); err != nil {
		r.t.Fatal(err)
	}
}

// next returns the next non-empty frame body of type T, skipping others.
func rawNext[T amqp.Performative](r *rawClient) (T, []byte) {
	r.t.Helper()
	for {
		f, err := amqp.ReadFrame(r.nc, 1<<20)
		if err != nil {
			r.t.Fatalf("reading frames: %v", err)
		}
		if c, ok := f.Body.(*amqp.Close); ok {
			r.t.Fatalf("connection closed: %v", c.Error)
		}
		if p, ok := f.Body.(T); ok {
			return p, f.Payload
		}
	}
}

func encodeMessage(t *testing.T, m *amqp.Message) []byte {
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A client that ignores the announced max-message-size is refused by the emulator itself:
// the multi-frame delivery is rejected with amqp:link:message-size-exceeded and not stored.
func TestServerEnforcesMessageSize(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	r := &rawClient{t: t, nc: rawOpen(t, addr, nil)}
	rawNext[*amqp.Open](r)
	r.send(&amqp.Begin{IncomingWindow: 1000, OutgoingWindow: 1000}, nil)
	rawNext[*amqp.Begin](r)

	// $cbs put-token over raw frames.
	r.send(&amqp.Attach{Name: "cbs-s", Handle: 0, Role: amqp.RoleSender, Source: amqp.NewSource("me"), Target: amqp.NewTarget("$cbs")}, nil)
	r.send(&amqp.Attach{Name: "cbs-r", Handle: 1, Role: amqp.RoleReceiver, Source: amqp.NewSource("$cbs"), Target: amqp.NewTarget("me-reply")}, nil)
	one, h1 := uint32(10), uint32(1)
	r.send(&amqp.Flow{IncomingWindow: 1000, OutgoingWindow: 1000, Handle: &h1, DeliveryCount: new(uint32), LinkCredit: &one}, nil)
	aud := "amqp://" + addr + "/" + DefaultQueue
	req := &amqp.Message{
		Properties:            []any{"m1", nil, nil, nil, "me-reply"},
		ApplicationProperties: amqp.Map{{Key: "operation", Value: "put-token"}, {Key: "type", Value: "servicebus.windows.net:sastoken"}, {Key: "name", Value: aud}},
		Value:                 SignSAS(aud, DefaultSendPolicy, DefaultSendPrimaryKey, time.Now().Add(time.Hour)), HasValue: true,
	}
	id0 := uint32(0)
	r.send(&amqp.Transfer{Handle: 0, DeliveryID: &id0, DeliveryTag: []byte{0}, MessageFormat: new(uint32)}, encodeMessage(t, req))
	_, payload := rawNext[*amqp.Transfer](r)
	resp, err := amqp.ParseMessage(payload)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := resp.ApplicationProperties.Get("status-code"); code != int32(202) {
		t.Fatalf("put-token status = %v", code)
	}

	r.send(&amqp.Attach{Name: "s", Handle: 2, Role: amqp.RoleSender, Source: amqp.NewSource("me"), Target: amqp.NewTarget(DefaultQueue)}, nil)
	at, _ := rawNext[*amqp.Attach](r)
	for at.Name != "s" {
		at, _ = rawNext[*amqp.Attach](r)
	}
	if at.MaxMessageSize != 256*1024 {
		t.Errorf("announced max-message-size = %d, want 262144", at.MaxMessageSize)
	}
	body := amqp.MustAppend(nil, amqp.Described{Descriptor: amqp.SectionData, Value: make([]byte, 300*1024)})
	id1 := uint32(1)
	for off := 0; off < len(body); off += 60000 {
		end := min(off+60000, len(body))
		tr := &amqp.Transfer{Handle: 2, More: end < len(body)}
		if off == 0 {
			tr.DeliveryID, tr.DeliveryTag, tr.MessageFormat = &id1, []byte{1}, new(uint32)
		}
		r.send(tr, body[off:end])
	}
	d, _ := rawNext[*amqp.Disposition](r)
	for d.First != 1 {
		d, _ = rawNext[*amqp.Disposition](r)
	}
	if amqp.StateCode(d.State) != amqp.StateRejected {
		t.Fatalf("oversize delivery state = %v, want rejected", d.State)
	}
	rej := d.State.(amqp.Described).Value.([]any)
	if e, err := amqp.ParseError(rej[0]); err != nil || e.Condition != amqp.ErrMessageSizeExceeded {
		t.Fatalf("rejection error = %v, %v", e, err)
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 0 {
		t.Fatalf("oversize message was stored (%d)", n)
	}
	// The link still works for a message of the right size.
	id2 := uint32(2)
	small := amqp.MustAppend(nil, amqp.Described{Descriptor: amqp.SectionData, Value: []byte("ok")})
	r.send(&amqp.Transfer{Handle: 2, DeliveryID: &id2, DeliveryTag: []byte{2}, MessageFormat: new(uint32)}, small)
	d, _ = rawNext[*amqp.Disposition](r)
	if amqp.StateCode(d.State) != amqp.StateAccepted || d.First != 2 {
		t.Fatalf("small delivery: %+v", d)
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 1 {
		t.Fatalf("queue holds %d, want 1", n)
	}
}
