package amqp

import (
	"bytes"
	"testing"
)

// FuzzFrameDecoder feeds arbitrary bytes to the frame reader and the message parser. It must
// never panic, and a frame it accepts must re-encode to something it accepts again.
func FuzzFrameDecoder(f *testing.F) {
	one := uint32(1)
	seeds := []Performative{
		&Open{ContainerID: "c", MaxFrameSize: 512},
		&Begin{IncomingWindow: 1, OutgoingWindow: 1},
		&Attach{Name: "n", Role: RoleSender, Target: NewTarget("q"), Source: NewSource("s")},
		&Flow{Handle: &one, LinkCredit: &one},
		&Transfer{Handle: 0, DeliveryID: &one, DeliveryTag: []byte{1}},
		&Disposition{Role: RoleReceiver, First: 1, State: Rejected(&Error{Condition: ErrDecode})},
		&Detach{Closed: true}, &Close{}, &SASLInit{Mechanism: "ANONYMOUS"},
	}
	for _, p := range seeds {
		f.Add(AppendFrame(nil, FrameAMQP, 0, p, []byte{0x00, 0x53, 0x77, 0xa1, 0x01, 'x'}))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xf0, 2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := ReadFrame(bytes.NewReader(data), 1<<16)
		if err == nil && fr.Body != nil {
			enc, err := Append(nil, fr.Body)
			if err != nil {
				t.Fatalf("accepted %T does not re-encode: %v", fr.Body, err)
			}
			if _, err := ParseFrame(fr.Type, 0, enc); err != nil {
				t.Fatalf("re-encoded %T is refused: %v", fr.Body, err)
			}
		}
		if len(data) > 8 {
			if m, err := ParseMessage(data[8:]); err == nil {
				if _, err := m.Encode(); err != nil {
					t.Fatalf("accepted message does not re-encode: %v", err)
				}
			}
		}
	})
}
