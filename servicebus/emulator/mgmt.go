package emulator

import (
	"fmt"
	"strings"
	"time"

	"github.com/contoso/sbportal/servicebus/emulator/amqp"
)

func response(code int32, desc string, value any) *amqp.Message {
	m := &amqp.Message{
		ApplicationProperties: amqp.Map{
			{Key: "status-code", Value: code},
			{Key: "status-description", Value: desc},
		},
	}
	if value != nil {
		m.Value, m.HasValue = value, true
	}
	return m
}

// putToken handles a $cbs put-token request: it judges the SAS token like the service and, on
// success, records the claim on the connection.
func (c *conn) putToken(req *amqp.Message) *amqp.Message {
	op, _ := req.ApplicationProperties.GetString("operation")
	if op != "put-token" {
		return response(400, fmt.Sprintf("BadRequest: unsupported $cbs operation %q; only put-token is supported.", op), nil)
	}
	audience, _ := req.ApplicationProperties.GetString("name")
	typ, _ := req.ApplicationProperties.GetString("type")
	token, _ := req.Value.(string)
	if audience == "" || token == "" {
		return response(400, "BadRequest: put-token needs the audience in application property 'name' and the token as the body.", nil)
	}
	if typ != "" && typ != "servicebus.windows.net:sastoken" {
		return response(401, fmt.Sprintf("InvalidToken: the emulator accepts SAS tokens only (type servicebus.windows.net:sastoken), not %q.", typ), nil)
	}
	cl, code, desc := c.judge(token, audience)
	if code != 200 {
		c.log.Info("put-token refused", "audience", audience, "status", code, "reason", strings.SplitN(desc, ":", 2)[0])
		return response(code, desc, nil)
	}
	c.addClaim(cl)
	return response(202, "Accepted", nil)
}

func (c *conn) addClaim(cl claim) {
	for i, old := range c.claims {
		if old.path == cl.path {
			c.claims[i] = cl
			return
		}
	}
	if len(c.claims) >= 1024 {
		c.claims = c.claims[1:]
	}
	c.claims = append(c.claims, cl)
}

// judge validates a SAS token for an audience. It returns the claim, or a status code and the
// service's description.
func (c *conn) judge(tokenText, audience string) (claim, int32, string) {
	ns := c.ns
	if ns.disableLocalAuth {
		return claim{}, 401, fmt.Sprintf("LocalAuthDisabled: Authorization failed because SAS authentication has been disabled for the namespace '%s'. Use Microsoft Entra ID, or enable local authentication on the namespace.", ns.name)
	}
	tok, err := parseSASToken(tokenText)
	if err != nil {
		return claim{}, 401, err.Error()
	}
	// The audience's path selects the entity whose policies may sign it.
	audPath := resourcePath(audience)
	_, path, _ := strings.Cut(audPath, "/")
	entityName, _, _ := strings.Cut(path, "/")
	var ent *entity
	if entityName != "" {
		ent = ns.entities[entityName]
	}
	ns.keysMu.RLock()
	pol, found := ns.policies[strings.ToLower(tok.keyName)]
	if ent != nil {
		if ep, ok := ent.policies[strings.ToLower(tok.keyName)]; ok && (!found || ep.primary != "" && (tok.signedBy(ep.primary) || tok.signedBy(ep.secondary))) {
			pol, found = ep, true
		}
	}
	ns.keysMu.RUnlock()
	if !found {
		return claim{}, 401, fmt.Sprintf("InvalidSignature: The token has an invalid signature: no shared access policy named '%s' exists on namespace '%s' or on entity '%s'.", tok.keyName, ns.name, entityName)
	}
	if !tok.signedBy(pol.primary) && !tok.signedBy(pol.secondary) {
		return claim{}, 401, fmt.Sprintf("InvalidSignature: The token has an invalid signature. The signature does not match the primary or secondary key of policy '%s'.", pol.name)
	}
	now := c.srv.now()
	if now.Unix() >= tok.expiry {
		return claim{}, 401, expiredDescription(tok.expiry, now)
	}
	if !covers(tok.resource, audience) {
		return claim{}, 401, fmt.Sprintf("InvalidAudience: The token's resource (sr) '%s' does not cover the audience '%s'. Sign the token for the namespace or for this entity.", resourcePath(tok.resource), audPath)
	}
	if entityName != "" && ent == nil {
		return claim{}, 404, fmt.Sprintf("The messaging entity '%s' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.", c.resourceURI(path))
	}
	return claim{path: strings.ToLower(path), rights: pol.rights, expires: time.Unix(tok.expiry, 0)}, 200, ""
}

// manage handles a request on <entity>/$management or the namespace's $management node.
func (c *conn) manage(l *link, req *amqp.Message) *amqp.Message {
	op, _ := req.ApplicationProperties.GetString("operation")
	if l.kind == linkNSManagement {
		return c.manageEventHub(req, op)
	}
	n := l.node
	need := rightListen
	switch op {
	case "com.microsoft:schedule-message", "com.microsoft:cancel-scheduled-message":
		need = rightSend
	}
	if !c.authorized(n.path, need) {
		claimName := map[rights]string{rightSend: "Send", rightListen: "Listen"}[need]
		return response(401, fmt.Sprintf("Unauthorized access. '%s' claim(s) are required to perform this operation. Resource: '%s'.", claimName, c.resourceURI(n.path)), nil)
	}
	body, _ := req.Value.(amqp.Map)
	now := c.srv.now()
	switch op {
	case "com.microsoft:peek-message":
		if n.store == nil {
			return response(400, "BadRequest: peek needs a queue or a subscription.", nil)
		}
		from, _ := amqp.AsInt64(valueOf(body, "from-sequence-number"))
		count, _ := amqp.AsInt64(valueOf(body, "message-count"))
		if count <= 0 {
			count = 1
		}
		peeked := n.store.peek(from, int(min(count, 1000)))
		if len(peeked) == 0 {
			return response(204, "No messages to peek", nil)
		}
		list := make([]any, 0, len(peeked))
		total := 0
		for _, st := range peeked {
			data, err := st.encode(true)
			if err != nil {
				return response(500, "InternalError: cannot encode a stored message", nil)
			}
			if total += len(data); total > maxPeekBytes && len(list) > 0 {
				break // the caller peeks again from the last sequence number it got
			}
			list = append(list, amqp.Map{{Key: "message", Value: data}})
		}
		return response(200, "", amqp.Map{{Key: "messages", Value: list}})
	case "com.microsoft:schedule-message":
		if !(n.entity.kind == kindQueue && n.store == n.entity.queue || n.entity.kind == kindTopic && n.store == nil) {
			return response(400, "BadRequest: schedule needs a queue or a topic.", nil)
		}
		items, _ := valueOf(body, "messages").([]any)
		if len(items) == 0 {
			return response(400, "BadRequest: schedule-message needs a non-empty 'messages' list.", nil)
		}
		seqs := make([]int64, 0, len(items))
		for _, it := range items {
			m, _ := it.(amqp.Map)
			data, _ := valueOf(m, "message").([]byte)
			msg, err := amqp.ParseMessage(data)
			if err != nil || data == nil {
				return response(400, "BadRequest: a scheduled message cannot be decoded.", nil)
			}
			if uint64(len(data)) > c.ns.maxMessageSize {
				return response(400, fmt.Sprintf("MessageSizeExceeded: the scheduled message (%d bytes) exceeds the limit of %d bytes.", len(data), c.ns.maxMessageSize), nil)
			}
			at, _ := valueOf(msg.Annotations, "x-opt-scheduled-enqueue-time").(time.Time)
			seq, err := n.schedule(msg, len(data), at, now)
			if err != nil {
				return response(403, err.Error(), nil)
			}
			seqs = append(seqs, seq)
		}
		return response(200, "", amqp.Map{{Key: "sequence-numbers", Value: seqs}})
	case "com.microsoft:cancel-scheduled-message":
		arr, _ := valueOf(body, "sequence-numbers").(amqp.Array)
		var seqs []int64
		for _, v := range arr.Values {
			if s, ok := amqp.AsInt64(v); ok {
				seqs = append(seqs, s)
			}
		}
		n.cancel(seqs)
		return response(200, "", nil)
	case "com.microsoft:renew-lock":
		if n.store == nil {
			return response(400, "BadRequest: renew-lock needs a queue or a subscription.", nil)
		}
		arr, _ := valueOf(body, "lock-tokens").(amqp.Array)
		var exp []any
		for _, v := range arr.Values {
			tok, _ := v.(amqp.UUID)
			until := n.store.renew(tok, now)
			if until.IsZero() {
				return response(410, "MessageLockLost: The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.", nil)
			}
			exp = append(exp, until)
		}
		return response(200, "", amqp.Map{{Key: "expirations", Value: amqp.Array{Elem: 0x83, Values: exp}}})
	case "com.microsoft:update-disposition":
		if n.store == nil {
			return response(400, "BadRequest: update-disposition needs a queue or a subscription.", nil)
		}
		status, _ := valueOf(body, "disposition-status").(string)
		outcome, ok := map[string]uint64{"completed": amqp.StateAccepted, "abandoned": amqp.StateModified, "suspended": amqp.StateRejected}[status]
		if !ok {
			return response(501, fmt.Sprintf("NotImplemented: the emulator does not implement disposition %q (deferral).", status), nil)
		}
		arr, _ := valueOf(body, "lock-tokens").(amqp.Array)
		for _, v := range arr.Values {
			tok, _ := v.(amqp.UUID)
			if !n.store.settle(tok, outcome, now) {
				return response(410, "MessageLockLost: The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.", nil)
			}
		}
		return response(200, "", nil)
	}
	return response(501, fmt.Sprintf("NotImplemented: the emulator does not implement management operation %q.", op), nil)
}

func valueOf(m amqp.Map, key string) any {
	v, _ := m.Get(key)
	return v
}

// schedule stores a message on a queue, or on every subscription of a topic, for later.
func (n node) schedule(msg *amqp.Message, size int, at, now time.Time) (int64, error) {
	e := n.entity
	if e.kind == kindQueue {
		return e.queue.schedule(msg, size, at, now)
	}
	refs := make([]schedRef, 0, len(e.subOrder))
	for _, s := range e.subOrder {
		seq, err := s.schedule(msg, size, at, now)
		if err != nil {
			for _, r := range refs {
				r.store.cancel([]int64{r.seq})
			}
			return 0, err
		}
		refs = append(refs, schedRef{store: s, seq: seq})
	}
	e.schedMu.Lock()
	defer e.schedMu.Unlock()
	if e.sched == nil {
		e.sched = map[int64][]schedRef{}
	}
	// Forget topic numbers whose messages are no longer scheduled, so the map stays bounded.
	if len(e.sched) >= 1024 {
		for seq, rs := range e.sched {
			if !anyScheduled(rs) {
				delete(e.sched, seq)
			}
		}
	}
	e.nextSched++
	e.sched[e.nextSched] = refs
	return e.nextSched, nil
}

func anyScheduled(rs []schedRef) bool {
	for _, r := range rs {
		if r.store.isScheduled(r.seq) {
			return true
		}
	}
	return false
}

func (n node) cancel(seqs []int64) {
	e := n.entity
	if e.kind == kindQueue {
		e.queue.cancel(seqs)
		return
	}
	e.schedMu.Lock()
	defer e.schedMu.Unlock()
	for _, seq := range seqs {
		for _, r := range e.sched[seq] {
			r.store.cancel([]int64{r.seq})
		}
		delete(e.sched, seq)
	}
}

// manageEventHub answers the Event Hubs READ operations (hub and partition properties). Each
// request carries its own token in "security_token".
func (c *conn) manageEventHub(req *amqp.Message, op string) *amqp.Message {
	name, _ := req.ApplicationProperties.GetString("name")
	typ, _ := req.ApplicationProperties.GetString("type")
	if op != "READ" {
		return response(501, fmt.Sprintf("NotImplemented: the emulator does not implement management operation %q.", op), nil)
	}
	e := c.ns.entities[strings.ToLower(name)]
	token, _ := req.ApplicationProperties.GetString("security_token")
	if token != "" {
		aud := "amqp://" + c.hostname + "/" + name
		cl, code, desc := c.judge(token, aud)
		if code != 200 {
			return response(code, desc, nil)
		}
		if !cl.rights.has(rightListen) && !cl.rights.has(rightSend) {
			return response(401, "Unauthorized access. 'Listen' claim(s) are required to perform this operation.", nil)
		}
	} else if !c.authorized(strings.ToLower(name), rightListen) && !c.authorized(strings.ToLower(name), rightSend) {
		return response(401, "Unauthorized access: put a token for the event hub or pass security_token.", nil)
	}
	if e == nil || e.kind != kindEventHub {
		return response(404, fmt.Sprintf("The messaging entity '%s' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.", c.resourceURI(name)), nil)
	}
	switch typ {
	case "com.microsoft:eventhub":
		ids := make([]string, len(e.hub.partitions))
		for i, p := range e.hub.partitions {
			ids[i] = p.id
		}
		return response(200, "OK", amqp.Map{
			{Key: "name", Value: e.name},
			{Key: "type", Value: "com.microsoft:eventhub"},
			{Key: "created_at", Value: e.hub.created},
			{Key: "partition_count", Value: int32(len(ids))},
			{Key: "partition_ids", Value: ids},
			{Key: "georeplication_factor", Value: int32(1)},
		})
	case "com.microsoft:partition":
		pid, _ := req.ApplicationProperties.GetString("partition")
		p := e.hub.partition(pid)
		if p == nil {
			return response(404, fmt.Sprintf("The partition '%s' of event hub '%s' does not exist.", pid, e.name), nil)
		}
		begin, last, lastTime, empty := p.properties()
		offset := "-1"
		if !empty {
			offset = fmt.Sprint(last)
		}
		return response(200, "OK", amqp.Map{
			{Key: "name", Value: e.name},
			{Key: "type", Value: "com.microsoft:partition"},
			{Key: "partition", Value: pid},
			{Key: "begin_sequence_number", Value: begin},
			{Key: "last_enqueued_sequence_number", Value: last},
			{Key: "last_enqueued_offset", Value: offset},
			{Key: "last_enqueued_time_utc", Value: lastTime},
			{Key: "is_partition_empty", Value: empty},
		})
	}
	return response(400, fmt.Sprintf("BadRequest: unknown READ type %q.", typ), nil)
}
