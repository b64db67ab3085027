package emulator

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/contoso/sbportal/servicebus/emulator/amqp"
)

const (
	sessionWindow = 5000 // transfer frames a client may send before we widen the window
	linkCredit    = 500  // credit granted to a client sender, topped up at half
	maxReplies    = 256  // queued management/CBS responses per reply link
	maxReplyBytes = 8 << 20
	// maxConnReplyBytes bounds queued responses across all reply links of a connection.
	maxConnReplyBytes = 16 << 20
	maxPeekBytes      = 4 << 20 // a peek response stops adding messages beyond this
)

// conn is one AMQP connection. The reader goroutine handles incoming frames; the pump
// goroutine sends deliveries and heartbeats. Both hold mu while they touch state or write, so
// the protocol state has a single owner at a time.
type conn struct {
	srv *Server
	nc  net.Conn
	log *slog.Logger
	br  *bufio.Reader

	mu       sync.Mutex
	out      []byte
	wroteAt  time.Time
	ns       *namespace
	hostname string
	peerMax  uint32
	peerIdle time.Duration
	sessions map[uint16]*session // by the peer's channel
	local    map[uint16]*session // by our channel
	claims   []claim
	pending  int // bytes of partially received deliveries
	replies  int // bytes of responses queued on reply links
	closing  bool
	framing  bool // AMQP protocol headers exchanged: errors can be reported with close

	wakeCh   chan struct{}
	done     chan struct{}
	pumpDone chan struct{} // closed when the pump goroutine has returned
	once     sync.Once
}

type claim struct {
	path    string // entity path the token was put for ("" = namespace)
	rights  rights
	expires time.Time
}

type session struct {
	remoteCh, localCh    uint16
	nextIncomingID       uint32
	incomingWindow       uint32
	nextOutgoingID       uint32
	remoteIncomingWindow uint32
	nextDeliveryID       uint32
	links                map[uint32]*link // by the peer's handle
	localHandles         map[uint32]*link
	unsettled            map[uint32]*delivery // deliveries we sent and the peer has not settled
}

type delivery struct {
	link  *link
	token amqp.UUID
	store *store
}

type linkKind int

const (
	linkEntity linkKind = iota // queue, topic, event hub (send) or store/partition (receive)
	linkCBS
	linkManagement   // <entity>/$management
	linkNSManagement // $management (event hubs)
	linkRefused      // attach refused; waiting for the peer's detach
)

type link struct {
	sess        *session
	name        string
	handle      uint32 // peer's
	localHandle uint32
	inbound     bool // the peer sends, we receive
	kind        linkKind
	node        node
	address     string // source (outbound) or target (inbound) address as the peer gave it
	peerTarget  string // outbound links: the peer's target address (where replies go)
	detachSent  bool

	// inbound
	credit        uint32
	deliveryCount uint32
	partial       bytes.Buffer
	partialID     uint32
	partialOn     bool
	partialSettle bool
	partialFormat uint32
	oversize      bool
	maxSize       uint64

	// outbound
	settled    bool // deliveries are sent pre-settled
	drain      bool
	cursor     int64 // event hub partitions: next sequence number
	replies    [][]byte
	replyBytes int
	tagCount   uint64
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{
		srv: s, nc: nc, log: s.log.With("remote", nc.RemoteAddr().String()),
		br:       bufio.NewReaderSize(nc, 16<<10),
		peerMax:  amqp.MinMaxFrameSize,
		sessions: map[uint16]*session{}, local: map[uint16]*session{},
		wakeCh: make(chan struct{}, 1), done: make(chan struct{}), pumpDone: make(chan struct{}),
	}
}

func (c *conn) wake() {
	select {
	case c.wakeCh <- struct{}{}:
	default:
	}
}

// shutdown closes the connection from the server side (Server.Close).
func (c *conn) shutdown() {
	c.mu.Lock()
	if !c.closing && c.ns != nil {
		c.send(0, &amqp.Close{Error: &amqp.Error{Condition: amqp.ErrConnectionForced, Description: "The emulator is shutting down."}}, nil)
		c.flush()
	}
	c.closing = true
	c.mu.Unlock()
	c.nc.Close()
}

// protocolError ends the connection with an AMQP close carrying the condition.
type protocolError struct {
	cond amqp.Symbol
	desc string
}

func (e *protocolError) Error() string { return string(e.cond) + ": " + e.desc }

func perr(cond amqp.Symbol, format string, args ...any) error {
	return &protocolError{cond: cond, desc: fmt.Sprintf(format, args...)}
}

func (c *conn) serve() {
	defer c.cleanup()
	err := c.run()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.closing = true
	var pe *protocolError
	var fe *amqp.FrameError
	var ne net.Error
	switch {
	case errors.As(err, &pe):
		c.log.Info("closing connection after a protocol error", "condition", string(pe.cond), "error", pe.desc)
		c.closeWith(pe.cond, pe.desc)
	case errors.As(err, &fe):
		c.log.Info("closing connection after a bad frame", "condition", string(fe.Condition), "error", fe.Msg)
		c.closeWith(fe.Condition, fe.Msg)
	case errors.As(err, &ne) && ne.Timeout():
		c.log.Info("closing idle connection")
		c.closeWith(amqp.ErrResourceLimitExceeded, "local-idle-timeout expired: no frame received within the idle timeout")
	case err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
	default:
		c.log.Debug("connection ended", "error", err.Error())
	}
}

func (c *conn) closeWith(cond amqp.Symbol, desc string) {
	if !c.framing {
		// During SASL there is no AMQP close to send: dropping the socket is the answer.
		return
	}
	if c.ns == nil {
		// Before open we cannot send close on a negotiated connection; send what we can.
		c.out = amqp.AppendFrame(c.out, amqp.FrameAMQP, 0, &amqp.Open{ContainerID: "sbemulator", MaxFrameSize: c.srv.lim.MaxFrameSize}, nil)
	}
	c.send(0, &amqp.Close{Error: &amqp.Error{Condition: cond, Description: desc}}, nil)
	c.flush()
}

func (c *conn) cleanup() {
	c.once.Do(func() { close(c.done) })
	c.nc.Close()
	<-c.pumpDone
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sessions {
		c.endSession(s)
	}
}

func (c *conn) run() error {
	lim := c.srv.lim
	// The pump starts after open; if run ends before that, nothing is left to wait for.
	pumpStarted := false
	defer func() {
		if !pumpStarted {
			close(c.pumpDone)
		}
	}()
	c.nc.SetDeadline(time.Now().Add(lim.HandshakeTimeout))
	var hdr [8]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return err
	}
	if hdr == amqp.HeaderSASL {
		if err := c.sasl(); err != nil {
			return err
		}
		if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
			return err
		}
	}
	if hdr != amqp.HeaderAMQP {
		// AMQP 2.2: answer with the header we support, then close the socket.
		c.nc.Write(amqp.HeaderSASL[:])
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
		c.log.Info("refused connection with an unsupported protocol header", "header", fmt.Sprintf("%q", hdr[:]))
		return nil
	}
	if _, err := c.nc.Write(amqp.HeaderAMQP[:]); err != nil {
		return err
	}
	c.mu.Lock()
	c.framing = true
	c.mu.Unlock()
	f, err := amqp.ReadFrame(c.br, 4096)
	if err != nil {
		return err
	}
	open, ok := f.Body.(*amqp.Open)
	if !ok || f.Type != amqp.FrameAMQP || f.Channel != 0 {
		return perr(amqp.ErrIllegalState, "the first frame must be open on channel 0, got %T", f.Body)
	}
	c.mu.Lock()
	if open.MaxFrameSize < amqp.MinMaxFrameSize {
		c.mu.Unlock()
		return perr(amqp.ErrFrameSizeTooSmall, "max-frame-size %d is below the minimum of 512", open.MaxFrameSize)
	}
	c.peerMax = min(open.MaxFrameSize, 1<<20)
	c.peerIdle = time.Duration(open.IdleTimeout) * time.Millisecond
	if c.peerIdle > 0 && c.peerIdle < 100*time.Millisecond {
		c.peerIdle = 100 * time.Millisecond
	}
	c.hostname = open.Hostname
	c.ns = c.srv.namespaceFor(open.Hostname)
	c.send(0, &amqp.Open{
		ContainerID:  "sbemulator-" + c.ns.name,
		Hostname:     open.Hostname,
		MaxFrameSize: lim.MaxFrameSize,
		ChannelMax:   lim.ChannelMax,
		IdleTimeout:  uint32(lim.IdleTimeout / time.Millisecond),
	}, nil)
	err = c.flush()
	c.mu.Unlock()
	if err != nil {
		return err
	}
	c.log.Debug("connection open", "hostname", open.Hostname, "namespace", c.ns.name)
	pumpStarted = true
	go c.pump()
	for {
		c.nc.SetReadDeadline(time.Now().Add(lim.IdleTimeout))
		f, err := amqp.ReadFrame(c.br, lim.MaxFrameSize)
		if err != nil {
			return err
		}
		if f.Body == nil {
			continue // heartbeat
		}
		if f.Type != amqp.FrameAMQP {
			return perr(amqp.ErrIllegalState, "SASL frame after the SASL exchange")
		}
		c.mu.Lock()
		done, err := c.handle(f)
		if ferr := c.flush(); err == nil {
			err = ferr
		}
		c.mu.Unlock()
		if err != nil || done {
			return err
		}
	}
}

// sasl runs the SASL exchange: the emulator offers ANONYMOUS (authorization happens through
// $cbs, as with the service).
func (c *conn) sasl() error {
	if _, err := c.nc.Write(amqp.HeaderSASL[:]); err != nil {
		return err
	}
	if err := c.sendSASL(&amqp.SASLMechanisms{Mechanisms: []amqp.Symbol{"ANONYMOUS"}}); err != nil {
		return err
	}
	f, err := amqp.ReadFrame(c.br, 4096)
	if err != nil {
		return err
	}
	init, ok := f.Body.(*amqp.SASLInit)
	if !ok {
		return perr(amqp.ErrIllegalState, "expected sasl-init, got %T", f.Body)
	}
	code := uint8(0)
	if init.Mechanism != "ANONYMOUS" {
		code = 1
	}
	if err := c.sendSASL(&amqp.SASLOutcome{Code: code}); err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("sasl mechanism %q refused", init.Mechanism)
	}
	return nil
}

func (c *conn) sendSASL(p amqp.Performative) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = amqp.AppendFrame(c.out, amqp.FrameSASL, 0, p, nil)
	return c.flush()
}

// send queues a frame; flush writes the queue. Callers hold mu.
func (c *conn) send(ch uint16, p amqp.Performative, payload []byte) {
	c.out = amqp.AppendFrame(c.out, amqp.FrameAMQP, ch, p, payload)
}

func (c *conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.lim.WriteTimeout))
	_, err := c.nc.Write(c.out)
	if cap(c.out) > 1<<20 {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	c.wroteAt = time.Now()
	if err != nil {
		c.nc.Close()
	}
	return err
}

// pump sends deliveries when stores signal new messages, and empty frames to keep the peer's
// idle timer satisfied.
func (c *conn) pump() {
	defer close(c.pumpDone)
	// Send an empty frame when nothing was written for a third of the peer's idle timeout, so
	// the gap between frames stays well inside it even with ticker jitter.
	var tick <-chan time.Time
	beat := c.peerIdle / 3
	if c.peerIdle > 0 {
		t := time.NewTicker(beat)
		defer t.Stop()
		tick = t.C
	}
	// Locks of peek-locked messages expire lazily; a periodic wake lets waiting receivers see
	// messages whose lock ran out.
	sweep := time.NewTicker(time.Second)
	defer sweep.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-c.wakeCh:
		case <-sweep.C:
		case <-tick:
			c.mu.Lock()
			if time.Since(c.wroteAt) >= beat && !c.closing {
				c.out = append(c.out, 0, 0, 0, 8, 2, 0, 0, 0)
				c.flush()
			}
			c.mu.Unlock()
			continue
		}
		c.mu.Lock()
		if !c.closing {
			for _, s := range c.sessions {
				for _, l := range s.links {
					if !l.inbound && l.kind != linkRefused {
						c.deliver(l)
					}
				}
			}
			c.flush()
		}
		c.mu.Unlock()
	}
}

// handle processes one frame; done reports a clean close.
func (c *conn) handle(f amqp.Frame) (done bool, err error) {
	if _, isBegin := f.Body.(*amqp.Begin); !isBegin {
		if _, isClose := f.Body.(*amqp.Close); !isClose && c.sessions[f.Channel] == nil {
			return false, perr(amqp.ErrIllegalState, "%T on channel %d, which has no session", f.Body, f.Channel)
		}
	}
	s := c.sessions[f.Channel]
	switch p := f.Body.(type) {
	case *amqp.Open:
		return false, perr(amqp.ErrIllegalState, "open received twice")
	case *amqp.Close:
		if p.Error != nil {
			c.log.Info("peer closed the connection with an error", "condition", string(p.Error.Condition))
		}
		c.send(0, &amqp.Close{}, nil)
		c.closing = true
		return true, nil
	case *amqp.Begin:
		return false, c.onBegin(f.Channel, p)
	case *amqp.End:
		c.endSession(s)
		c.send(s.localCh, &amqp.End{}, nil)
		return false, nil
	case *amqp.Attach:
		return false, c.onAttach(s, p)
	case *amqp.Flow:
		return false, c.onFlow(s, p)
	case *amqp.Transfer:
		return false, c.onTransfer(s, p, f.Payload)
	case *amqp.Disposition:
		c.onDisposition(s, p)
		return false, nil
	case *amqp.Detach:
		c.onDetach(s, p)
		return false, nil
	}
	return false, perr(amqp.ErrIllegalState, "unexpected %T", f.Body)
}

func (c *conn) onBegin(ch uint16, b *amqp.Begin) error {
	lim := c.srv.lim
	if b.RemoteChannel != nil {
		return perr(amqp.ErrIllegalState, "begin answering a session the emulator never started")
	}
	if c.sessions[ch] != nil {
		return perr(amqp.ErrIllegalState, "channel %d already has a session", ch)
	}
	if ch > lim.ChannelMax || len(c.sessions) > int(lim.ChannelMax) {
		return perr(amqp.ErrResourceLimitExceeded, "channel %d exceeds channel-max %d", ch, lim.ChannelMax)
	}
	var localCh uint16
	for c.local[localCh] != nil {
		localCh++
	}
	s := &session{
		remoteCh: ch, localCh: localCh,
		nextIncomingID: b.NextOutgoingID, incomingWindow: sessionWindow,
		remoteIncomingWindow: b.IncomingWindow,
		links:                map[uint32]*link{}, localHandles: map[uint32]*link{}, unsettled: map[uint32]*delivery{},
	}
	c.sessions[ch], c.local[localCh] = s, s
	rc := ch
	c.send(localCh, &amqp.Begin{RemoteChannel: &rc, NextOutgoingID: 0, IncomingWindow: sessionWindow, OutgoingWindow: sessionWindow, HandleMax: lim.HandleMax}, nil)
	return nil
}

// endSession releases everything a session holds (its links and unsettled deliveries).
func (c *conn) endSession(s *session) {
	for _, l := range s.links {
		c.dropLink(l)
	}
	delete(c.sessions, s.remoteCh)
	delete(c.local, s.localCh)
}

// dropLink forgets a link: locked messages it delivered return to their queue.
func (c *conn) dropLink(l *link) {
	s := l.sess
	for id, d := range s.unsettled {
		if d.link == l {
			d.store.settle(d.token, amqp.StateReleased, c.srv.now())
			delete(s.unsettled, id)
		}
	}
	if l.node.store != nil {
		l.node.store.unwait(c)
	}
	if l.node.partition != nil {
		l.node.partition.unwait(c)
	}
	if l.partialOn {
		c.pending -= l.partial.Len()
	}
	c.replies -= l.replyBytes
	delete(s.links, l.handle)
	delete(s.localHandles, l.localHandle)
}
