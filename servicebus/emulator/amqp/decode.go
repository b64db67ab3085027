package amqp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of compound values so a hostile peer cannot exhaust the stack.
const MaxDepth = 32

// ErrTruncated is returned when a value claims more bytes than remain.
var ErrTruncated = errors.New("amqp: value truncated")

// Decode decodes one value from b and returns it with the number of bytes it used.
func Decode(b []byte) (any, int, error) {
	r := reader{b: b}
	v, err := r.value(0)
	if err != nil {
		return nil, 0, err
	}
	return v, r.off, nil
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) next(n int) ([]byte, error) {
	if n < 0 || n > r.remaining() {
		return nil, ErrTruncated
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, nil
}

func (r *reader) byte() (byte, error) {
	s, err := r.next(1)
	if err != nil {
		return 0, err
	}
	return s[0], nil
}

func (r *reader) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("amqp: values nested deeper than %d", MaxDepth)
	}
	code, err := r.byte()
	if err != nil {
		return nil, err
	}
	if code == 0x00 {
		desc, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, isDescribed := desc.(Described); isDescribed {
			return nil, errors.New("amqp: a descriptor must not itself be described")
		}
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		return Described{Descriptor: desc, Value: v}, nil
	}
	return r.body(code, depth)
}

func (r *reader) size(width int) (int, error) {
	s, err := r.next(width)
	if err != nil {
		return 0, err
	}
	var n uint32
	if width == 1 {
		n = uint32(s[0])
	} else {
		n = binary.BigEndian.Uint32(s)
	}
	if int64(n) > int64(r.remaining()) {
		return 0, ErrTruncated
	}
	return int(n), nil
}

// body decodes the value that follows constructor code.
func (r *reader) body(code byte, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("amqp: values nested deeper than %d", MaxDepth)
	}
	switch code {
	case 0x40:
		return nil, nil
	case 0x41:
		return true, nil
	case 0x42:
		return false, nil
	case 0x56:
		b, err := r.byte()
		if err != nil {
			return nil, err
		}
		if b > 1 {
			return nil, fmt.Errorf("amqp: invalid boolean byte 0x%02x", b)
		}
		return b == 1, nil
	case 0x50:
		return r.byte()
	case 0x51:
		b, err := r.byte()
		return int8(b), err
	case 0x60, 0x61:
		s, err := r.next(2)
		if err != nil {
			return nil, err
		}
		if code == 0x60 {
			return binary.BigEndian.Uint16(s), nil
		}
		return int16(binary.BigEndian.Uint16(s)), nil
	case 0x43:
		return uint32(0), nil
	case 0x52:
		b, err := r.byte()
		return uint32(b), err
	case 0x54:
		b, err := r.byte()
		return int32(int8(b)), err
	case 0x70, 0x71, 0x72, 0x73:
		s, err := r.next(4)
		if err != nil {
			return nil, err
		}
		u := binary.BigEndian.Uint32(s)
		switch code {
		case 0x70:
			return u, nil
		case 0x71:
			return int32(u), nil
		case 0x72:
			return math.Float32frombits(u), nil
		default:
			return Char(rune(u)), nil
		}
	case 0x44:
		return uint64(0), nil
	case 0x53:
		b, err := r.byte()
		return uint64(b), err
	case 0x55:
		b, err := r.byte()
		return int64(int8(b)), err
	case 0x80, 0x81, 0x82, 0x83:
		s, err := r.next(8)
		if err != nil {
			return nil, err
		}
		u := binary.BigEndian.Uint64(s)
		switch code {
		case 0x80:
			return u, nil
		case 0x81:
			return int64(u), nil
		case 0x82:
			return math.Float64frombits(u), nil
		default:
			return time.UnixMilli(int64(u)).UTC(), nil
		}
	case 0x74, 0x84, 0x94:
		n := map[byte]int{0x74: 4, 0x84: 8, 0x94: 16}[code]
		s, err := r.next(n)
		if err != nil {
			return nil, err
		}
		return Decimal{Code: code, Bytes: append([]byte(nil), s...)}, nil
	case 0x98:
		s, err := r.next(16)
		if err != nil {
			return nil, err
		}
		var u UUID
		copy(u[:], s)
		return u, nil
	case 0xa0, 0xb0, 0xa1, 0xb1, 0xa3, 0xb3:
		width := 1
		if code&0xf0 == 0xb0 {
			width = 4
		}
		n, err := r.size(width)
		if err != nil {
			return nil, err
		}
		s, _ := r.next(n)
		switch code {
		case 0xa0, 0xb0:
			return append([]byte(nil), s...), nil
		case 0xa1, 0xb1:
			if !utf8.Valid(s) {
				return nil, errors.New("amqp: string is not valid UTF-8")
			}
			return string(s), nil
		default:
			return Symbol(s), nil
		}
	case 0x45:
		return []any{}, nil
	case 0xc0, 0xd0, 0xc1, 0xd1:
		width := 1
		if code&0xf0 == 0xd0 {
			width = 4
		}
		size, err := r.size(width)
		if err != nil {
			return nil, err
		}
		end := r.off + size
		if size < width {
			return nil, errors.New("amqp: compound size smaller than its count")
		}
		cs, _ := r.next(width)
		count := int(cs[0])
		if width == 4 {
			c := binary.BigEndian.Uint32(cs)
			if c > uint32(size) {
				return nil, errors.New("amqp: compound count exceeds its size")
			}
			count = int(c)
		}
		// Every element takes at least one byte: refuse counts the bytes cannot hold before
		// allocating anything.
		if count > end-r.off {
			return nil, errors.New("amqp: compound count exceeds its size")
		}
		sub := reader{b: r.b[:end], off: r.off}
		var out any
		if code == 0xc0 || code == 0xd0 {
			list := make([]any, 0, count)
			for range count {
				v, err := sub.value(depth + 1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			out = list
		} else {
			if count%2 != 0 {
				return nil, errors.New("amqp: map with an odd number of elements")
			}
			m := make(Map, 0, count/2)
			for range count / 2 {
				k, err := sub.value(depth + 1)
				if err != nil {
					return nil, err
				}
				v, err := sub.value(depth + 1)
				if err != nil {
					return nil, err
				}
				m = append(m, KV{Key: k, Value: v})
			}
			out = m
		}
		if sub.off != end {
			return nil, errors.New("amqp: compound size does not match its elements")
		}
		r.off = end
		return out, nil
	case 0xe0, 0xf0:
		return r.array(code, depth)
	}
	return nil, fmt.Errorf("amqp: unknown type code 0x%02x", code)
}

func (r *reader) array(code byte, depth int) (any, error) {
	width := 1
	if code == 0xf0 {
		width = 4
	}
	size, err := r.size(width)
	if err != nil {
		return nil, err
	}
	end := r.off + size
	cs, err := r.next(width)
	if err != nil || r.off > end {
		return nil, ErrTruncated
	}
	count := int(cs[0])
	if width == 4 {
		c := binary.BigEndian.Uint32(cs)
		if c > uint32(size) {
			return nil, errors.New("amqp: array count exceeds its size")
		}
		count = int(c)
	}
	sub := reader{b: r.b[:end], off: r.off}
	elem, err := sub.byte()
	if err != nil {
		return nil, err
	}
	var desc any
	isDescribed := elem == 0x00
	if isDescribed {
		if desc, err = sub.value(depth + 1); err != nil {
			return nil, err
		}
		if elem, err = sub.byte(); err != nil {
			return nil, err
		}
	}
	if elem == 0x00 {
		return nil, errors.New("amqp: invalid array element constructor")
	}
	// Fixed-width zero-byte elements (null, true, uint0...) need no bytes, so cap their count
	// separately to keep the allocation bounded.
	if count > end-sub.off && count > 4096 {
		return nil, errors.New("amqp: array count exceeds its size")
	}
	vals := make([]any, 0, min(count, 4096))
	for range count {
		v, err := sub.body(elem, depth+1)
		if err != nil {
			return nil, err
		}
		if isDescribed {
			v = Described{Descriptor: desc, Value: v}
		}
		vals = append(vals, v)
	}
	if sub.off != end {
		return nil, errors.New("amqp: array size does not match its elements")
	}
	r.off = end
	return Array{Elem: elem, Values: vals}, nil
}
