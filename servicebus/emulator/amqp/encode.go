package amqp

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"time"
)

// Append encodes v and appends it to b. Supported Go types: nil, bool, the sized integers,
// float32/64, string, Symbol, []byte, UUID, Char, time.Time, Decimal, Described, []any (list),
// Map, map[string]any (map with string keys, sorted), Array, []string, []Symbol, []int64,
// []UUID (arrays), *Error and the performative and section types of this package.
func Append(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, 0x40), nil
	case bool:
		if x {
			return append(b, 0x41), nil
		}
		return append(b, 0x42), nil
	case uint8:
		return append(b, 0x50, x), nil
	case int8:
		return append(b, 0x51, byte(x)), nil
	case uint16:
		return binary.BigEndian.AppendUint16(append(b, 0x60), x), nil
	case int16:
		return binary.BigEndian.AppendUint16(append(b, 0x61), uint16(x)), nil
	case uint32:
		switch {
		case x == 0:
			return append(b, 0x43), nil
		case x < 256:
			return append(b, 0x52, byte(x)), nil
		}
		return binary.BigEndian.AppendUint32(append(b, 0x70), x), nil
	case int32:
		if x >= -128 && x <= 127 {
			return append(b, 0x54, byte(int8(x))), nil
		}
		return binary.BigEndian.AppendUint32(append(b, 0x71), uint32(x)), nil
	case uint64:
		switch {
		case x == 0:
			return append(b, 0x44), nil
		case x < 256:
			return append(b, 0x53, byte(x)), nil
		}
		return binary.BigEndian.AppendUint64(append(b, 0x80), x), nil
	case int64:
		if x >= -128 && x <= 127 {
			return append(b, 0x55, byte(int8(x))), nil
		}
		return binary.BigEndian.AppendUint64(append(b, 0x81), uint64(x)), nil
	case int:
		return Append(b, int64(x))
	case float32:
		return binary.BigEndian.AppendUint32(append(b, 0x72), math.Float32bits(x)), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 0x82), math.Float64bits(x)), nil
	case Char:
		return binary.BigEndian.AppendUint32(append(b, 0x73), uint32(x)), nil
	case time.Time:
		return binary.BigEndian.AppendUint64(append(b, 0x83), uint64(x.UnixMilli())), nil
	case UUID:
		return append(append(b, 0x98), x[:]...), nil
	case Decimal:
		return append(append(b, x.Code), x.Bytes...), nil
	case []byte:
		return appendVariable(b, 0xa0, 0xb0, x), nil
	case string:
		return appendVariable(b, 0xa1, 0xb1, []byte(x)), nil
	case Symbol:
		return appendVariable(b, 0xa3, 0xb3, []byte(x)), nil
	case Described:
		b = append(b, 0x00)
		b, err := Append(b, x.Descriptor)
		if err != nil {
			return nil, err
		}
		return Append(b, x.Value)
	case []any:
		return appendList(b, x)
	case Map:
		return appendMap(b, x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := make(Map, 0, len(x))
		for _, k := range keys {
			m = append(m, KV{Key: k, Value: x[k]})
		}
		return appendMap(b, m)
	case Array:
		return appendArray(b, x)
	case []string:
		vals := make([]any, len(x))
		for i, s := range x {
			vals[i] = s
		}
		return appendArray(b, Array{Elem: 0xb1, Values: vals})
	case []Symbol:
		vals := make([]any, len(x))
		for i, s := range x {
			vals[i] = s
		}
		return appendArray(b, Array{Elem: 0xb3, Values: vals})
	case []int64:
		vals := make([]any, len(x))
		for i, s := range x {
			vals[i] = s
		}
		return appendArray(b, Array{Elem: 0x81, Values: vals})
	case []UUID:
		vals := make([]any, len(x))
		for i, s := range x {
			vals[i] = s
		}
		return appendArray(b, Array{Elem: 0x98, Values: vals})
	case *Error:
		if x == nil {
			return append(b, 0x40), nil
		}
		return Append(b, Described{Descriptor: uint64(0x1d), Value: []any{x.Condition, nilIfEmpty(x.Description), nilIfEmptyMap(x.Info)}})
	case Performative:
		return Append(b, x.Described())
	}
	return nil, fmt.Errorf("amqp: cannot encode %T", v)
}

// MustAppend is Append for values built by this program (never from the peer), where an
// unsupported type is a programming error.
func MustAppend(b []byte, v any) []byte {
	out, err := Append(b, v)
	if err != nil {
		panic(err)
	}
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nilIfEmptyMap(m Map) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func appendVariable(b []byte, small, large byte, data []byte) []byte {
	if len(data) < 256 {
		b = append(b, small, byte(len(data)))
	} else {
		b = binary.BigEndian.AppendUint32(append(b, large), uint32(len(data)))
	}
	return append(b, data...)
}

func appendCompound(b []byte, small, large byte, count int, body []byte) []byte {
	if count < 256 && len(body)+1 < 256 {
		b = append(b, small, byte(len(body)+1), byte(count))
	} else {
		b = append(b, large)
		b = binary.BigEndian.AppendUint32(b, uint32(len(body)+4))
		b = binary.BigEndian.AppendUint32(b, uint32(count))
	}
	return append(b, body...)
}

func appendList(b []byte, l []any) ([]byte, error) {
	if len(l) == 0 {
		return append(b, 0x45), nil
	}
	var body []byte
	var err error
	for _, v := range l {
		if body, err = Append(body, v); err != nil {
			return nil, err
		}
	}
	return appendCompound(b, 0xc0, 0xd0, len(l), body), nil
}

func appendMap(b []byte, m Map) ([]byte, error) {
	var body []byte
	var err error
	for _, kv := range m {
		if body, err = Append(body, kv.Key); err != nil {
			return nil, err
		}
		if body, err = Append(body, kv.Value); err != nil {
			return nil, err
		}
	}
	return appendCompound(b, 0xc1, 0xd1, len(m)*2, body), nil
}

// appendArray writes every element with the wide form of the element type, so one
// constructor fits them all.
func appendArray(b []byte, a Array) ([]byte, error) {
	elem := a.Elem
	if len(a.Values) > 0 {
		var err error
		if elem, err = arrayElemCode(a.Values[0]); err != nil {
			return nil, err
		}
	}
	body := []byte{elem}
	for _, v := range a.Values {
		code, err := arrayElemCode(v)
		if err != nil {
			return nil, err
		}
		if code != elem {
			return nil, fmt.Errorf("amqp: array mixes element types %T", v)
		}
		enc, err := appendWide(nil, v)
		if err != nil {
			return nil, err
		}
		body = append(body, enc[1:]...)
	}
	return appendCompound(b, 0xe0, 0xf0, len(a.Values), body), nil
}

func arrayElemCode(v any) (byte, error) {
	enc, err := appendWide(nil, v)
	if err != nil {
		return 0, err
	}
	return enc[0], nil
}

// appendWide encodes v with a fixed constructor per Go type (the form arrays need).
func appendWide(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return append(b, 0x56, 1), nil
		}
		return append(b, 0x56, 0), nil
	case uint32:
		return binary.BigEndian.AppendUint32(append(b, 0x70), x), nil
	case int32:
		return binary.BigEndian.AppendUint32(append(b, 0x71), uint32(x)), nil
	case uint64:
		return binary.BigEndian.AppendUint64(append(b, 0x80), x), nil
	case int64:
		return binary.BigEndian.AppendUint64(append(b, 0x81), uint64(x)), nil
	case string:
		return append(binary.BigEndian.AppendUint32(append(b, 0xb1), uint32(len(x))), x...), nil
	case Symbol:
		return append(binary.BigEndian.AppendUint32(append(b, 0xb3), uint32(len(x))), x...), nil
	case []byte:
		return append(binary.BigEndian.AppendUint32(append(b, 0xb0), uint32(len(x))), x...), nil
	}
	return Append(b, v)
}
