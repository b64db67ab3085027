package emulator

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/contoso/sbportal/servicebus/emulator/amqp"
)

// rawOpen connects without SASL, exchanges protocol headers and open frames.
func rawOpen(t *testing.T, addr string, open *amqp.Open) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	nc.Write(amqp.HeaderAMQP[:])
	var hdr [8]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil || hdr != amqp.HeaderAMQP {
		t.Fatalf("protocol header = %q, %v", hdr, err)
	}
	if open == nil {
		open = &amqp.Open{ContainerID: "hostile", MaxFrameSize: 65536, ChannelMax: 65535}
	}
	nc.Write(amqp.AppendFrame(nil, amqp.FrameAMQP, 0, open, nil))
	return nc
}

// closeCondition reads frames until close and returns its error condition; it fails the test
// if the connection ends without a close frame.
func closeCondition(t *testing.T, nc net.Conn) amqp.Symbol {
	t.Helper()
	for {
		f, err := amqp.ReadFrame(nc, 1<<20)
		if err != nil {
			t.Fatalf("connection ended without close: %v", err)
		}
		if c, ok := f.Body.(*amqp.Close); ok {
			if c.Error == nil {
				return ""
			}
			// After close the server must drop the socket.
			if _, err := amqp.ReadFrame(nc, 1<<20); err == nil {
				t.Errorf("server kept sending after close")
			}
			return c.Error.Condition
		}
	}
}

func TestHostileInput(t *testing.T) {
	_, addr := startServer(t, DefaultConfig(), Options{Limits: Limits{IdleTimeout: 300 * time.Millisecond}})

	t.Run("bad protocol header", func(t *testing.T) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		got, _ := io.ReadAll(nc)
		if !bytes.Equal(got, amqp.HeaderSASL[:]) {
			t.Fatalf("answer to an HTTP request = %q, want the supported AMQP header then EOF", got)
		}
	})

	cases := []struct {
		name  string
		open  *amqp.Open
		frame []byte
		want  amqp.Symbol
	}{
		{"huge declared frame size", nil, []byte{0xff, 0xff, 0xff, 0xf0, 2, 0, 0, 0}, amqp.ErrFramingError},
		{"frame smaller than its header", nil, []byte{0, 0, 0, 4, 2, 0, 0, 0}, amqp.ErrFramingError},
		{"garbage body", nil, amqp.AppendFrame(nil, 0, 0, nil, []byte{0x00, 0x53, 0x11, 0xd0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1}), amqp.ErrDecode},
		{"unknown type code", nil, amqp.AppendFrame(nil, 0, 0, nil, []byte{0xee}), amqp.ErrDecode},
		{"channel beyond channel-max", nil, amqp.AppendFrame(nil, 0, 300, &amqp.Begin{IncomingWindow: 10, OutgoingWindow: 10}, nil), amqp.ErrResourceLimitExceeded},
		{"frame on a channel without session", nil, amqp.AppendFrame(nil, 0, 3, &amqp.End{}, nil), amqp.ErrIllegalState},
		{"max-frame-size below 512", &amqp.Open{ContainerID: "x", MaxFrameSize: 100}, nil, amqp.ErrFrameSizeTooSmall},
		{"link handle beyond handle-max", nil, append(amqp.AppendFrame(nil, 0, 0, &amqp.Begin{IncomingWindow: 10, OutgoingWindow: 10}, nil),
			amqp.AppendFrame(nil, 0, 0, &amqp.Attach{Name: "l", Handle: 100000, Role: amqp.RoleSender, Target: amqp.NewTarget(DefaultQueue)}, nil)...), amqp.ErrResourceLimitExceeded},
		{"transfer on an unattached handle", nil, append(amqp.AppendFrame(nil, 0, 0, &amqp.Begin{IncomingWindow: 10, OutgoingWindow: 10}, nil),
			amqp.AppendFrame(nil, 0, 0, &amqp.Transfer{Handle: 7, DeliveryID: to(uint32(0)), DeliveryTag: []byte{1}}, []byte{0x00, 0x53, 0x77, 0x40})...), amqp.ErrUnattachedHandle},
		{"idle peer", nil, nil, amqp.ErrResourceLimitExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := rawOpen(t, addr, tc.open)
			if tc.frame != nil {
				nc.Write(tc.frame)
			}
			if got := closeCondition(t, nc); got != tc.want {
				t.Fatalf("close condition = %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("too many sessions", func(t *testing.T) {
		_, addr := startServer(t, DefaultConfig(), Options{Limits: Limits{ChannelMax: 3}})
		nc := rawOpen(t, addr, nil)
		for ch := range uint16(5) {
			nc.Write(amqp.AppendFrame(nil, 0, ch, &amqp.Begin{IncomingWindow: 10, OutgoingWindow: 10}, nil))
		}
		if got := closeCondition(t, nc); got != amqp.ErrResourceLimitExceeded {
			t.Fatalf("close condition = %q", got)
		}
	})

	t.Run("too many connections", func(t *testing.T) {
		_, addr := startServer(t, DefaultConfig(), Options{Limits: Limits{MaxConnections: 2}})
		a, b := rawOpen(t, addr, nil), rawOpen(t, addr, nil)
		for _, nc := range []net.Conn{a, b} {
			if f, err := amqp.ReadFrame(nc, 1<<20); err != nil {
				t.Fatalf("connection within the limit: %v", err)
			} else if _, ok := f.Body.(*amqp.Open); !ok {
				t.Fatalf("connection within the limit got %T", f.Body)
			}
		}
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write(amqp.HeaderAMQP[:])
		// Dropped: EOF or a reset, and not a single byte of AMQP.
		if got, _ := io.ReadAll(nc); len(got) != 0 {
			t.Fatalf("third connection got %q; want it dropped", got)
		}
	})

	t.Run("partial frame then silence", func(t *testing.T) {
		nc := rawOpen(t, addr, nil)
		var b [8]byte
		binary.BigEndian.PutUint32(b[:], 60000)
		b[4] = 2
		nc.Write(b[:])
		nc.Write(make([]byte, 100))
		// The server must not wait forever for the rest of the frame.
		if got := closeCondition(t, nc); got != amqp.ErrResourceLimitExceeded {
			t.Fatalf("close condition = %q", got)
		}
	})
}
