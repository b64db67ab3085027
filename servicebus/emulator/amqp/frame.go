package amqp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frame types.
const (
	FrameAMQP byte = 0x00
	FrameSASL byte = 0x01
)

// Protocol headers.
var (
	HeaderAMQP = [8]byte{'A', 'M', 'Q', 'P', 0, 1, 0, 0}
	HeaderSASL = [8]byte{'A', 'M', 'Q', 'P', 3, 1, 0, 0}
)

// MinMaxFrameSize is the smallest max-frame-size a peer may announce (AMQP 2.7.1).
const MinMaxFrameSize = 512

// FrameError is a frame that cannot be accepted; Condition says which AMQP error closes the
// connection because of it.
type FrameError struct {
	Condition Symbol
	Msg       string
}

func (e *FrameError) Error() string { return string(e.Condition) + ": " + e.Msg }

func frameErr(cond Symbol, format string, args ...any) error {
	return &FrameError{Condition: cond, Msg: fmt.Sprintf(format, args...)}
}

// Frame is one decoded frame. Body is nil for an empty (heartbeat) frame.
type Frame struct {
	Type    byte
	Channel uint16
	Body    Performative
	Payload []byte // transfer payload (the message bytes carried by this frame)
}

// ReadFrame reads one frame, refusing any frame larger than maxSize before reading its body.
func ReadFrame(r io.Reader, maxSize uint32) (Frame, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	size := binary.BigEndian.Uint32(h[0:4])
	doff := h[4]
	if size < 8 {
		return Frame{}, frameErr(ErrFramingError, "frame size %d is smaller than its header", size)
	}
	if size > maxSize {
		return Frame{}, frameErr(ErrFramingError, "frame size %d exceeds the negotiated max-frame-size %d", size, maxSize)
	}
	if doff < 2 || uint32(doff)*4 > size {
		return Frame{}, frameErr(ErrFramingError, "invalid data offset %d", doff)
	}
	buf := make([]byte, size-8)
	if _, err := io.ReadFull(r, buf); err != nil {
		return Frame{}, err
	}
	return ParseFrame(h[5], binary.BigEndian.Uint16(h[6:8]), buf[int(doff)*4-8:])
}

// ParseFrame decodes a frame body (after the extended header) of the given type.
func ParseFrame(typ byte, channel uint16, body []byte) (Frame, error) {
	f := Frame{Type: typ, Channel: channel}
	if typ != FrameAMQP && typ != FrameSASL {
		return f, frameErr(ErrFramingError, "unknown frame type 0x%02x", typ)
	}
	if len(body) == 0 {
		return f, nil
	}
	v, n, err := Decode(body)
	if err != nil {
		return f, frameErr(ErrDecode, "%v", err)
	}
	p, err := parsePerformative(v)
	if err != nil {
		return f, frameErr(ErrDecode, "%v", err)
	}
	isSASL := false
	switch p.(type) {
	case *SASLMechanisms, *SASLInit, *SASLOutcome, *SASLChallenge:
		isSASL = true
	}
	if isSASL != (typ == FrameSASL) {
		return f, frameErr(ErrDecode, "%T in a frame of type 0x%02x", p, typ)
	}
	f.Body = p
	if n < len(body) {
		if _, ok := p.(*Transfer); !ok {
			return f, frameErr(ErrDecode, "%d trailing bytes after %T", len(body)-n, p)
		}
		f.Payload = body[n:]
	}
	return f, nil
}

// AppendFrame appends an encoded frame to b.
func AppendFrame(b []byte, typ byte, channel uint16, body Performative, payload []byte) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 2, typ, byte(channel>>8), byte(channel))
	if body != nil {
		b = MustAppend(b, body)
	}
	b = append(b, payload...)
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// Performative is a frame body.
type Performative interface {
	Described() Described
}

var errNotPerformative = errors.New("frame body is not a described list")

func parsePerformative(v any) (Performative, error) {
	d, ok := v.(Described)
	if !ok {
		return nil, errNotPerformative
	}
	code, ok := DescriptorCode(d.Descriptor)
	if !ok {
		return nil, fmt.Errorf("unknown descriptor %v", d.Descriptor)
	}
	fields, ok := d.Value.([]any)
	if !ok {
		return nil, errNotPerformative
	}
	f := fieldList(fields)
	var p Performative
	switch code {
	case 0x10:
		p = &Open{}
	case 0x11:
		p = &Begin{}
	case 0x12:
		p = &Attach{}
	case 0x13:
		p = &Flow{}
	case 0x14:
		p = &Transfer{}
	case 0x15:
		p = &Disposition{}
	case 0x16:
		p = &Detach{}
	case 0x17:
		p = &End{}
	case 0x18:
		p = &Close{}
	case 0x40:
		p = &SASLMechanisms{}
	case 0x41:
		p = &SASLInit{}
	case 0x42:
		p = &SASLChallenge{}
	case 0x43:
		p = &SASLResponse{}
	case 0x44:
		p = &SASLOutcome{}
	default:
		return nil, fmt.Errorf("descriptor 0x%x is not a performative", code)
	}
	if err := p.(interface{ parse(fieldList) error }).parse(f); err != nil {
		return nil, fmt.Errorf("%T: %w", p, err)
	}
	return p, nil
}

// fieldList reads typed fields of a described list; absent and null fields are nil.
type fieldList []any

func (f fieldList) at(i int) any {
	if i < len(f) {
		return f[i]
	}
	return nil
}

func (f fieldList) uint32(i int, def uint32) (uint32, error) {
	v := f.at(i)
	if v == nil {
		return def, nil
	}
	n, ok := v.(uint32)
	if !ok {
		return 0, fmt.Errorf("field %d: want uint, got %T", i, v)
	}
	return n, nil
}

func (f fieldList) uint32p(i int) (*uint32, error) {
	if f.at(i) == nil {
		return nil, nil
	}
	n, err := f.uint32(i, 0)
	return &n, err
}

func (f fieldList) required(i int) error {
	if f.at(i) == nil {
		return fmt.Errorf("mandatory field %d is missing", i)
	}
	return nil
}

func (f fieldList) uint16(i int, def uint16) (uint16, error) {
	v := f.at(i)
	if v == nil {
		return def, nil
	}
	n, ok := v.(uint16)
	if !ok {
		return 0, fmt.Errorf("field %d: want ushort, got %T", i, v)
	}
	return n, nil
}

func (f fieldList) uint8p(i int) (*uint8, error) {
	v := f.at(i)
	if v == nil {
		return nil, nil
	}
	n, ok := v.(uint8)
	if !ok {
		return nil, fmt.Errorf("field %d: want ubyte, got %T", i, v)
	}
	return &n, nil
}

func (f fieldList) bool(i int) (bool, error) {
	v := f.at(i)
	if v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("field %d: want boolean, got %T", i, v)
	}
	return b, nil
}

func (f fieldList) str(i int) (string, error) {
	v := f.at(i)
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	case Symbol:
		return string(s), nil
	}
	return "", fmt.Errorf("field %d: want string, got %T", i, v)
}

func (f fieldList) binary(i int) ([]byte, error) {
	v := f.at(i)
	if v == nil {
		return nil, nil
	}
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("field %d: want binary, got %T", i, v)
	}
	return b, nil
}

func (f fieldList) fmap(i int) (Map, error) {
	v := f.at(i)
	if v == nil {
		return nil, nil
	}
	m, ok := v.(Map)
	if !ok {
		return nil, fmt.Errorf("field %d: want map, got %T", i, v)
	}
	return m, nil
}

func (f fieldList) err(i int) (*Error, error) {
	v := f.at(i)
	if v == nil {
		return nil, nil
	}
	return ParseError(v)
}

// ParseError decodes an AMQP error value.
func ParseError(v any) (*Error, error) {
	d, ok := v.(Described)
	if !ok {
		return nil, errors.New("error is not described")
	}
	if c, ok := DescriptorCode(d.Descriptor); !ok || c != 0x1d {
		return nil, errors.New("error has a wrong descriptor")
	}
	l, ok := d.Value.([]any)
	if !ok {
		return nil, errors.New("error is not a list")
	}
	f := fieldList(l)
	cond, ok := f.at(0).(Symbol)
	if !ok {
		return nil, errors.New("error condition is not a symbol")
	}
	desc, err := f.str(1)
	if err != nil {
		return nil, err
	}
	info, err := f.fmap(2)
	if err != nil {
		return nil, err
	}
	return &Error{Condition: cond, Description: desc, Info: info}, nil
}

// trim drops trailing nil fields, as encoders should.
func trim(fields []any) []any {
	for len(fields) > 0 && fields[len(fields)-1] == nil {
		fields = fields[:len(fields)-1]
	}
	return fields
}

func described(code uint64, fields ...any) Described {
	return Described{Descriptor: code, Value: trim(fields)}
}

func optU32(p *uint32) any {
	if p == nil {
		return nil
	}
	return *p
}

func optBool(b bool) any {
	if !b {
		return nil
	}
	return true
}

func optStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optMap(m Map) any {
	if m == nil {
		return nil
	}
	return m
}

func optErr(e *Error) any {
	if e == nil {
		return nil
	}
	return e
}
