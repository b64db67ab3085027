package emulator

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/contoso/sbportal/servicebus/emulator/amqp"
)

// This file holds the session and link level of a connection: attach and its authorization,
// flow control, deliveries in both directions, dispositions and detach.

// resourceURI names an entity the way the service's error descriptions do
// ("sb://<host the client connected to>/<path>").
func (c *conn) resourceURI(path string) string {
	host := c.hostname
	if host == "" {
		host = c.ns.name + ".servicebus.windows.net"
	}
	return "sb://" + host + "/" + path
}

func (c *conn) onAttach(s *session, a *amqp.Attach) error {
	lim := c.srv.lim
	if a.Handle > lim.HandleMax {
		return perr(amqp.ErrResourceLimitExceeded, "link handle %d exceeds handle-max %d", a.Handle, lim.HandleMax)
	}
	if s.links[a.Handle] != nil {
		return perr(amqp.ErrHandleInUse, "link handle %d is already attached", a.Handle)
	}
	var localHandle uint32
	for s.localHandles[localHandle] != nil {
		localHandle++
	}
	l := &link{sess: s, name: a.Name, handle: a.Handle, localHandle: localHandle, inbound: a.Role == amqp.RoleSender}
	s.links[a.Handle], s.localHandles[localHandle] = l, l
	if l.inbound {
		l.address = a.Target.Address()
	} else {
		l.address = a.Source.Address()
		l.peerTarget = a.Target.Address()
	}
	reply := &amqp.Attach{
		Name: a.Name, Handle: localHandle, Role: !a.Role,
		SndSettleMode: a.SndSettleMode, RcvSettleMode: a.RcvSettleMode,
		Source: a.Source, Target: a.Target, Properties: nil,
	}
	if !l.inbound {
		zero := uint32(0)
		reply.InitialDeliveryCount = &zero
		l.settled = a.SndSettleMode != nil && *a.SndSettleMode == amqp.SndSettled
	}
	refuse := func(cond amqp.Symbol, desc string) error {
		reply.Source, reply.Target, reply.InitialDeliveryCount = nil, nil, nil
		c.send(s.localCh, reply, nil)
		c.send(s.localCh, &amqp.Detach{Handle: localHandle, Closed: true, Error: &amqp.Error{Condition: cond, Description: desc}}, nil)
		l.kind, l.detachSent = linkRefused, true
		c.log.Info("attach refused", "address", l.address, "condition", string(cond))
		return nil
	}
	if (l.inbound && a.Target == nil) || (!l.inbound && a.Source == nil) {
		return refuse(amqp.ErrInvalidField, "The link has no terminus address: a sender needs a target, a receiver a source.")
	}
	switch {
	case l.address == "$cbs":
		l.kind = linkCBS
	case l.address == "$management":
		l.kind = linkNSManagement
	default:
		n, err := c.ns.resolve(l.address)
		if err != nil || (l.inbound && !n.sendable && !n.management) || (!l.inbound && n.store == nil && n.partition == nil && !n.management) {
			return refuse(amqp.ErrNotFound, fmt.Sprintf("The messaging entity '%s' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.", c.resourceURI(l.address)))
		}
		l.node = n
		l.kind = linkEntity
		if n.management {
			l.kind = linkManagement
		}
		need, claimName := rightSend, "Send"
		if !l.inbound {
			need, claimName = rightListen, "Listen"
		}
		if n.management {
			need = 0
		}
		if !c.authorized(n.path, need) {
			return refuse(amqp.ErrUnauthorizedAccess, fmt.Sprintf("Unauthorized access. '%s' claim(s) are required to perform this operation. Resource: '%s'. TrackingId:%s, SystemTracker:%s:%s:%s, Timestamp:%s",
				claimName, c.resourceURI(n.path), newUUID(), c.ns.name, n.entity.kind, n.entity.name, c.srv.now().UTC().Format("2006-01-02T15:04:05")))
		}
		if _, ok := a.Source.Filter().Get("com.microsoft:session-filter"); ok && !l.inbound {
			return refuse(amqp.ErrNotImplemented, "Message sessions are not supported by the emulator: create the receiver without a session.")
		}
		if n.partition != nil && !l.inbound {
			sel, err := selectorOf(a.Source.Filter())
			if err == nil {
				l.cursor, err = n.partition.startAt(sel)
			}
			if err != nil {
				return refuse(amqp.ErrNotImplemented, "The event position filter is not supported by the emulator: "+err.Error())
			}
			l.settled = true
		}
	}
	if l.kind != linkEntity {
		l.settled = true
	}
	if l.inbound {
		l.maxSize = c.ns.maxMessageSize
		if l.node.entity != nil && l.node.entity.kind == kindEventHub {
			l.maxSize = 1 << 20
		}
		if l.kind != linkEntity {
			l.maxSize = 1 << 20
		}
		reply.MaxMessageSize = l.maxSize
		if a.InitialDeliveryCount != nil {
			l.deliveryCount = *a.InitialDeliveryCount
		}
	}
	c.send(s.localCh, reply, nil)
	if l.inbound {
		l.credit = linkCredit
		c.sendLinkFlow(l)
	}
	return nil
}

// selectorOf extracts the Event Hubs selector expression from a source filter-set.
func selectorOf(filter amqp.Map) (string, error) {
	for _, kv := range filter {
		d, ok := kv.Value.(amqp.Described)
		if !ok {
			continue
		}
		code, _ := amqp.DescriptorCode(d.Descriptor)
		if sym, ok := d.Descriptor.(amqp.Symbol); (ok && sym == "apache.org:selector-filter:string") || code == 0x0000468C00000004 {
			s, ok := d.Value.(string)
			if !ok {
				return "", errors.New("selector filter is not a string")
			}
			return s, nil
		}
	}
	return "", nil
}

// authorized reports whether a claim put on this connection covers path with the right.
func (c *conn) authorized(path string, need rights) bool {
	now := c.srv.now()
	for _, cl := range c.claims {
		if now.After(cl.expires) {
			continue
		}
		if cl.path != "" && cl.path != path && !hasPathPrefix(path, cl.path) {
			continue
		}
		if need == 0 || cl.rights.has(need) {
			return true
		}
	}
	return false
}

func hasPathPrefix(path, prefix string) bool {
	return len(path) > len(prefix) && path[:len(prefix)] == prefix && path[len(prefix)] == '/'
}

func (c *conn) sendLinkFlow(l *link) {
	s := l.sess
	nextIn := s.nextIncomingID
	h, dc, cr := l.localHandle, l.deliveryCount, l.credit
	fl := &amqp.Flow{
		NextIncomingID: &nextIn, IncomingWindow: s.incomingWindow,
		NextOutgoingID: s.nextOutgoingID, OutgoingWindow: sessionWindow,
		Handle: &h, DeliveryCount: &dc, LinkCredit: &cr, Drain: l.drain && !l.inbound,
	}
	c.send(s.localCh, fl, nil)
}

func (c *conn) sendSessionFlow(s *session) {
	nextIn := s.nextIncomingID
	c.send(s.localCh, &amqp.Flow{NextIncomingID: &nextIn, IncomingWindow: s.incomingWindow, NextOutgoingID: s.nextOutgoingID, OutgoingWindow: sessionWindow}, nil)
}

func (c *conn) onFlow(s *session, f *amqp.Flow) error {
	base := uint32(0)
	if f.NextIncomingID != nil {
		base = *f.NextIncomingID
	}
	s.remoteIncomingWindow = base + f.IncomingWindow - s.nextOutgoingID
	if f.Handle == nil {
		if f.Echo {
			c.sendSessionFlow(s)
		}
		c.deliverAll(s)
		return nil
	}
	l := s.links[*f.Handle]
	if l == nil || l.kind == linkRefused {
		return nil
	}
	if l.inbound {
		if f.Echo {
			c.sendLinkFlow(l)
		}
		return nil
	}
	if f.LinkCredit != nil {
		dc := uint32(0)
		if f.DeliveryCount != nil {
			dc = *f.DeliveryCount
		}
		l.credit = min(dc+*f.LinkCredit-l.deliveryCount, 1<<20)
	}
	l.drain = f.Drain
	c.deliver(l)
	if f.Echo {
		c.sendLinkFlow(l)
	}
	c.deliverAll(s)
	return nil
}

func (c *conn) deliverAll(s *session) {
	for _, l := range s.links {
		if !l.inbound && l.kind != linkRefused {
			c.deliver(l)
		}
	}
}

// deliver sends what the link's source has, within the link's credit and the session window.
func (c *conn) deliver(l *link) {
	s := l.sess
	for l.credit > 0 && s.remoteIncomingWindow > 0 {
		var payload []byte
		var d *delivery
		var err error
		switch {
		case l.kind != linkEntity:
			if len(l.replies) == 0 {
				break
			}
			payload = l.replies[0]
			l.replies[0] = nil
			l.replies = l.replies[1:]
			l.replyBytes -= len(payload)
			c.replies -= len(payload)
		case l.node.partition != nil:
			ev := l.node.partition.read(l.cursor)
			if ev == nil {
				l.node.partition.wait(c)
				break
			}
			l.cursor = ev.seq + 1
			payload, err = ev.encodeEvent()
		default:
			st := l.node.store.take(!l.settled, c.srv.now())
			if st == nil {
				l.node.store.wait(c)
				break
			}
			payload, err = st.encode(false)
			if !l.settled {
				d = &delivery{link: l, token: st.lockToken, store: l.node.store}
			}
		}
		if err != nil {
			c.log.Error("cannot encode a stored message", "error", err.Error())
			continue
		}
		if payload == nil {
			break
		}
		var tag []byte
		if d != nil {
			tag = dotnetGUIDBytes(d.token)
		} else {
			l.tagCount++
			tag = binary.BigEndian.AppendUint64(nil, l.tagCount)
		}
		id := s.nextDeliveryID
		s.nextDeliveryID++
		if d != nil {
			s.unsettled[id] = d
		}
		c.sendTransfer(l, id, tag, payload)
		l.credit--
		l.deliveryCount++
		// Bound what waits in memory for a slow peer: write as we go.
		if len(c.out) > 1<<20 {
			if c.flush() != nil {
				return
			}
		}
	}
	if l.drain {
		// Drain: what could be sent has been; consume the rest of the credit and say so.
		l.deliveryCount += l.credit
		l.credit = 0
		c.sendLinkFlow(l)
		l.drain = false
	}
}

// sendTransfer writes a delivery, split into frames that fit the peer's max-frame-size.
func (c *conn) sendTransfer(l *link, id uint32, tag, payload []byte) {
	s := l.sess
	settled := l.settled
	format := uint32(0)
	first := true
	for {
		t := &amqp.Transfer{Handle: l.localHandle}
		if first {
			t.DeliveryID, t.DeliveryTag, t.MessageFormat, t.Settled = &id, tag, &format, &settled
		}
		head := amqp.MustAppend(nil, t)
		room := int(c.peerMax) - 8 - len(head) - 2 // room for the "more" flag
		if room < 1 {
			room = 1
		}
		chunk := payload
		if len(chunk) > room {
			chunk = payload[:room]
			t.More = true
		}
		c.send(s.localCh, t, chunk)
		payload = payload[len(chunk):]
		s.nextOutgoingID++
		// A delivery is started only while the window is open; its later frames may overdraw
		// it (peers such as go-amqp tolerate that), so stop at zero rather than wrap.
		if s.remoteIncomingWindow > 0 {
			s.remoteIncomingWindow--
		}
		first = false
		if len(payload) == 0 {
			return
		}
	}
}

func (c *conn) onTransfer(s *session, t *amqp.Transfer, payload []byte) error {
	s.nextIncomingID++
	if s.incomingWindow == 0 {
		return perr(amqp.ErrWindowViolation, "transfer beyond the session's incoming window")
	}
	s.incomingWindow--
	if s.incomingWindow < sessionWindow/2 {
		s.incomingWindow = sessionWindow
		c.sendSessionFlow(s)
	}
	l := s.links[t.Handle]
	if l == nil {
		return perr(amqp.ErrUnattachedHandle, "transfer on handle %d, which is not attached", t.Handle)
	}
	if !l.inbound {
		return perr(amqp.ErrIllegalState, "transfer on a link where the emulator is the sender")
	}
	if l.kind == linkRefused {
		return nil
	}
	if !l.partialOn {
		if t.DeliveryID == nil {
			return perr(amqp.ErrInvalidField, "the first transfer of a delivery has no delivery-id")
		}
		if l.credit == 0 {
			return perr(amqp.ErrTransferLimitExceeded, "transfer on link %q without link credit", l.name)
		}
		l.credit--
		l.deliveryCount++
		l.partialOn, l.partialID, l.oversize = true, *t.DeliveryID, false
		l.partialSettle = t.Settled != nil && *t.Settled
		l.partialFormat = 0
		if t.MessageFormat != nil {
			l.partialFormat = *t.MessageFormat
		}
	}
	if t.Settled != nil && *t.Settled {
		l.partialSettle = true
	}
	if t.Aborted {
		c.pending -= l.partial.Len()
		l.partial.Reset()
		l.partialOn = false
		return nil
	}
	if !l.oversize {
		if uint64(l.partial.Len()+len(payload)) > l.maxSize {
			l.oversize = true
			c.pending -= l.partial.Len()
			l.partial.Reset()
		} else {
			if c.pending+len(payload) > c.srv.lim.MaxPendingBytes {
				return perr(amqp.ErrResourceLimitExceeded, "too many bytes of incomplete deliveries on this connection")
			}
			l.partial.Write(payload)
			c.pending += len(payload)
		}
	}
	if t.More {
		return nil
	}
	// Stored messages keep slices of these bytes, so they must not share the link's buffer.
	msg := bytes.Clone(l.partial.Bytes())
	c.pending -= len(msg)
	l.partialOn = false
	var state any
	if l.oversize {
		state = amqp.Rejected(&amqp.Error{Condition: amqp.ErrMessageSizeExceeded, Description: fmt.Sprintf("The received message (delivery-id:%d) exceeds the limit (%d bytes) currently allowed on the link.", l.partialID, l.maxSize)})
	} else {
		state = c.receive(l, msg, l.partialFormat)
	}
	l.partial.Reset()
	if l.partial.Cap() > 1<<20 {
		l.partial = bytes.Buffer{}
	}
	if !l.partialSettle {
		c.send(s.localCh, &amqp.Disposition{Role: amqp.RoleReceiver, First: l.partialID, Settled: true, State: state}, nil)
	}
	if l.credit < linkCredit/2 {
		l.credit = linkCredit
		c.sendLinkFlow(l)
	}
	return nil
}

// receive handles one complete message from a peer sender and returns its outcome.
func (c *conn) receive(l *link, data []byte, format uint32) any {
	reject := func(cond amqp.Symbol, desc string) any {
		return amqp.Rejected(&amqp.Error{Condition: cond, Description: desc})
	}
	msg, err := amqp.ParseMessage(data)
	if err != nil {
		return reject(amqp.ErrDecode, "The message cannot be decoded: "+err.Error())
	}
	switch l.kind {
	case linkCBS:
		c.reply(l, msg, c.putToken(msg))
		return amqp.Accepted
	case linkManagement, linkNSManagement:
		c.reply(l, msg, c.manage(l, msg))
		return amqp.Accepted
	}
	if !c.authorized(l.node.path, rightSend) {
		return reject(amqp.ErrUnauthorizedAccess, fmt.Sprintf("Unauthorized access. 'Send' claim(s) are required to perform this operation. Resource: '%s'. The token put on $cbs has expired.", c.resourceURI(l.node.path)))
	}
	msgs := []*amqp.Message{msg}
	sizes := []int{len(data)}
	if format == amqp.BatchMessageFormat {
		parts, err := msg.DataSections()
		if err != nil {
			return reject(amqp.ErrDecode, "The batch cannot be decoded: "+err.Error())
		}
		msgs, sizes = msgs[:0], sizes[:0]
		for _, p := range parts {
			m, err := amqp.ParseMessage(p)
			if err != nil {
				return reject(amqp.ErrDecode, "A message in the batch cannot be decoded: "+err.Error())
			}
			// Batch-level annotations (the event hub partition key) apply to every message.
			for _, kv := range msg.Annotations {
				if _, ok := m.Annotations.Get(fmt.Sprint(kv.Key)); !ok {
					m.Annotations = append(m.Annotations, kv)
				}
			}
			msgs, sizes = append(msgs, m), append(sizes, len(p))
		}
	}
	now := c.srv.now()
	for i, m := range msgs {
		if err := l.node.enqueue(m, sizes[i], now); err != nil {
			var q errQuotaExceeded
			if errors.As(err, &q) {
				return reject(amqp.ErrResourceLimitExceeded, err.Error())
			}
			return reject(amqp.ErrInternal, err.Error())
		}
	}
	return amqp.Accepted
}

// reply queues a management or CBS response on the peer's receiving link whose target is the
// request's reply-to address.
func (c *conn) reply(from *link, req *amqp.Message, resp *amqp.Message) {
	replyTo, _ := req.Property(amqp.PropReplyTo).(string)
	resp.SetProperty(amqp.PropCorrelationID, req.Property(amqp.PropMessageID))
	data, err := resp.Encode()
	if err != nil {
		c.log.Error("cannot encode a management response", "error", err.Error())
		return
	}
	for _, s := range []*session{from.sess} {
		if c.queueReply(s, replyTo, from.address, data) {
			return
		}
	}
	for _, s := range c.sessions {
		if c.queueReply(s, replyTo, from.address, data) {
			return
		}
	}
	c.log.Info("management response dropped: no receiving link for its reply-to address", "address", from.address)
}

func (c *conn) queueReply(s *session, replyTo, source string, data []byte) bool {
	for _, l := range s.links {
		if l.inbound || l.kind == linkRefused || l.kind == linkEntity {
			continue
		}
		if (replyTo != "" && l.peerTarget == replyTo) || (replyTo == "" && l.address == source) {
			// A peer that never grants credit must not make responses pile up.
			if len(l.replies) < maxReplies && l.replyBytes+len(data) <= maxReplyBytes && c.replies+len(data) <= maxConnReplyBytes {
				l.replies = append(l.replies, data)
				l.replyBytes += len(data)
				c.replies += len(data)
			} else {
				c.log.Info("management response dropped: the peer is not taking responses", "address", source)
			}
			c.deliver(l)
			return true
		}
	}
	return false
}

func (c *conn) onDisposition(s *session, d *amqp.Disposition) {
	if d.Role != amqp.RoleReceiver {
		return // the peer settles deliveries we already settled
	}
	last := d.First
	if d.Last != nil && *d.Last >= d.First {
		last = *d.Last
	}
	var ids []uint32
	if last-d.First < uint32(len(s.unsettled)) {
		for id := d.First; ; id++ {
			if s.unsettled[id] != nil {
				ids = append(ids, id)
			}
			if id == last {
				break
			}
		}
	} else {
		for id := range s.unsettled {
			if id >= d.First && id <= last {
				ids = append(ids, id)
			}
		}
	}
	code := amqp.StateCode(d.State)
	now := c.srv.now()
	for _, id := range ids {
		dl := s.unsettled[id]
		var ok bool
		switch {
		case code == amqp.StateAccepted || code == amqp.StateRejected || code == amqp.StateReleased || code == amqp.StateModified:
			ok = dl.store.settle(dl.token, code, now)
		case d.Settled:
			// Settled without an outcome: the receiver consumed it.
			ok = dl.store.settle(dl.token, amqp.StateAccepted, now)
		default:
			continue
		}
		delete(s.unsettled, id)
		if d.Settled {
			continue
		}
		// Answer each delivery: the outcome as asked, or lock lost when the lock ran out.
		state := d.State
		if !ok {
			state = amqp.Rejected(&amqp.Error{Condition: "com.microsoft:message-lock-lost", Description: "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue."})
		}
		c.send(s.localCh, &amqp.Disposition{Role: amqp.RoleSender, First: id, Settled: true, State: state}, nil)
	}
}

func (c *conn) onDetach(s *session, d *amqp.Detach) {
	l := s.links[d.Handle]
	if l == nil {
		return
	}
	if !l.detachSent {
		c.send(s.localCh, &amqp.Detach{Handle: l.localHandle, Closed: d.Closed}, nil)
	}
	c.dropLink(l)
}

// dotnetGUIDBytes renders a lock token as the service puts it in the delivery tag: in .NET's
// GUID byte order (the first three fields little-endian). azservicebus swaps them back.
func dotnetGUIDBytes(u amqp.UUID) []byte {
	b := u
	b[0], b[1], b[2], b[3] = u[3], u[2], u[1], u[0]
	b[4], b[5] = u[5], u[4]
	b[6], b[7] = u[7], u[6]
	return b[:]
}
