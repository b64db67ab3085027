package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config mirrors the JSON configuration: the format of Microsoft's Service Bus emulator
// (Config.json) extended with SAS policies, event hubs, DisableLocalAuth and Tier.
type Config struct {
	UserConfig UserConfig `json:"UserConfig"`
}

// UserConfig is the top-level object of the configuration file.
type UserConfig struct {
	Namespaces []NamespaceConfig `json:"Namespaces"`
	Logging    LoggingConfig     `json:"Logging"`
}

// LoggingConfig is accepted for compatibility with Microsoft's emulator; the emulator always
// logs through Options.Logger.
type LoggingConfig struct {
	Type string `json:"Type,omitempty"`
}

// NamespaceConfig is one Service Bus / Event Hubs namespace.
type NamespaceConfig struct {
	Name string `json:"Name"`
	// Tier sets the message size limit: Basic and Standard 256 KB, Premium 1 MB.
	Tier string `json:"Tier,omitempty"`
	// DisableLocalAuth refuses every SAS token with 401 LocalAuthDisabled, like a namespace
	// with disableLocalAuth=true.
	DisableLocalAuth bool             `json:"DisableLocalAuth,omitempty"`
	Policies         []PolicyConfig   `json:"Policies,omitempty"`
	Queues           []QueueConfig    `json:"Queues,omitempty"`
	Topics           []TopicConfig    `json:"Topics,omitempty"`
	EventHubs        []EventHubConfig `json:"EventHubs,omitempty"`
}

// PolicyConfig is a shared access policy (authorization rule).
type PolicyConfig struct {
	Name         string   `json:"Name"`
	PrimaryKey   string   `json:"PrimaryKey"`
	SecondaryKey string   `json:"SecondaryKey,omitempty"`
	Rights       []string `json:"Rights"` // Send, Listen, Manage
}

// QueueConfig is a queue.
type QueueConfig struct {
	Name       string           `json:"Name"`
	Properties EntityProperties `json:"Properties"`
	Policies   []PolicyConfig   `json:"Policies,omitempty"`
}

// TopicConfig is a topic with its subscriptions.
type TopicConfig struct {
	Name          string               `json:"Name"`
	Properties    EntityProperties     `json:"Properties"`
	Subscriptions []SubscriptionConfig `json:"Subscriptions,omitempty"`
	Policies      []PolicyConfig       `json:"Policies,omitempty"`
}

// SubscriptionConfig is a topic subscription. Rules are accepted for compatibility with
// Microsoft's emulator and ignored: every subscription receives every message.
type SubscriptionConfig struct {
	Name       string           `json:"Name"`
	Properties EntityProperties `json:"Properties"`
	Rules      json.RawMessage  `json:"Rules,omitempty"`
}

// EventHubConfig is an event hub.
type EventHubConfig struct {
	Name           string                `json:"Name"`
	PartitionCount int                   `json:"PartitionCount"`
	ConsumerGroups []ConsumerGroupConfig `json:"ConsumerGroups,omitempty"`
	Policies       []PolicyConfig        `json:"Policies,omitempty"`
}

// ConsumerGroupConfig names a consumer group ($Default always exists).
type ConsumerGroupConfig struct {
	Name string `json:"Name"`
}

// EntityProperties are the properties of Microsoft's emulator format. The emulator uses
// LockDuration, MaxDeliveryCount, DefaultMessageTimeToLive and MaxMessageCount (its own
// extension: the bound on stored messages); the others are accepted and ignored.
type EntityProperties struct {
	DeadLetteringOnMessageExpiration          bool   `json:"DeadLetteringOnMessageExpiration,omitempty"`
	DefaultMessageTimeToLive                  string `json:"DefaultMessageTimeToLive,omitempty"`
	DuplicateDetectionHistoryTimeWindow       string `json:"DuplicateDetectionHistoryTimeWindow,omitempty"`
	ForwardDeadLetteredMessagesTo             string `json:"ForwardDeadLetteredMessagesTo,omitempty"`
	ForwardTo                                 string `json:"ForwardTo,omitempty"`
	LockDuration                              string `json:"LockDuration,omitempty"`
	MaxDeliveryCount                          int    `json:"MaxDeliveryCount,omitempty"`
	RequiresDuplicateDetection                bool   `json:"RequiresDuplicateDetection,omitempty"`
	RequiresSession                           bool   `json:"RequiresSession,omitempty"`
	DeadLetteringOnFilterEvaluationExceptions bool   `json:"DeadLetteringOnFilterEvaluationExceptions,omitempty"`
	MaxMessageCount                           int    `json:"MaxMessageCount,omitempty"`
}

// Well-known keys of the default configuration. They are public, like Azurite's account key:
// never use them outside a development machine.
const (
	DefaultNamespace             = "sbemulatorns"
	DefaultQueue                 = "dataverse-queue"
	DefaultTopic                 = "dataverse-topic"
	DefaultSubscription          = "audit"
	DefaultEventHub              = "dataverse-hub"
	DefaultManagePolicy          = "RootManageSharedAccessKey"
	DefaultManagePrimaryKey      = "AG+EXJI9USwlHom7vPAiIJmdQGbvnH/GENChx9boysA="
	DefaultManageSecondaryKey    = "bxTubzbjS/+OrgVa8i2FpCci9bBgiknggxioQbzvYno="
	DefaultSendPolicy            = "SendOnly"
	DefaultSendPrimaryKey        = "KLA3tnsqs+FQegvFYT7JIfgfj6KV8SK0hfCIb9VD5Uw="
	DefaultSendSecondaryKey      = "pSLt4/k1FcwcnIY/A2a+5uI5jrohjPEta9hHsdj0fvk="
	DefaultListenPolicy          = "ListenOnly"
	DefaultListenPrimaryKey      = "RPuRCqQ812p28Kj8RYkJ0LWxFrOQ4Qgp/tUEc/N08lA="
	DefaultListenSecondaryKey    = "qYvFDMyUMLjK0Art25B2aVjAwZ6YiENHvqVvSFxlwF8="
	DefaultQueueSendPolicy       = "QueueSend"
	DefaultQueueSendPrimaryKey   = "VD1Jg3Ru0P3WfRhk39GmH/hfSqHJSJOhSx2gIoV1TQI="
	DefaultQueueSendSecondaryKey = "b9EaYiY1nBpKM7y9+FxSNW6TVMjXXBpxoXsqhuP/bNg="
)

// DefaultConfig is the configuration used without a file: namespace "sbemulatorns" (Standard)
// with queue "dataverse-queue", topic "dataverse-topic" with subscription "audit", event hub
// "dataverse-hub" (2 partitions), namespace policies RootManageSharedAccessKey (Manage),
// SendOnly (Send), ListenOnly (Listen), and the queue-level policy QueueSend (Send) on the
// queue. The keys are the Default*Key constants.
func DefaultConfig() Config {
	return Config{UserConfig: UserConfig{
		Namespaces: []NamespaceConfig{{
			Name: DefaultNamespace,
			Tier: "Standard",
			Policies: []PolicyConfig{
				{Name: DefaultManagePolicy, PrimaryKey: DefaultManagePrimaryKey, SecondaryKey: DefaultManageSecondaryKey, Rights: []string{"Manage", "Send", "Listen"}},
				{Name: DefaultSendPolicy, PrimaryKey: DefaultSendPrimaryKey, SecondaryKey: DefaultSendSecondaryKey, Rights: []string{"Send"}},
				{Name: DefaultListenPolicy, PrimaryKey: DefaultListenPrimaryKey, SecondaryKey: DefaultListenSecondaryKey, Rights: []string{"Listen"}},
			},
			Queues: []QueueConfig{{
				Name: DefaultQueue,
				Properties: EntityProperties{
					DefaultMessageTimeToLive: "PT1H", LockDuration: "PT1M", MaxDeliveryCount: 10,
				},
				Policies: []PolicyConfig{
					{Name: DefaultQueueSendPolicy, PrimaryKey: DefaultQueueSendPrimaryKey, SecondaryKey: DefaultQueueSendSecondaryKey, Rights: []string{"Send"}},
				},
			}},
			Topics: []TopicConfig{{
				Name:          DefaultTopic,
				Subscriptions: []SubscriptionConfig{{Name: DefaultSubscription, Properties: EntityProperties{LockDuration: "PT1M", MaxDeliveryCount: 10}}},
			}},
			EventHubs: []EventHubConfig{{Name: DefaultEventHub, PartitionCount: 2}},
		}},
		Logging: LoggingConfig{Type: "Console"},
	}}
}

// LoadConfig reads and validates a configuration file. Unknown fields are refused so a
// misspelt name does not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read emulator config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("emulator config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes and validates configuration JSON.
func ParseConfig(data []byte) (Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Config{}, fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
		}
		return Config{}, fmt.Errorf("invalid configuration: %v (see servicebus/emulator/example-config.json)", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

var (
	namespaceName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,48}[A-Za-z0-9]$`)
	entityName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$`)
	policyName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$`)
)

// Validate checks names, keys, rights and durations; the error names the bad field by its
// JSON path.
func (c Config) Validate() error {
	if len(c.UserConfig.Namespaces) == 0 {
		return errors.New("UserConfig.Namespaces: at least one namespace is required")
	}
	seenNS := map[string]bool{}
	for i, ns := range c.UserConfig.Namespaces {
		p := fmt.Sprintf("UserConfig.Namespaces[%d]", i)
		if !namespaceName.MatchString(ns.Name) {
			return fmt.Errorf("%s.Name %q: a namespace name has 3-50 letters, digits and hyphens, starts with a letter and ends with a letter or digit", p, ns.Name)
		}
		if seenNS[strings.ToLower(ns.Name)] {
			return fmt.Errorf("%s.Name %q: namespace names must be unique", p, ns.Name)
		}
		seenNS[strings.ToLower(ns.Name)] = true
		if _, err := tierLimit(ns.Tier); err != nil {
			return fmt.Errorf("%s.Tier: %w", p, err)
		}
		if err := validatePolicies(p+".Policies", ns.Policies); err != nil {
			return err
		}
		seen := map[string]string{}
		entity := func(path, name string) error {
			if !entityName.MatchString(name) {
				return fmt.Errorf("%s.Name %q: use letters, digits, '.', '_' or '-' (up to 260 characters)", path, name)
			}
			if prev, dup := seen[strings.ToLower(name)]; dup {
				return fmt.Errorf("%s.Name %q: the name is already used by %s (queues, topics and event hubs share one namespace)", path, name, prev)
			}
			seen[strings.ToLower(name)] = path
			return nil
		}
		for j, q := range ns.Queues {
			qp := fmt.Sprintf("%s.Queues[%d]", p, j)
			if err := entity(qp, q.Name); err != nil {
				return err
			}
			if err := q.Properties.validate(qp + ".Properties"); err != nil {
				return err
			}
			if err := validatePolicies(qp+".Policies", q.Policies); err != nil {
				return err
			}
		}
		for j, t := range ns.Topics {
			tp := fmt.Sprintf("%s.Topics[%d]", p, j)
			if err := entity(tp, t.Name); err != nil {
				return err
			}
			if err := t.Properties.validate(tp + ".Properties"); err != nil {
				return err
			}
			if err := validatePolicies(tp+".Policies", t.Policies); err != nil {
				return err
			}
			subs := map[string]bool{}
			for k, s := range t.Subscriptions {
				sp := fmt.Sprintf("%s.Subscriptions[%d]", tp, k)
				if !entityName.MatchString(s.Name) || subs[strings.ToLower(s.Name)] {
					return fmt.Errorf("%s.Name %q: use a unique name of letters, digits, '.', '_' or '-'", sp, s.Name)
				}
				subs[strings.ToLower(s.Name)] = true
				if err := s.Properties.validate(sp + ".Properties"); err != nil {
					return err
				}
			}
		}
		for j, h := range ns.EventHubs {
			hp := fmt.Sprintf("%s.EventHubs[%d]", p, j)
			if err := entity(hp, h.Name); err != nil {
				return err
			}
			if h.PartitionCount < 1 || h.PartitionCount > 32 {
				return fmt.Errorf("%s.PartitionCount %d: use 1 to 32 partitions", hp, h.PartitionCount)
			}
			for k, cg := range h.ConsumerGroups {
				if !entityName.MatchString(strings.TrimPrefix(cg.Name, "$")) {
					return fmt.Errorf("%s.ConsumerGroups[%d].Name %q: use letters, digits, '.', '_' or '-'", hp, k, cg.Name)
				}
			}
			if err := validatePolicies(hp+".Policies", h.Policies); err != nil {
				return err
			}
		}
	}
	return nil
}

func validatePolicies(path string, ps []PolicyConfig) error {
	seen := map[string]bool{}
	for i, pol := range ps {
		p := fmt.Sprintf("%s[%d]", path, i)
		if !policyName.MatchString(pol.Name) {
			return fmt.Errorf("%s.Name %q: use letters, digits, '.', '_' or '-'", p, pol.Name)
		}
		if seen[strings.ToLower(pol.Name)] {
			return fmt.Errorf("%s.Name %q: policy names must be unique at this level", p, pol.Name)
		}
		seen[strings.ToLower(pol.Name)] = true
		if len(pol.PrimaryKey) < 16 || len(pol.PrimaryKey) > 256 {
			return fmt.Errorf("%s.PrimaryKey: a key is 16 to 256 characters (Azure generates 44-character base64 keys)", p)
		}
		if pol.SecondaryKey != "" && (len(pol.SecondaryKey) < 16 || len(pol.SecondaryKey) > 256) {
			return fmt.Errorf("%s.SecondaryKey: a key is 16 to 256 characters (Azure generates 44-character base64 keys)", p)
		}
		if _, err := parseRights(pol.Rights); err != nil {
			return fmt.Errorf("%s.Rights: %w", p, err)
		}
	}
	return nil
}

func (e EntityProperties) validate(path string) error {
	for name, v := range map[string]string{"LockDuration": e.LockDuration, "DefaultMessageTimeToLive": e.DefaultMessageTimeToLive, "DuplicateDetectionHistoryTimeWindow": e.DuplicateDetectionHistoryTimeWindow} {
		if v == "" {
			continue
		}
		if _, err := parseISODuration(v); err != nil {
			return fmt.Errorf("%s.%s %q: %w", path, name, v, err)
		}
	}
	if e.MaxDeliveryCount < 0 || e.MaxDeliveryCount > 2000 {
		return fmt.Errorf("%s.MaxDeliveryCount %d: use 1 to 2000", path, e.MaxDeliveryCount)
	}
	if e.MaxMessageCount < 0 || e.MaxMessageCount > 1_000_000 {
		return fmt.Errorf("%s.MaxMessageCount %d: use 1 to 1000000 (0 = default)", path, e.MaxMessageCount)
	}
	return nil
}

// Rights of a policy.
type rights uint8

const (
	rightSend rights = 1 << iota
	rightListen
	rightManage
)

func (r rights) has(want rights) bool {
	if r&rightManage != 0 {
		return true
	}
	return r&want == want
}

func (r rights) names() []string {
	var out []string
	if r&rightManage != 0 {
		out = append(out, "Manage")
	}
	if r&rightSend != 0 || r&rightManage != 0 {
		out = append(out, "Send")
	}
	if r&rightListen != 0 || r&rightManage != 0 {
		out = append(out, "Listen")
	}
	return out
}

func parseRights(names []string) (rights, error) {
	if len(names) == 0 {
		return 0, errors.New(`list at least one of "Send", "Listen", "Manage"`)
	}
	var r rights
	for _, n := range names {
		switch strings.ToLower(n) {
		case "send":
			r |= rightSend
		case "listen":
			r |= rightListen
		case "manage":
			r |= rightManage | rightSend | rightListen
		default:
			return 0, fmt.Errorf(`unknown right %q: use "Send", "Listen" or "Manage"`, n)
		}
	}
	return r, nil
}

// tierLimit returns the message size limit of a tier.
func tierLimit(tier string) (uint64, error) {
	switch strings.ToLower(tier) {
	case "", "standard", "basic":
		return 256 * 1024, nil
	case "premium":
		return 1024 * 1024, nil
	}
	return 0, fmt.Errorf("unknown tier %q: use Basic, Standard or Premium", tier)
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseISODuration parses the ISO 8601 durations Service Bus uses (PT1M, P14D, PT1H30M).
func parseISODuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "PT" {
		return 0, errors.New("use an ISO 8601 duration such as PT1M, PT30S or P14D")
	}
	var d time.Duration
	units := []time.Duration{24 * time.Hour, time.Hour, time.Minute}
	for i, u := range units {
		if m[i+1] != "" {
			n, err := strconv.ParseInt(m[i+1], 10, 32)
			if err != nil {
				return 0, errors.New("duration out of range")
			}
			d += time.Duration(n) * u
		}
	}
	if m[4] != "" {
		f, err := strconv.ParseFloat(m[4], 64)
		if err != nil || f > 1e9 {
			return 0, errors.New("duration out of range")
		}
		d += time.Duration(f * float64(time.Second))
	}
	return d, nil
}
