package emulator

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/contoso/sbportal/servicebus/emulator/amqp"
)

// StoredMessage is a message held by a queue, subscription or dead-letter queue, as tests
// and the dev tools inspect it.
type StoredMessage struct {
	SequenceNumber        int64
	MessageID             string
	ContentType           string
	Subject               string
	Body                  []byte // data sections joined, or an amqp-value string/binary
	ApplicationProperties map[string]any
	EnqueuedAt            time.Time
	ExpiresAt             time.Time // zero: never
	TimeToLive            time.Duration
	Scheduled             bool // waiting for its scheduled enqueue time
	Locked                bool // delivered in peek-lock mode and not yet settled
	DeliveryCount         uint32
}

// ErrUnknownEntity is returned by the inspection methods for a path that names no queue or
// subscription.
var ErrUnknownEntity = errors.New("emulator: no such queue or subscription")

func (s *Server) storeFor(namespaceName, path string) (*store, error) {
	for _, ns := range s.namespaces {
		if !strings.EqualFold(ns.name, namespaceName) {
			continue
		}
		n, err := ns.resolve(path)
		if err != nil || n.store == nil || n.management {
			return nil, fmt.Errorf("%w: %q in namespace %q", ErrUnknownEntity, path, namespaceName)
		}
		return n.store, nil
	}
	return nil, fmt.Errorf("%w: namespace %q is not configured", ErrUnknownEntity, namespaceName)
}

// MessageCount reports how many messages a queue or subscription holds (ready, locked or
// scheduled). path is "queue", "topic/Subscriptions/sub" or either with "/$DeadLetterQueue".
func (s *Server) MessageCount(namespaceName, path string) (int, error) {
	st, err := s.storeFor(namespaceName, path)
	if err != nil {
		return 0, err
	}
	return st.Len(), nil
}

// Messages returns up to max messages of a queue or subscription in sequence order without
// changing them.
func (s *Server) Messages(namespaceName, path string, max int) ([]StoredMessage, error) {
	st, err := s.storeFor(namespaceName, path)
	if err != nil {
		return nil, err
	}
	var out []StoredMessage
	for _, m := range st.peek(0, max) {
		out = append(out, m.describe())
	}
	return out, nil
}

func (st *stored) describe() StoredMessage {
	m := st.msg
	out := StoredMessage{
		SequenceNumber: st.seq, EnqueuedAt: st.enqueued, ExpiresAt: st.expires, TimeToLive: m.TTL(),
		Scheduled: st.state == stateScheduled, Locked: st.state == stateLocked, DeliveryCount: st.deliveryCount,
		ApplicationProperties: map[string]any{},
	}
	if id, ok := m.Property(amqp.PropMessageID).(string); ok {
		out.MessageID = id
	}
	out.ContentType, _ = m.Property(amqp.PropContentType).(string)
	if ct, ok := m.Property(amqp.PropContentType).(amqp.Symbol); ok {
		out.ContentType = string(ct)
	}
	out.Subject, _ = m.Property(amqp.PropSubject).(string)
	for _, kv := range m.ApplicationProperties {
		if k, ok := kv.Key.(string); ok {
			out.ApplicationProperties[k] = kv.Value
		}
	}
	if data, err := m.DataSections(); err == nil && len(data) > 0 {
		for _, d := range data {
			out.Body = append(out.Body, d...)
		}
	} else if m.HasValue {
		switch v := m.Value.(type) {
		case string:
			out.Body = []byte(v)
		case []byte:
			out.Body = v
		}
	}
	return out
}

// Entity is one queue, topic or event hub the server serves, as banners list it: what a
// person writes as the entity path (EntityPath) and, for topics and event hubs, what to read
// from.
type Entity struct {
	Namespace string
	Kind      string // "queue", "topic" or "event hub"
	Name      string
	// Subscriptions are a topic's subscriptions, in configuration order.
	Subscriptions []string
	// Partitions is an event hub's partition count; ConsumerGroups its consumer groups,
	// $Default first.
	Partitions     int
	ConsumerGroups []string
}

// Entities lists every entity of every namespace in configuration order: queues, then topics,
// then event hubs.
func (s *Server) Entities() []Entity {
	var out []Entity
	for _, ns := range s.cfg.UserConfig.Namespaces {
		for _, q := range ns.Queues {
			out = append(out, Entity{Namespace: ns.Name, Kind: "queue", Name: q.Name})
		}
		for _, t := range ns.Topics {
			e := Entity{Namespace: ns.Name, Kind: "topic", Name: t.Name}
			for _, sub := range t.Subscriptions {
				e.Subscriptions = append(e.Subscriptions, sub.Name)
			}
			out = append(out, e)
		}
		for _, h := range ns.EventHubs {
			e := Entity{Namespace: ns.Name, Kind: "event hub", Name: h.Name, Partitions: h.PartitionCount, ConsumerGroups: []string{"$Default"}}
			for _, cg := range h.ConsumerGroups {
				if !strings.EqualFold(cg.Name, "$Default") {
					e.ConsumerGroups = append(e.ConsumerGroups, cg.Name)
				}
			}
			out = append(out, e)
		}
	}
	return out
}
