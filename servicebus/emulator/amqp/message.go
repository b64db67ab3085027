package amqp

import (
	"errors"
	"fmt"
	"time"
)

// Section codes of a message (AMQP 3.2).
const (
	SectionHeader                uint64 = 0x70
	SectionDeliveryAnnotations   uint64 = 0x71
	SectionMessageAnnotations    uint64 = 0x72
	SectionProperties            uint64 = 0x73
	SectionApplicationProperties uint64 = 0x74
	SectionData                  uint64 = 0x75
	SectionSequence              uint64 = 0x76
	SectionValue                 uint64 = 0x77
	SectionFooter                uint64 = 0x78
)

// Message is a bare message with its annotations, split so the broker can read routing
// properties and add its own annotations while the body is carried byte for byte.
type Message struct {
	Header                []any // header fields; nil when absent
	DeliveryAnnotations   Map
	Annotations           Map   // message-annotations
	Properties            []any // properties fields; nil when absent
	ApplicationProperties Map
	Value                 any    // decoded amqp-value body, if the body is one
	HasValue              bool   // whether the body is an amqp-value
	Rest                  []byte // body sections and footer, as received
}

// ParseMessage splits an encoded message into its sections.
func ParseMessage(b []byte) (*Message, error) {
	m := &Message{}
	off := 0
	last := uint64(0)
	for off < len(b) {
		v, n, err := Decode(b[off:])
		if err != nil {
			return nil, fmt.Errorf("message section at byte %d: %w", off, err)
		}
		d, ok := v.(Described)
		if !ok {
			return nil, fmt.Errorf("message section at byte %d is not described", off)
		}
		code, ok := DescriptorCode(d.Descriptor)
		if !ok || code < SectionHeader || code > SectionFooter {
			return nil, fmt.Errorf("message section at byte %d has unknown descriptor %v", off, d.Descriptor)
		}
		if code < last || code == last && code < SectionData {
			return nil, errors.New("message sections out of order")
		}
		last = code
		switch code {
		case SectionHeader, SectionProperties:
			l, ok := d.Value.([]any)
			if !ok {
				return nil, fmt.Errorf("message section 0x%x is not a list", code)
			}
			if code == SectionHeader {
				m.Header = l
			} else {
				m.Properties = l
			}
		case SectionDeliveryAnnotations, SectionMessageAnnotations, SectionApplicationProperties:
			var mp Map
			if d.Value != nil {
				if mp, ok = d.Value.(Map); !ok {
					return nil, fmt.Errorf("message section 0x%x is not a map", code)
				}
			}
			switch code {
			case SectionDeliveryAnnotations:
				m.DeliveryAnnotations = mp
			case SectionMessageAnnotations:
				m.Annotations = mp
			default:
				m.ApplicationProperties = mp
			}
		default:
			if m.Rest == nil {
				m.Rest = b[off:]
			}
			if code == SectionValue {
				m.Value, m.HasValue = d.Value, true
			}
		}
		off += n
	}
	return m, nil
}

// Encode writes the message back: header, annotations, properties and application properties
// re-encoded, then the body sections exactly as received.
func (m *Message) Encode() ([]byte, error) {
	var b []byte
	var err error
	add := func(code uint64, v any) {
		if err == nil {
			b, err = Append(b, Described{Descriptor: code, Value: v})
		}
	}
	if m.Header != nil {
		add(SectionHeader, m.Header)
	}
	if len(m.DeliveryAnnotations) > 0 {
		add(SectionDeliveryAnnotations, m.DeliveryAnnotations)
	}
	if len(m.Annotations) > 0 {
		add(SectionMessageAnnotations, m.Annotations)
	}
	if m.Properties != nil {
		add(SectionProperties, m.Properties)
	}
	if len(m.ApplicationProperties) > 0 {
		add(SectionApplicationProperties, m.ApplicationProperties)
	}
	if err != nil {
		return nil, err
	}
	if m.Rest != nil {
		b = append(b, m.Rest...)
	} else if m.HasValue {
		return Append(b, Described{Descriptor: SectionValue, Value: m.Value})
	}
	return b, nil
}

// Property returns field i of the properties section (0 message-id, 4 reply-to,
// 5 correlation-id ...).
func (m *Message) Property(i int) any { return fieldList(m.Properties).at(i) }

// SetProperty sets field i of the properties section.
func (m *Message) SetProperty(i int, v any) {
	for len(m.Properties) <= i {
		m.Properties = append(m.Properties, nil)
	}
	m.Properties[i] = v
}

// Property field indexes.
const (
	PropMessageID          = 0
	PropTo                 = 2
	PropSubject            = 3
	PropReplyTo            = 4
	PropCorrelationID      = 5
	PropContentType        = 6
	PropAbsoluteExpiryTime = 8
	PropGroupID            = 10
)

// TTL returns the header's time-to-live (0 when absent).
func (m *Message) TTL() time.Duration {
	n, _ := fieldList(m.Header).uint32(2, 0)
	return time.Duration(n) * time.Millisecond
}

// SetDeliveryCount sets the header's delivery-count, creating the header if needed.
func (m *Message) SetDeliveryCount(n uint32) {
	for len(m.Header) <= 4 {
		m.Header = append(m.Header, nil)
	}
	m.Header[4] = n
}

// DeliveryCount returns the header's delivery-count.
func (m *Message) DeliveryCount() uint32 {
	n, _ := fieldList(m.Header).uint32(4, 0)
	return n
}

// Annotate sets a message annotation (symbol key).
func (m *Message) Annotate(key string, v any) {
	m.Annotations = m.Annotations.Set(Symbol(key), v)
}

// BatchMessageFormat is the message-format of a batch: each data section holds one encoded
// message (used by SendMessageBatch and event hub batches).
const BatchMessageFormat uint32 = 0x80013700

// DataSections returns the payloads of the message's data sections.
func (m *Message) DataSections() ([][]byte, error) {
	var out [][]byte
	b := m.Rest
	for len(b) > 0 {
		v, n, err := Decode(b)
		if err != nil {
			return nil, err
		}
		b = b[n:]
		d, ok := v.(Described)
		if !ok {
			return nil, errors.New("body section is not described")
		}
		if c, _ := DescriptorCode(d.Descriptor); c != SectionData {
			continue
		}
		data, ok := d.Value.([]byte)
		if !ok {
			return nil, errors.New("data section is not binary")
		}
		out = append(out, data)
	}
	return out, nil
}

// Clone returns a copy whose header, annotations, properties and application properties can
// be changed without touching m (the body bytes are shared and never modified).
func (m *Message) Clone() *Message {
	c := *m
	c.Header = append([]any(nil), m.Header...)
	c.Annotations = append(Map(nil), m.Annotations...)
	c.DeliveryAnnotations = append(Map(nil), m.DeliveryAnnotations...)
	c.Properties = append([]any(nil), m.Properties...)
	c.ApplicationProperties = append(Map(nil), m.ApplicationProperties...)
	if m.Header == nil {
		c.Header = nil
	}
	if m.Properties == nil {
		c.Properties = nil
	}
	return &c
}
