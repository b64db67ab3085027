package amqp

import (
	"bytes"
	"testing"
)

func BenchmarkReadTransferFrame(b *testing.B) {
	id := uint32(1)
	var msg []byte
	msg = MustAppend(msg, Described{Descriptor: SectionProperties, Value: []any{"id"}})
	msg = MustAppend(msg, Described{Descriptor: SectionApplicationProperties, Value: Map{{Key: "k", Value: "v"}}})
	msg = MustAppend(msg, Described{Descriptor: SectionData, Value: make([]byte, 1024)})
	frame := AppendFrame(nil, FrameAMQP, 0, &Transfer{Handle: 0, DeliveryID: &id, DeliveryTag: []byte{1, 2, 3, 4}}, msg)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		f, err := ReadFrame(bytes.NewReader(frame), 1<<16)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseMessage(f.Payload); err != nil {
			b.Fatal(err)
		}
	}
}
