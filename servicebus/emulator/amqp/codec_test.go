package amqp

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	values := []any{
		nil, true, false, uint8(7), int8(-3), uint16(513), int16(-513), uint32(0), uint32(200), uint32(70000),
		int32(-5), int32(1 << 20), uint64(0), uint64(9), uint64(1 << 40), int64(-100), int64(1 << 40),
		float32(1.5), float64(-2.25), Char('é'), time.UnixMilli(1578099723000).UTC(), UUID{1, 2, 3},
		[]byte("bin"), "text", Symbol("sym"), string(make([]byte, 300)),
		[]any{"a", uint32(1), []any{}}, Map{{Key: Symbol("k"), Value: int64(5)}, {Key: "s", Value: nil}},
		Described{Descriptor: uint64(0x24), Value: []any{}},
	}
	for _, v := range values {
		enc, err := Append(nil, v)
		if err != nil {
			t.Fatalf("Append(%#v): %v", v, err)
		}
		got, n, err := Decode(enc)
		if err != nil || n != len(enc) {
			t.Fatalf("Decode(%#v) = %v, %d/%d bytes, %v", v, got, n, len(enc), err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("round trip of %#v gave %#v", v, got)
		}
	}
	// Arrays decode to Array with their element type.
	enc := MustAppend(nil, []int64{1, -2, 3})
	got, _, err := Decode(enc)
	arr, ok := got.(Array)
	if err != nil || !ok || !reflect.DeepEqual(arr.Values, []any{int64(1), int64(-2), int64(3)}) {
		t.Fatalf("array round trip = %#v, %v", got, err)
	}
	enc = MustAppend(nil, []string{"0", "1"})
	got, _, _ = Decode(enc)
	if arr, _ := got.(Array); !reflect.DeepEqual(arr.Values, []any{"0", "1"}) {
		t.Fatalf("string array round trip = %#v", got)
	}
}

func TestPerformativeRoundTrip(t *testing.T) {
	id, one := uint32(4), uint32(1)
	settled := true
	perfs := []Performative{
		&Open{ContainerID: "c", Hostname: "h", MaxFrameSize: 512, ChannelMax: 9, IdleTimeout: 1000},
		&Begin{NextOutgoingID: 1, IncomingWindow: 2, OutgoingWindow: 3, HandleMax: 4},
		&Attach{Name: "n", Handle: 1, Role: RoleReceiver, Source: NewSource("q"), Target: NewTarget("r"), InitialDeliveryCount: &one, MaxMessageSize: 1024},
		&Flow{IncomingWindow: 1, NextOutgoingID: 2, OutgoingWindow: 3, Handle: &one, LinkCredit: &id, Drain: true},
		&Transfer{Handle: 1, DeliveryID: &id, DeliveryTag: []byte{1}, MessageFormat: new(uint32), Settled: &settled, More: true},
		&Disposition{Role: RoleReceiver, First: 1, Last: &id, Settled: true, State: Accepted},
		&Detach{Handle: 1, Closed: true, Error: &Error{Condition: ErrNotFound, Description: "gone"}},
		&End{}, &Close{Error: &Error{Condition: ErrDecode}},
		&SASLMechanisms{Mechanisms: []Symbol{"ANONYMOUS"}}, &SASLInit{Mechanism: "ANONYMOUS"}, &SASLOutcome{Code: 0},
	}
	for _, p := range perfs {
		typ := FrameAMQP
		switch p.(type) {
		case *SASLMechanisms, *SASLInit, *SASLOutcome:
			typ = FrameSASL
		}
		frame := AppendFrame(nil, typ, 3, p, []byte("payload"[:0]))
		f, err := ReadFrame(bytes.NewReader(frame), 1<<16)
		if err != nil {
			t.Fatalf("ReadFrame(%T): %v", p, err)
		}
		if f.Channel != 3 || !reflect.DeepEqual(f.Body, p) {
			t.Errorf("frame round trip of %#v gave %#v", p, f.Body)
		}
	}
}

func TestDecoderRefusesHostileSizes(t *testing.T) {
	huge := func(code byte) []byte {
		b := []byte{code}
		return binary.BigEndian.AppendUint32(append(b, 0xff, 0xff, 0xff), 0xff)
	}
	for name, b := range map[string][]byte{
		"list32 claiming 4 GB":      huge(0xd0),
		"map32 claiming 4 GB":       huge(0xd1),
		"array32 claiming 4 GB":     huge(0xf0),
		"str32 claiming 4 GB":       huge(0xb1),
		"list8 count beyond size":   {0xc0, 0x01, 0xff},
		"array of nulls":            {0xf0, 0, 0, 0, 5, 0x7f, 0xff, 0xff, 0xff, 0x40},
		"deep nesting":              bytes.Repeat([]byte{0xc0, 0x02, 0x01}, 100),
		"deeply nested arrays":      nestedArrays(100),
		"described descriptor loop": bytes.Repeat([]byte{0x00}, 1000),
		"truncated ulong":           {0x80, 1, 2},
		"odd map":                   {0xc1, 0x02, 0x01, 0x40},
	} {
		if _, _, err := Decode(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestNestedArraysWithinDepth(t *testing.T) {
	if _, _, err := Decode(nestedArrays(10)); err != nil {
		t.Fatalf("10 nested arrays: %v", err)
	}
	_, _, err := Decode(nestedArrays(100))
	if err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("100 nested arrays: %v, want the depth error", err)
	}
}

func TestMessageSectionsRoundTrip(t *testing.T) {
	var raw []byte
	raw = MustAppend(raw, Described{Descriptor: SectionProperties, Value: []any{"id-1", nil, nil, nil, "reply"}})
	raw = MustAppend(raw, Described{Descriptor: SectionApplicationProperties, Value: Map{{Key: "k", Value: "v"}}})
	raw = MustAppend(raw, Described{Descriptor: SectionData, Value: []byte("body")})
	m, err := ParseMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	if m.Property(PropMessageID) != "id-1" || m.Property(PropReplyTo) != "reply" {
		t.Fatalf("properties = %v", m.Properties)
	}
	m.Annotate("x-opt-sequence-number", int64(7))
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ParseMessage(enc)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m2.Annotations.Get("x-opt-sequence-number"); v != int64(7) {
		t.Errorf("annotation lost: %v", m2.Annotations)
	}
	if d, _ := m2.DataSections(); len(d) != 1 || string(d[0]) != "body" {
		t.Errorf("body = %q", d)
	}
	if _, err := ParseMessage(append(MustAppend(nil, Described{Descriptor: SectionData, Value: []byte("x")}), raw...)); err == nil {
		t.Error("sections out of order were accepted")
	}
}

// nestedArrays builds array32 inside array32, n deep, each holding the next as its one element.
func nestedArrays(n int) []byte {
	inner := []byte{0x40}
	for range n {
		body := append([]byte{0, 0, 0, 1}, inner...)
		b := binary.BigEndian.AppendUint32([]byte{0xf0}, uint32(len(body)))
		inner = append(b, body...)
	}
	return inner
}
