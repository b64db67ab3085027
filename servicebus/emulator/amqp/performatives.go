package amqp

import "fmt"

// Open is the open performative (AMQP 2.7.1).
type Open struct {
	ContainerID         string
	Hostname            string
	MaxFrameSize        uint32
	ChannelMax          uint16
	IdleTimeout         uint32 // milliseconds; 0 = none
	OfferedCapabilities any
	DesiredCapabilities any
	Properties          Map
}

func (o *Open) parse(f fieldList) error {
	var err error
	if err = f.required(0); err != nil {
		return err
	}
	if o.ContainerID, err = f.str(0); err != nil {
		return err
	}
	if o.Hostname, err = f.str(1); err != nil {
		return err
	}
	if o.MaxFrameSize, err = f.uint32(2, 1<<32-1); err != nil {
		return err
	}
	if o.ChannelMax, err = f.uint16(3, 65535); err != nil {
		return err
	}
	if o.IdleTimeout, err = f.uint32(4, 0); err != nil {
		return err
	}
	o.OfferedCapabilities, o.DesiredCapabilities = f.at(7), f.at(8)
	o.Properties, err = f.fmap(9)
	return err
}

func (o *Open) Described() Described {
	var idle any
	if o.IdleTimeout > 0 {
		idle = o.IdleTimeout
	}
	return described(0x10, o.ContainerID, optStr(o.Hostname), o.MaxFrameSize, o.ChannelMax, idle,
		nil, nil, o.OfferedCapabilities, o.DesiredCapabilities, optMap(o.Properties))
}

// Begin is the begin performative (AMQP 2.7.2).
type Begin struct {
	RemoteChannel  *uint16
	NextOutgoingID uint32
	IncomingWindow uint32
	OutgoingWindow uint32
	HandleMax      uint32
	Properties     Map
}

func (b *Begin) parse(f fieldList) error {
	var err error
	if v := f.at(0); v != nil {
		rc, ok := v.(uint16)
		if !ok {
			return fmt.Errorf("remote-channel: want ushort, got %T", v)
		}
		b.RemoteChannel = &rc
	}
	for _, i := range []int{1, 2, 3} {
		if err = f.required(i); err != nil {
			return err
		}
	}
	if b.NextOutgoingID, err = f.uint32(1, 0); err != nil {
		return err
	}
	if b.IncomingWindow, err = f.uint32(2, 0); err != nil {
		return err
	}
	if b.OutgoingWindow, err = f.uint32(3, 0); err != nil {
		return err
	}
	if b.HandleMax, err = f.uint32(4, 1<<32-1); err != nil {
		return err
	}
	b.Properties, err = f.fmap(7)
	return err
}

func (b *Begin) Described() Described {
	var rc any
	if b.RemoteChannel != nil {
		rc = *b.RemoteChannel
	}
	return described(0x11, rc, b.NextOutgoingID, b.IncomingWindow, b.OutgoingWindow, b.HandleMax,
		nil, nil, optMap(b.Properties))
}

// Role values of attach and disposition.
const (
	RoleSender   = false
	RoleReceiver = true
)

// Settle modes.
const (
	SndUnsettled uint8 = 0
	SndSettled   uint8 = 1
	SndMixed     uint8 = 2
	RcvFirst     uint8 = 0
	RcvSecond    uint8 = 1
)

// Terminus is a source (0x28) or target (0x29), kept as its field list so it can be echoed
// back unchanged.
type Terminus struct {
	Code   uint64
	Fields []any
}

// Address returns the terminus address when it is a string or symbol.
func (t *Terminus) Address() string {
	if t == nil {
		return ""
	}
	s, _ := fieldList(t.Fields).str(0)
	return s
}

// Filter returns the filter-set of a source.
func (t *Terminus) Filter() Map {
	if t == nil || t.Code != 0x28 {
		return nil
	}
	m, _ := fieldList(t.Fields).fmap(7)
	return m
}

// Dynamic reports whether the peer asks the node to be created dynamically.
func (t *Terminus) Dynamic() bool {
	if t == nil {
		return false
	}
	b, _ := fieldList(t.Fields).bool(4)
	return b
}

func parseTerminus(v any, code uint64) (*Terminus, error) {
	if v == nil {
		return nil, nil
	}
	d, ok := v.(Described)
	if !ok {
		return nil, fmt.Errorf("terminus is not described")
	}
	c, ok := DescriptorCode(d.Descriptor)
	if !ok || c != code {
		return nil, fmt.Errorf("terminus has descriptor %v, want 0x%x", d.Descriptor, code)
	}
	l, ok := d.Value.([]any)
	if !ok {
		return nil, fmt.Errorf("terminus is not a list")
	}
	t := &Terminus{Code: code, Fields: l}
	if _, err := fieldList(l).str(0); err != nil {
		return nil, fmt.Errorf("address: %w", err)
	}
	if _, err := fieldList(l).bool(4); err != nil {
		return nil, fmt.Errorf("dynamic: %w", err)
	}
	if code == 0x28 {
		if _, err := fieldList(l).fmap(7); err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
	}
	return t, nil
}

func (t *Terminus) value() any {
	if t == nil {
		return nil
	}
	return Described{Descriptor: t.Code, Value: t.Fields}
}

// NewTarget returns a target terminus for address.
func NewTarget(address string) *Terminus { return &Terminus{Code: 0x29, Fields: []any{address}} }

// NewSource returns a source terminus for address.
func NewSource(address string) *Terminus { return &Terminus{Code: 0x28, Fields: []any{address}} }

// Attach is the attach performative (AMQP 2.7.3).
type Attach struct {
	Name                 string
	Handle               uint32
	Role                 bool
	SndSettleMode        *uint8
	RcvSettleMode        *uint8
	Source               *Terminus
	Target               *Terminus
	InitialDeliveryCount *uint32
	MaxMessageSize       uint64
	OfferedCapabilities  any
	DesiredCapabilities  any
	Properties           Map
}

func (a *Attach) parse(f fieldList) error {
	var err error
	for _, i := range []int{0, 1, 2} {
		if err = f.required(i); err != nil {
			return err
		}
	}
	if a.Name, err = f.str(0); err != nil {
		return err
	}
	if a.Handle, err = f.uint32(1, 0); err != nil {
		return err
	}
	if a.Role, err = f.bool(2); err != nil {
		return err
	}
	if a.SndSettleMode, err = f.uint8p(3); err != nil {
		return err
	}
	if a.RcvSettleMode, err = f.uint8p(4); err != nil {
		return err
	}
	if a.SndSettleMode != nil && *a.SndSettleMode > SndMixed || a.RcvSettleMode != nil && *a.RcvSettleMode > RcvSecond {
		return fmt.Errorf("invalid settle mode")
	}
	if a.Source, err = parseTerminus(f.at(5), 0x28); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	if a.Target, err = parseTerminus(f.at(6), 0x29); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	if a.InitialDeliveryCount, err = f.uint32p(9); err != nil {
		return err
	}
	if v := f.at(10); v != nil {
		n, ok := v.(uint64)
		if !ok {
			return fmt.Errorf("max-message-size: want ulong, got %T", v)
		}
		a.MaxMessageSize = n
	}
	a.OfferedCapabilities, a.DesiredCapabilities = f.at(11), f.at(12)
	a.Properties, err = f.fmap(13)
	return err
}

func (a *Attach) Described() Described {
	var snd, rcv, mms any
	if a.SndSettleMode != nil {
		snd = *a.SndSettleMode
	}
	if a.RcvSettleMode != nil {
		rcv = *a.RcvSettleMode
	}
	if a.MaxMessageSize > 0 {
		mms = a.MaxMessageSize
	}
	return described(0x12, a.Name, a.Handle, a.Role, snd, rcv, a.Source.value(), a.Target.value(),
		nil, nil, optU32(a.InitialDeliveryCount), mms, a.OfferedCapabilities, a.DesiredCapabilities, optMap(a.Properties))
}

// Flow is the flow performative (AMQP 2.7.4).
type Flow struct {
	NextIncomingID *uint32
	IncomingWindow uint32
	NextOutgoingID uint32
	OutgoingWindow uint32
	Handle         *uint32
	DeliveryCount  *uint32
	LinkCredit     *uint32
	Available      *uint32
	Drain          bool
	Echo           bool
	Properties     Map
}

func (fl *Flow) parse(f fieldList) error {
	var err error
	for _, i := range []int{1, 2, 3} {
		if err = f.required(i); err != nil {
			return err
		}
	}
	if fl.NextIncomingID, err = f.uint32p(0); err != nil {
		return err
	}
	if fl.IncomingWindow, err = f.uint32(1, 0); err != nil {
		return err
	}
	if fl.NextOutgoingID, err = f.uint32(2, 0); err != nil {
		return err
	}
	if fl.OutgoingWindow, err = f.uint32(3, 0); err != nil {
		return err
	}
	if fl.Handle, err = f.uint32p(4); err != nil {
		return err
	}
	if fl.DeliveryCount, err = f.uint32p(5); err != nil {
		return err
	}
	if fl.LinkCredit, err = f.uint32p(6); err != nil {
		return err
	}
	if fl.Available, err = f.uint32p(7); err != nil {
		return err
	}
	if fl.Drain, err = f.bool(8); err != nil {
		return err
	}
	if fl.Echo, err = f.bool(9); err != nil {
		return err
	}
	fl.Properties, err = f.fmap(10)
	return err
}

func (fl *Flow) Described() Described {
	return described(0x13, optU32(fl.NextIncomingID), fl.IncomingWindow, fl.NextOutgoingID, fl.OutgoingWindow,
		optU32(fl.Handle), optU32(fl.DeliveryCount), optU32(fl.LinkCredit), optU32(fl.Available),
		optBool(fl.Drain), optBool(fl.Echo), optMap(fl.Properties))
}

// Transfer is the transfer performative (AMQP 2.7.5); the payload travels in Frame.Payload.
type Transfer struct {
	Handle        uint32
	DeliveryID    *uint32
	DeliveryTag   []byte
	MessageFormat *uint32
	Settled       *bool
	More          bool
	RcvSettleMode *uint8
	State         any
	Resume        bool
	Aborted       bool
	Batchable     bool
}

func (t *Transfer) parse(f fieldList) error {
	var err error
	if err = f.required(0); err != nil {
		return err
	}
	if t.Handle, err = f.uint32(0, 0); err != nil {
		return err
	}
	if t.DeliveryID, err = f.uint32p(1); err != nil {
		return err
	}
	if t.DeliveryTag, err = f.binary(2); err != nil {
		return err
	}
	if len(t.DeliveryTag) > 32 {
		return fmt.Errorf("delivery-tag longer than 32 bytes")
	}
	if t.MessageFormat, err = f.uint32p(3); err != nil {
		return err
	}
	if f.at(4) != nil {
		s, err := f.bool(4)
		if err != nil {
			return err
		}
		t.Settled = &s
	}
	if t.More, err = f.bool(5); err != nil {
		return err
	}
	if t.RcvSettleMode, err = f.uint8p(6); err != nil {
		return err
	}
	t.State = f.at(7)
	if t.Resume, err = f.bool(8); err != nil {
		return err
	}
	if t.Aborted, err = f.bool(9); err != nil {
		return err
	}
	t.Batchable, err = f.bool(10)
	return err
}

func (t *Transfer) Described() Described {
	var settled, rcv, tag any
	if t.Settled != nil {
		settled = *t.Settled
	}
	if t.RcvSettleMode != nil {
		rcv = *t.RcvSettleMode
	}
	if t.DeliveryTag != nil {
		tag = t.DeliveryTag
	}
	return described(0x14, t.Handle, optU32(t.DeliveryID), tag, optU32(t.MessageFormat), settled,
		optBool(t.More), rcv, t.State, optBool(t.Resume), optBool(t.Aborted), optBool(t.Batchable))
}

// Disposition is the disposition performative (AMQP 2.7.6).
type Disposition struct {
	Role      bool
	First     uint32
	Last      *uint32
	Settled   bool
	State     any
	Batchable bool
}

func (d *Disposition) parse(f fieldList) error {
	var err error
	for _, i := range []int{0, 1} {
		if err = f.required(i); err != nil {
			return err
		}
	}
	if d.Role, err = f.bool(0); err != nil {
		return err
	}
	if d.First, err = f.uint32(1, 0); err != nil {
		return err
	}
	if d.Last, err = f.uint32p(2); err != nil {
		return err
	}
	if d.Settled, err = f.bool(3); err != nil {
		return err
	}
	d.State = f.at(4)
	d.Batchable, err = f.bool(5)
	return err
}

func (d *Disposition) Described() Described {
	return described(0x15, d.Role, d.First, optU32(d.Last), optBool(d.Settled), d.State, optBool(d.Batchable))
}

// Detach is the detach performative (AMQP 2.7.7).
type Detach struct {
	Handle uint32
	Closed bool
	Error  *Error
}

func (d *Detach) parse(f fieldList) error {
	var err error
	if err = f.required(0); err != nil {
		return err
	}
	if d.Handle, err = f.uint32(0, 0); err != nil {
		return err
	}
	if d.Closed, err = f.bool(1); err != nil {
		return err
	}
	d.Error, err = f.err(2)
	return err
}

func (d *Detach) Described() Described {
	return described(0x16, d.Handle, optBool(d.Closed), optErr(d.Error))
}

// End is the end performative (AMQP 2.7.8).
type End struct{ Error *Error }

func (e *End) parse(f fieldList) (err error) {
	e.Error, err = f.err(0)
	return err
}

func (e *End) Described() Described { return described(0x17, optErr(e.Error)) }

// Close is the close performative (AMQP 2.7.9).
type Close struct{ Error *Error }

func (c *Close) parse(f fieldList) (err error) {
	c.Error, err = f.err(0)
	return err
}

func (c *Close) Described() Described { return described(0x18, optErr(c.Error)) }

// SASLMechanisms is sasl-mechanisms (AMQP 5.3.3.1).
type SASLMechanisms struct{ Mechanisms []Symbol }

func (s *SASLMechanisms) parse(f fieldList) error {
	switch v := f.at(0).(type) {
	case Symbol:
		s.Mechanisms = []Symbol{v}
	case Array:
		for _, m := range v.Values {
			if sym, ok := m.(Symbol); ok {
				s.Mechanisms = append(s.Mechanisms, sym)
			}
		}
	default:
		return fmt.Errorf("sasl-server-mechanisms: want symbols, got %T", v)
	}
	return nil
}

func (s *SASLMechanisms) Described() Described { return described(0x40, s.Mechanisms) }

// SASLInit is sasl-init (AMQP 5.3.3.2).
type SASLInit struct {
	Mechanism       Symbol
	InitialResponse []byte
	Hostname        string
}

func (s *SASLInit) parse(f fieldList) error {
	m, ok := f.at(0).(Symbol)
	if !ok {
		return fmt.Errorf("mechanism: want symbol, got %T", f.at(0))
	}
	s.Mechanism = m
	var err error
	if s.InitialResponse, err = f.binary(1); err != nil {
		return err
	}
	s.Hostname, err = f.str(2)
	return err
}

func (s *SASLInit) Described() Described {
	var ir any
	if s.InitialResponse != nil {
		ir = s.InitialResponse
	}
	return described(0x41, s.Mechanism, ir, optStr(s.Hostname))
}

// SASLChallenge is sasl-challenge; the emulator never sends one and refuses to receive one.
type SASLChallenge struct{}

func (s *SASLChallenge) parse(fieldList) error { return nil }
func (s *SASLChallenge) Described() Described  { return described(0x42, []byte{}) }

// SASLResponse is sasl-response; accepted by the decoder so it can be refused with a reason.
type SASLResponse struct{}

func (s *SASLResponse) parse(fieldList) error { return nil }
func (s *SASLResponse) Described() Described  { return described(0x43, []byte{}) }

// SASLOutcome is sasl-outcome (AMQP 5.3.3.6). Code 0 = ok, 1 = auth failure.
type SASLOutcome struct{ Code uint8 }

func (s *SASLOutcome) parse(f fieldList) error {
	c, ok := f.at(0).(uint8)
	if !ok {
		return fmt.Errorf("code: want ubyte, got %T", f.at(0))
	}
	s.Code = c
	return nil
}

func (s *SASLOutcome) Described() Described { return described(0x44, s.Code) }

// Delivery states.
var (
	Accepted = Described{Descriptor: uint64(0x24), Value: []any{}}
	Released = Described{Descriptor: uint64(0x26), Value: []any{}}
)

// Rejected returns the rejected outcome carrying err.
func Rejected(err *Error) Described {
	return Described{Descriptor: uint64(0x25), Value: []any{err}}
}

// StateCode returns the descriptor code of a delivery state (0 when absent or unknown).
func StateCode(state any) uint64 {
	d, ok := state.(Described)
	if !ok {
		return 0
	}
	c, _ := DescriptorCode(d.Descriptor)
	return c
}

// Delivery state codes.
const (
	StateReceived uint64 = 0x23
	StateAccepted uint64 = 0x24
	StateRejected uint64 = 0x25
	StateReleased uint64 = 0x26
	StateModified uint64 = 0x27
)
