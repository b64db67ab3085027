package emulator

import (
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contoso/sbportal/servicebus/emulator/amqp"
)

// waiter is told when a store or partition it waits on has something new.
type waiter interface{ wake() }

type policy struct {
	name               string
	primary, secondary string
	rights             rights
}

func buildPolicies(ps []PolicyConfig) map[string]policy {
	out := map[string]policy{}
	for _, p := range ps {
		r, _ := parseRights(p.Rights)
		out[strings.ToLower(p.Name)] = policy{name: p.Name, primary: p.PrimaryKey, secondary: p.SecondaryKey, rights: r}
	}
	return out
}

type namespace struct {
	name             string
	maxMessageSize   uint64
	disableLocalAuth bool
	// keysMu guards the policies' keys (namespace and entity level), which RegenerateKey
	// changes while connections judge tokens.
	keysMu   sync.RWMutex
	policies map[string]policy
	entities map[string]*entity // lower-case name -> queue, topic or event hub
}

type entityKind int

const (
	kindQueue entityKind = iota
	kindTopic
	kindEventHub
)

func (k entityKind) String() string {
	switch k {
	case kindQueue:
		return "Queue"
	case kindTopic:
		return "Topic"
	}
	return "EventHub"
}

type entity struct {
	name     string
	kind     entityKind
	policies map[string]policy
	queue    *store            // kindQueue
	subs     map[string]*store // kindTopic, lower-case subscription name
	subOrder []*store
	hub      *eventHub // kindEventHub

	// Topics number scheduled messages themselves: each subscription has its own sequence
	// numbers, so a topic-level number maps to one message per subscription.
	schedMu   sync.Mutex
	sched     map[int64][]schedRef
	nextSched int64
}

type schedRef struct {
	store *store
	seq   int64
}

type eventHub struct {
	name           string
	created        time.Time
	partitions     []*partition
	consumerGroups map[string]bool
	next           atomic.Uint32 // round-robin for sends without a partition
}

func newNamespace(cfg NamespaceConfig, lim Limits, now time.Time) *namespace {
	maxSize, _ := tierLimit(cfg.Tier)
	ns := &namespace{
		name: cfg.Name, maxMessageSize: maxSize, disableLocalAuth: cfg.DisableLocalAuth,
		policies: buildPolicies(cfg.Policies), entities: map[string]*entity{},
	}
	for _, q := range cfg.Queues {
		ns.entities[strings.ToLower(q.Name)] = &entity{
			name: q.Name, kind: kindQueue, policies: buildPolicies(q.Policies),
			queue: newStore(fmt.Sprintf("%s:Queue:%s", cfg.Name, q.Name), q.Properties, lim),
		}
	}
	for _, t := range cfg.Topics {
		e := &entity{name: t.Name, kind: kindTopic, policies: buildPolicies(t.Policies), subs: map[string]*store{}}
		for _, s := range t.Subscriptions {
			st := newStore(fmt.Sprintf("%s:Topic:%s|%s", cfg.Name, t.Name, s.Name), s.Properties, lim)
			e.subs[strings.ToLower(s.Name)] = st
			e.subOrder = append(e.subOrder, st)
		}
		ns.entities[strings.ToLower(t.Name)] = e
	}
	for _, h := range cfg.EventHubs {
		hub := &eventHub{name: h.Name, created: now, consumerGroups: map[string]bool{"$default": true}}
		for _, cg := range h.ConsumerGroups {
			hub.consumerGroups[strings.ToLower(cg.Name)] = true
		}
		for i := range h.PartitionCount {
			hub.partitions = append(hub.partitions, &partition{id: strconv.Itoa(i), max: lim.MaxEventsPerPartition, maxBytes: lim.MaxEntityBytes, waiters: map[waiter]struct{}{}})
		}
		ns.entities[strings.ToLower(h.Name)] = &entity{name: h.Name, kind: kindEventHub, policies: buildPolicies(h.Policies), hub: hub}
	}
	return ns
}

// node is what a link address resolves to.
type node struct {
	entity     *entity
	path       string // normalised entity path used for claims ("queue", "topic/subscriptions/s")
	store      *store // receive from (queue, subscription, dead-letter queue)
	partition  *partition
	management bool // <entity>/$management
	sendable   bool // queue, topic, event hub or one of its partitions
}

var errNoEntity = errors.New("no such entity")

// resolve maps a link address to a node. Addresses may be bare paths or full URIs.
func (ns *namespace) resolve(address string) (node, error) {
	path := address
	if _, rest, ok := strings.Cut(path, "://"); ok {
		_, path, _ = strings.Cut(rest, "/")
	}
	path = strings.Trim(path, "/")
	if len(path) > 1024 {
		return node{}, errNoEntity
	}
	parts := strings.Split(path, "/")
	e := ns.entities[strings.ToLower(parts[0])]
	if e == nil {
		return node{}, errNoEntity
	}
	n := node{entity: e, path: strings.ToLower(path)}
	rest := parts[1:]
	if len(rest) > 0 && strings.EqualFold(rest[len(rest)-1], "$management") {
		n.management = true
		rest = rest[:len(rest)-1]
		n.path = strings.ToLower(strings.Join(parts[:len(parts)-1], "/"))
	}
	lower := func(i int) string { return strings.ToLower(rest[i]) }
	switch e.kind {
	case kindQueue:
		switch {
		case len(rest) == 0:
			n.store, n.sendable = e.queue, !n.management
		case len(rest) == 1 && lower(0) == "$deadletterqueue":
			n.store = e.queue.dlq
		default:
			return node{}, errNoEntity
		}
	case kindTopic:
		switch {
		case len(rest) == 0:
			n.sendable = !n.management
		case len(rest) >= 2 && lower(0) == "subscriptions":
			s := e.subs[lower(1)]
			if s == nil {
				return node{}, errNoEntity
			}
			switch {
			case len(rest) == 2:
				n.store = s
			case len(rest) == 3 && lower(2) == "$deadletterqueue":
				n.store = s.dlq
			default:
				return node{}, errNoEntity
			}
		default:
			return node{}, errNoEntity
		}
	case kindEventHub:
		if n.management {
			return node{}, errNoEntity
		}
		switch {
		case len(rest) == 0:
			n.sendable = true
		case len(rest) == 2 && lower(0) == "partitions":
			p := e.hub.partition(rest[1])
			if p == nil {
				return node{}, errNoEntity
			}
			n.partition, n.sendable = p, true
		case len(rest) == 4 && lower(0) == "consumergroups" && lower(2) == "partitions":
			if !e.hub.consumerGroups[lower(1)] {
				return node{}, errNoEntity
			}
			p := e.hub.partition(rest[3])
			if p == nil {
				return node{}, errNoEntity
			}
			n.partition = p
		default:
			return node{}, errNoEntity
		}
	}
	return n, nil
}

func (h *eventHub) partition(id string) *partition {
	i, err := strconv.Atoi(id)
	if err != nil || i < 0 || i >= len(h.partitions) || strconv.Itoa(i) != id {
		return nil
	}
	return h.partitions[i]
}

// errQuotaExceeded is returned when an entity holds as many messages as it may.
type errQuotaExceeded struct{ entity string }

func (e errQuotaExceeded) Error() string {
	return fmt.Sprintf("QuotaExceeded: The maximum entity size has been reached or exceeded for %s. Receive or purge messages, or raise Properties.MaxMessageCount in the emulator configuration.", e.entity)
}

// enqueue delivers a message sent to the node: to a queue, to every subscription of a topic,
// or to an event hub partition.
func (n node) enqueue(msg *amqp.Message, size int, now time.Time) error {
	if n.entity.kind != kindEventHub {
		// A message sent with ScheduledEnqueueTime in the future is scheduled, as the
		// service does.
		if at, ok := valueOf(msg.Annotations, "x-opt-scheduled-enqueue-time").(time.Time); ok && at.After(now) {
			_, err := n.schedule(msg, size, at, now)
			return err
		}
	}
	switch n.entity.kind {
	case kindQueue:
		return n.entity.queue.enqueue(msg, size, now)
	case kindTopic:
		// Check every subscription first so a full one refuses the message for all, as
		// the service does.
		for _, s := range n.entity.subOrder {
			if err := s.hasRoom(size); err != nil {
				return err
			}
		}
		for _, s := range n.entity.subOrder {
			if err := s.enqueue(msg, size, now); err != nil {
				return err
			}
		}
		return nil
	}
	p := n.partition
	if p == nil {
		p = n.entity.hub.pick(msg)
	}
	p.append(msg, size, now)
	return nil
}

func (h *eventHub) pick(msg *amqp.Message) *partition {
	if key, ok := msg.Annotations.GetString("x-opt-partition-key"); ok {
		f := fnv.New32a()
		f.Write([]byte(key))
		return h.partitions[f.Sum32()%uint32(len(h.partitions))]
	}
	return h.partitions[(h.next.Add(1)-1)%uint32(len(h.partitions))]
}

type messageState int

const (
	stateReady messageState = iota
	stateLocked
	stateScheduled
)

type stored struct {
	seq           int64
	msg           *amqp.Message
	size          int
	enqueued      time.Time
	expires       time.Time // zero: never
	deliveryCount uint32
	state         messageState
	lockToken     amqp.UUID
	lockedUntil   time.Time
	timer         *time.Timer // scheduled messages
}

// store is a queue or a subscription (or a dead-letter queue): messages in sequence order,
// bounded in count and bytes.
type store struct {
	mu           sync.Mutex
	name         string
	ready        []*stored // sorted by seq
	all          map[int64]*stored
	locked       map[amqp.UUID]*stored
	nextSeq      int64
	bytes        int
	maxCount     int
	maxBytes     int
	lockDuration time.Duration
	maxDelivery  uint32
	defaultTTL   time.Duration
	dlq          *store
	waiters      map[waiter]struct{}
	closed       bool
}

func newStore(name string, p EntityProperties, lim Limits) *store {
	s := newPlainStore(name, p, lim)
	s.dlq = newPlainStore(name+"/$DeadLetterQueue", EntityProperties{}, lim)
	return s
}

func newPlainStore(name string, p EntityProperties, lim Limits) *store {
	s := &store{
		name: name, all: map[int64]*stored{}, locked: map[amqp.UUID]*stored{}, nextSeq: 1,
		maxCount: lim.MaxMessagesPerEntity, maxBytes: lim.MaxEntityBytes,
		lockDuration: time.Minute, maxDelivery: 10, waiters: map[waiter]struct{}{},
	}
	if p.MaxMessageCount > 0 {
		s.maxCount = p.MaxMessageCount
	}
	if d, err := parseISODuration(p.LockDuration); err == nil && d > 0 {
		s.lockDuration = d
	}
	if d, err := parseISODuration(p.DefaultMessageTimeToLive); err == nil && d > 0 {
		s.defaultTTL = d
	}
	if p.MaxDeliveryCount > 0 {
		s.maxDelivery = uint32(p.MaxDeliveryCount)
	}
	return s
}

func (s *store) hasRoom(size int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.all) >= s.maxCount || s.bytes+size > s.maxBytes {
		return errQuotaExceeded{entity: s.name}
	}
	return nil
}

func (s *store) newStored(msg *amqp.Message, size int, now time.Time) *stored {
	st := &stored{seq: s.nextSeq, msg: msg, size: size, enqueued: now}
	s.nextSeq++
	ttl := msg.TTL()
	if ttl == 0 || s.defaultTTL > 0 && ttl > s.defaultTTL {
		ttl = s.defaultTTL
	}
	if ttl > 0 {
		st.expires = now.Add(ttl)
	}
	return st
}

func (s *store) enqueue(msg *amqp.Message, size int, now time.Time) error {
	s.mu.Lock()
	if s.closed || len(s.all) >= s.maxCount || s.bytes+size > s.maxBytes {
		s.mu.Unlock()
		return errQuotaExceeded{entity: s.name}
	}
	st := s.newStored(msg, size, now)
	s.all[st.seq] = st
	s.bytes += size
	s.ready = append(s.ready, st)
	ws := s.takeWaiters()
	s.mu.Unlock()
	wakeAll(ws)
	return nil
}

// takeWaiters empties the waiter set; callers wake them after unlocking, so a store lock is
// never held while a connection is woken.
func (s *store) takeWaiters() []waiter {
	if len(s.waiters) == 0 {
		return nil
	}
	ws := make([]waiter, 0, len(s.waiters))
	for w := range s.waiters {
		ws = append(ws, w)
	}
	clear(s.waiters)
	return ws
}

func wakeAll(ws []waiter) {
	for _, w := range ws {
		w.wake()
	}
}

func (s *store) wait(w waiter) {
	s.mu.Lock()
	s.waiters[w] = struct{}{}
	s.mu.Unlock()
}

func (s *store) unwait(w waiter) {
	s.mu.Lock()
	delete(s.waiters, w)
	s.mu.Unlock()
}

// schedule keeps a message until at, then makes it available.
func (s *store) schedule(msg *amqp.Message, size int, at, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.all) >= s.maxCount || s.bytes+size > s.maxBytes {
		return 0, errQuotaExceeded{entity: s.name}
	}
	st := s.newStored(msg, size, now)
	st.state = stateScheduled
	s.all[st.seq] = st
	s.bytes += size
	seq := st.seq
	st.timer = time.AfterFunc(max(at.Sub(now), 0), func() { s.activate(seq) })
	return seq, nil
}

func (s *store) activate(seq int64) {
	s.mu.Lock()
	st := s.all[seq]
	if st == nil || st.state != stateScheduled || s.closed {
		s.mu.Unlock()
		return
	}
	st.state, st.timer = stateReady, nil
	s.insertReady(st)
	ws := s.takeWaiters()
	s.mu.Unlock()
	wakeAll(ws)
}

// cancel removes scheduled messages; unknown numbers are ignored, as the service does.
func (s *store) cancel(seqs []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seq := range seqs {
		if st := s.all[seq]; st != nil && st.state == stateScheduled {
			st.timer.Stop()
			s.remove(st)
		}
	}
}

func (s *store) isScheduled(seq int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.all[seq]
	return st != nil && st.state == stateScheduled
}

func (s *store) remove(st *stored) {
	delete(s.all, st.seq)
	s.bytes -= st.size
}

func (s *store) insertReady(st *stored) {
	i := sort.Search(len(s.ready), func(i int) bool { return s.ready[i].seq >= st.seq })
	s.ready = append(s.ready, nil)
	copy(s.ready[i+1:], s.ready[i:])
	s.ready[i] = st
}

// take removes the next available message (receive-and-delete) or locks it (peek-lock).
func (s *store) take(lock bool, now time.Time) *stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocks(now)
	for len(s.ready) > 0 {
		st := s.ready[0]
		s.ready[0] = nil
		s.ready = s.ready[1:]
		if !st.expires.IsZero() && now.After(st.expires) {
			s.remove(st)
			continue
		}
		if !lock {
			s.remove(st)
			return st
		}
		st.state = stateLocked
		st.lockToken = newUUID()
		st.lockedUntil = now.Add(s.lockDuration)
		s.locked[st.lockToken] = st
		return st
	}
	return nil
}

// expireLocks returns messages whose lock ran out to the queue (counting the delivery).
func (s *store) expireLocks(now time.Time) {
	for tok, st := range s.locked {
		if now.After(st.lockedUntil) {
			delete(s.locked, tok)
			s.requeueLocked(st, true)
		}
	}
}

func (s *store) requeueLocked(st *stored, countDelivery bool) {
	if countDelivery {
		st.deliveryCount++
	}
	if st.deliveryCount >= s.maxDelivery && s.dlq != nil {
		s.remove(st)
		_ = s.dlq.enqueue(st.msg, st.size, st.enqueued)
		return
	}
	st.state = stateReady
	s.insertReady(st)
}

// settle ends the lock on a message: complete deletes it, abandon returns it, deadLetter moves
// it to the dead-letter queue. It reports false when the lock is unknown or lost.
func (s *store) settle(token amqp.UUID, outcome uint64, now time.Time) bool {
	s.mu.Lock()
	st := s.locked[token]
	if st == nil {
		s.mu.Unlock()
		return false
	}
	delete(s.locked, token)
	if now.After(st.lockedUntil) {
		// Too late: the lock ran out and the message is available again.
		s.requeueLocked(st, true)
		ws := s.takeWaiters()
		s.mu.Unlock()
		wakeAll(ws)
		return false
	}
	switch outcome {
	case amqp.StateAccepted:
		s.remove(st)
	case amqp.StateRejected:
		s.remove(st)
		if s.dlq != nil {
			_ = s.dlq.enqueue(st.msg, st.size, st.enqueued)
		}
	default:
		// Released returns the message untouched (the SDK's releaser hands back prefetched
		// messages); modified is an abandon, which counts as a delivery whatever its
		// delivery-failed flag says (azservicebus abandons with delivery-failed=false and the
		// service still counts it).
		s.requeueLocked(st, outcome == amqp.StateModified)
	}
	ws := s.takeWaiters()
	s.mu.Unlock()
	wakeAll(ws)
	return true
}

// renew extends a lock; zero time when the lock is unknown.
func (s *store) renew(token amqp.UUID, now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.locked[token]
	if st == nil || now.After(st.lockedUntil) {
		return time.Time{}
	}
	st.lockedUntil = now.Add(s.lockDuration)
	return st.lockedUntil
}

// peek returns up to count messages with sequence numbers from `from` on, without locking.
func (s *store) peek(from int64, count int) []*stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	seqs := make([]int64, 0, len(s.all))
	for seq := range s.all {
		if seq >= from {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	if len(seqs) > count {
		seqs = seqs[:count]
	}
	out := make([]*stored, len(seqs))
	for i, seq := range seqs {
		c := *s.all[seq]
		c.timer = nil
		out[i] = &c
	}
	return out
}

// Len reports how many messages the store holds (ready, locked or scheduled).
func (s *store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.all)
}

func (s *store) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, st := range s.all {
		if st.timer != nil {
			st.timer.Stop()
		}
	}
}

// encode renders a stored message for delivery or peek, with the broker's annotations.
func (st *stored) encode(peekOnly bool) ([]byte, error) {
	m := st.msg.Clone()
	m.Annotate("x-opt-sequence-number", st.seq)
	m.Annotate("x-opt-enqueued-time", st.enqueued)
	if st.state == stateLocked && !peekOnly {
		m.Annotate("x-opt-locked-until", st.lockedUntil)
		m.DeliveryAnnotations = m.DeliveryAnnotations.Set(amqp.Symbol("x-opt-lock-token"), st.lockToken)
	}
	if st.state == stateScheduled {
		m.Annotate("x-opt-message-state", int32(2))
	}
	m.SetDeliveryCount(st.deliveryCount)
	if m.Properties == nil {
		// azservicebus reads the header's delivery-count only when a properties section is
		// present; the service always sends one.
		m.Properties = []any{}
	}
	return m.Encode()
}

// partition is an event hub partition: an append-only log, trimmed to a bound.
type partition struct {
	mu       sync.Mutex
	id       string
	events   []*stored
	firstSeq int64 // sequence number of events[0]
	bytes    int
	max      int
	maxBytes int
	last     time.Time
	waiters  map[waiter]struct{}
}

func (p *partition) append(msg *amqp.Message, size int, now time.Time) {
	p.mu.Lock()
	seq := p.firstSeq + int64(len(p.events))
	p.events = append(p.events, &stored{seq: seq, msg: msg, size: size, enqueued: now})
	p.bytes += size
	p.last = now
	for len(p.events) > p.max || p.bytes > p.maxBytes && len(p.events) > 1 {
		p.bytes -= p.events[0].size
		p.events[0] = nil
		p.events = p.events[1:]
		p.firstSeq++
	}
	ws := make([]waiter, 0, len(p.waiters))
	for w := range p.waiters {
		ws = append(ws, w)
	}
	clear(p.waiters)
	p.mu.Unlock()
	wakeAll(ws)
}

// read returns the first event with a sequence number >= seq.
func (p *partition) read(seq int64) *stored {
	p.mu.Lock()
	defer p.mu.Unlock()
	if seq < p.firstSeq {
		seq = p.firstSeq
	}
	i := seq - p.firstSeq
	if i >= int64(len(p.events)) {
		return nil
	}
	return p.events[i]
}

// startAt resolves an event hub selector ("amqp.annotation.x-opt-offset > '-1'") to the first
// sequence number to deliver.
func (p *partition) startAt(selector string) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := p.firstSeq + int64(len(p.events))
	if selector == "" {
		return next, nil
	}
	fields := strings.Fields(selector)
	if len(fields) != 3 {
		return 0, fmt.Errorf("unsupported selector %q", selector)
	}
	key, op, val := strings.ToLower(fields[0]), fields[1], strings.Trim(fields[2], "'")
	inclusive := op == ">="
	if op != ">" && op != ">=" {
		return 0, fmt.Errorf("unsupported selector operator %q", op)
	}
	switch key {
	case "amqp.annotation.x-opt-offset", "amqp.annotation.x-opt-sequence-number":
		if val == "@latest" {
			return next, nil
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid position %q", val)
		}
		if inclusive {
			return max(n, 0), nil
		}
		return max(n+1, 0), nil
	case "amqp.annotation.x-opt-enqueued-time":
		ms, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid enqueued time %q", val)
		}
		for _, ev := range p.events {
			t := ev.enqueued.UnixMilli()
			if t > ms || inclusive && t == ms {
				return ev.seq, nil
			}
		}
		return next, nil
	}
	return 0, fmt.Errorf("unsupported selector %q", selector)
}

func (p *partition) wait(w waiter) {
	p.mu.Lock()
	p.waiters[w] = struct{}{}
	p.mu.Unlock()
}

func (p *partition) unwait(w waiter) {
	p.mu.Lock()
	delete(p.waiters, w)
	p.mu.Unlock()
}

func (p *partition) properties() (begin, last int64, lastTime time.Time, empty bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.firstSeq, p.firstSeq + int64(len(p.events)) - 1, p.last, len(p.events) == 0
}

func (st *stored) encodeEvent() ([]byte, error) {
	m := st.msg.Clone()
	m.Annotate("x-opt-sequence-number", st.seq)
	m.Annotate("x-opt-offset", strconv.FormatInt(st.seq, 10))
	m.Annotate("x-opt-enqueued-time", st.enqueued)
	return m.Encode()
}

func newUUID() amqp.UUID {
	var u amqp.UUID
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}
