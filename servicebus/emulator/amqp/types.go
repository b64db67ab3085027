// Package amqp is the AMQP 1.0 wire codec of the Service Bus emulator: the type system
// (encoding and decoding of primitive, described and compound values), frame headers, the
// transport and SASL performatives, and the message sections the broker needs to read and
// annotate.
//
// It is written for a server that faces untrusted peers: every decoder checks bounds before it
// reads, counts are checked against the bytes that remain before anything is allocated, and
// nesting is limited, so hostile input yields an error, never a panic or an unbounded
// allocation. It must not do I/O beyond reading one frame from a reader it is given, and it
// knows nothing about Service Bus.
package amqp

import (
	"encoding/hex"
	"fmt"
	"time"
)

// Symbol is an AMQP symbol: an ASCII name from a constrained domain (error conditions,
// capabilities, annotation keys).
type Symbol string

// UUID is an AMQP uuid (RFC 4122 bytes).
type UUID [16]byte

func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// Char is an AMQP char (a UTF-32BE code point).
type Char rune

// Decimal holds the raw bytes of an AMQP decimal32/64/128: the emulator only carries them.
type Decimal struct {
	Code  byte
	Bytes []byte
}

// Described is a value with a descriptor (a Symbol or a uint64 code).
type Described struct {
	Descriptor any
	Value      any
}

// KV is one entry of a Map.
type KV struct {
	Key   any
	Value any
}

// Map is an AMQP map kept in wire order; keys may be of any AMQP type (binary keys are not
// comparable in Go, so a Go map cannot hold them).
type Map []KV

// Get returns the value for a string or symbol key (AMQP application properties use strings,
// annotations use symbols; callers of Get do not care which).
func (m Map) Get(key string) (any, bool) {
	for _, kv := range m {
		switch k := kv.Key.(type) {
		case string:
			if k == key {
				return kv.Value, true
			}
		case Symbol:
			if string(k) == key {
				return kv.Value, true
			}
		}
	}
	return nil, false
}

// GetString returns the value for key when it is a string or a symbol.
func (m Map) GetString(key string) (string, bool) {
	v, ok := m.Get(key)
	if !ok {
		return "", false
	}
	switch s := v.(type) {
	case string:
		return s, true
	case Symbol:
		return string(s), true
	}
	return "", false
}

// Set replaces the value of an existing string/symbol key or appends the pair.
func (m Map) Set(key, value any) Map {
	for i, kv := range m {
		if keyEqual(kv.Key, key) {
			m[i].Value = value
			return m
		}
	}
	return append(m, KV{Key: key, Value: value})
}

func keyEqual(a, b any) bool {
	as, aok := stringish(a)
	bs, bok := stringish(b)
	if aok && bok {
		return as == bs
	}
	return false
}

func stringish(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case Symbol:
		return string(s), true
	}
	return "", false
}

// Array is an AMQP array: all elements share one type. The encoder takes the element type from
// the first element (or Elem when empty).
type Array struct {
	Elem   byte // constructor code used when the array is empty
	Values []any
}

// Timestamp converts milliseconds since the Unix epoch to a UTC time.
func Timestamp(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// AsInt64 converts any AMQP integer type to int64.
func AsInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n > 1<<63-1 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

// AsUint64 converts any non-negative AMQP integer to uint64.
func AsUint64(v any) (uint64, bool) {
	if u, ok := v.(uint64); ok {
		return u, true
	}
	n, ok := AsInt64(v)
	if !ok || n < 0 {
		return 0, false
	}
	return uint64(n), true
}

// DescriptorCode returns the numeric descriptor of d, mapping the well-known symbolic
// descriptors of the types this package handles to their codes.
func DescriptorCode(d any) (uint64, bool) {
	switch v := d.(type) {
	case uint64:
		return v, true
	case Symbol:
		c, ok := symbolicDescriptors[string(v)]
		return c, ok
	}
	return 0, false
}

var symbolicDescriptors = map[string]uint64{
	"amqp:open:list": 0x10, "amqp:begin:list": 0x11, "amqp:attach:list": 0x12, "amqp:flow:list": 0x13,
	"amqp:transfer:list": 0x14, "amqp:disposition:list": 0x15, "amqp:detach:list": 0x16,
	"amqp:end:list": 0x17, "amqp:close:list": 0x18, "amqp:error:list": 0x1d,
	"amqp:received:list": 0x23, "amqp:accepted:list": 0x24, "amqp:rejected:list": 0x25,
	"amqp:released:list": 0x26, "amqp:modified:list": 0x27, "amqp:source:list": 0x28,
	"amqp:target:list": 0x29, "amqp:sasl-mechanisms:list": 0x40, "amqp:sasl-init:list": 0x41,
	"amqp:sasl-challenge:list": 0x42, "amqp:sasl-response:list": 0x43, "amqp:sasl-outcome:list": 0x44,
	"amqp:header:list": 0x70, "amqp:delivery-annotations:map": 0x71,
	"amqp:message-annotations:map": 0x72, "amqp:properties:list": 0x73,
	"amqp:application-properties:map": 0x74, "amqp:data:binary": 0x75,
	"amqp:amqp-sequence:list": 0x76, "amqp:amqp-value:*": 0x77, "amqp:footer:map": 0x78,
}

// Error is the AMQP error type carried by detach, end, close, rejected and flow.
type Error struct {
	Condition   Symbol
	Description string
	Info        Map
}

func (e *Error) Error() string {
	if e.Description == "" {
		return string(e.Condition)
	}
	return fmt.Sprintf("%s: %s", e.Condition, e.Description)
}

// Well-known error conditions.
const (
	ErrInternal              Symbol = "amqp:internal-error"
	ErrNotFound              Symbol = "amqp:not-found"
	ErrUnauthorizedAccess    Symbol = "amqp:unauthorized-access"
	ErrDecode                Symbol = "amqp:decode-error"
	ErrResourceLimitExceeded Symbol = "amqp:resource-limit-exceeded"
	ErrNotAllowed            Symbol = "amqp:not-allowed"
	ErrInvalidField          Symbol = "amqp:invalid-field"
	ErrNotImplemented        Symbol = "amqp:not-implemented"
	ErrIllegalState          Symbol = "amqp:illegal-state"
	ErrFrameSizeTooSmall     Symbol = "amqp:frame-size-too-small"
	ErrConnectionForced      Symbol = "amqp:connection:forced"
	ErrFramingError          Symbol = "amqp:connection:framing-error"
	ErrWindowViolation       Symbol = "amqp:session:window-violation"
	ErrUnattachedHandle      Symbol = "amqp:session:unattached-handle"
	ErrHandleInUse           Symbol = "amqp:session:handle-in-use"
	ErrDetachForced          Symbol = "amqp:link:detach-forced"
	ErrTransferLimitExceeded Symbol = "amqp:link:transfer-limit-exceeded"
	ErrMessageSizeExceeded   Symbol = "amqp:link:message-size-exceeded"
)
