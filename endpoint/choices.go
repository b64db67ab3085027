package endpoint

import (
	"fmt"
	"strconv"
)

// choice is implemented by every Dataverse choice (option set) type in this package.
type choice interface {
	~int
	Label() string
}

// parseChoice finds the value of a choice type whose code or label matches s.
func parseChoice[T choice](s string, all []T) (T, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		for _, c := range all {
			if int(c) == n {
				return c, true
			}
		}
		var zero T
		return zero, false
	}
	for _, c := range all {
		if c.Label() == s {
			return c, true
		}
	}
	var zero T
	return zero, false
}

// Contract is the "Designation Type" of a service endpoint (Dataverse column contract).
type Contract int

// Contract values with their Dataverse codes.
const (
	ContractOneWay          Contract = 1
	ContractQueue           Contract = 2
	ContractRest            Contract = 3
	ContractTwoWay          Contract = 4
	ContractTopic           Contract = 5
	ContractPersistentQueue Contract = 6
	ContractEventHub        Contract = 7
	ContractWebhook         Contract = 8
	ContractEventGrid       Contract = 9
	ContractManagedDataLake Contract = 10
)

// Contracts lists every contract Dataverse knows, in code order.
var Contracts = []Contract{ContractOneWay, ContractQueue, ContractRest, ContractTwoWay, ContractTopic,
	ContractPersistentQueue, ContractEventHub, ContractWebhook, ContractEventGrid, ContractManagedDataLake}

// RegistrableContracts lists the contracts the portal registers, in the order a form offers them.
var RegistrableContracts = []Contract{ContractQueue, ContractTopic, ContractEventHub, ContractOneWay,
	ContractTwoWay, ContractRest, ContractWebhook}

// Label is the name people see (as the Plug-in Registration Tool shows it).
func (c Contract) Label() string {
	switch c {
	case ContractOneWay:
		return "One-way relay"
	case ContractQueue:
		return "Queue"
	case ContractRest:
		return "REST relay"
	case ContractTwoWay:
		return "Two-way relay"
	case ContractTopic:
		return "Topic"
	case ContractPersistentQueue:
		return "Queue (persistent)"
	case ContractEventHub:
		return "Event hub"
	case ContractWebhook:
		return "Webhook"
	case ContractEventGrid:
		return "Event Grid"
	case ContractManagedDataLake:
		return "Managed data lake"
	}
	return fmt.Sprintf("Unknown designation type (%d)", int(c))
}

// String returns the label.
func (c Contract) String() string { return c.Label() }

// Valid reports whether c is a code Dataverse knows.
func (c Contract) Valid() bool { return c >= ContractOneWay && c <= ContractManagedDataLake }

// IsRelay reports whether c is an Azure Relay contract (https:// namespace address).
func (c Contract) IsRelay() bool {
	return c == ContractOneWay || c == ContractTwoWay || c == ContractRest
}

// IsServiceBus reports whether c is delivered through a Service Bus namespace (queue, topic,
// event hub or relay) and so needs a namespace, a path and SAS authentication.
func (c Contract) IsServiceBus() bool {
	switch c {
	case ContractQueue, ContractPersistentQueue, ContractTopic, ContractEventHub,
		ContractOneWay, ContractTwoWay, ContractRest:
		return true
	}
	return false
}

// ParseContract accepts a Dataverse code ("2") or a label ("Queue").
func ParseContract(s string) (Contract, bool) { return parseChoice(s, Contracts) }

// MessageFormat is how Dataverse serializes the RemoteExecutionContext it posts.
type MessageFormat int

// MessageFormat values with their Dataverse codes.
const (
	MessageFormatBinaryXML MessageFormat = 1
	MessageFormatJSON      MessageFormat = 2
	MessageFormatTextXML   MessageFormat = 3
)

// MessageFormats lists every message format in code order.
var MessageFormats = []MessageFormat{MessageFormatBinaryXML, MessageFormatJSON, MessageFormatTextXML}

// Label is the name people see.
func (f MessageFormat) Label() string {
	switch f {
	case MessageFormatBinaryXML:
		return ".NET Binary"
	case MessageFormatJSON:
		return "JSON"
	case MessageFormatTextXML:
		return "XML"
	}
	return fmt.Sprintf("Unknown message format (%d)", int(f))
}

// String returns the label.
func (f MessageFormat) String() string { return f.Label() }

// Valid reports whether f is a code Dataverse knows.
func (f MessageFormat) Valid() bool { return f >= MessageFormatBinaryXML && f <= MessageFormatTextXML }

// ContentType is the content type of the messages Dataverse posts in this format.
func (f MessageFormat) ContentType() string {
	switch f {
	case MessageFormatBinaryXML:
		return "application/msbin1"
	case MessageFormatJSON:
		return "application/json"
	case MessageFormatTextXML:
		return "application/xml"
	}
	return ""
}

// ParseMessageFormat accepts a Dataverse code or a label.
func ParseMessageFormat(s string) (MessageFormat, bool) { return parseChoice(s, MessageFormats) }

// UserClaim is the "User Information Sent" setting.
type UserClaim int

// UserClaim values with their Dataverse codes.
const (
	UserClaimNone     UserClaim = 1
	UserClaimUserID   UserClaim = 2
	UserClaimUserInfo UserClaim = 3
)

// UserClaims lists every user claim in code order.
var UserClaims = []UserClaim{UserClaimNone, UserClaimUserID, UserClaimUserInfo}

// Label is the name people see.
func (u UserClaim) Label() string {
	switch u {
	case UserClaimNone:
		return "None"
	case UserClaimUserID:
		return "User ID"
	case UserClaimUserInfo:
		return "User info"
	}
	return fmt.Sprintf("Unknown user information setting (%d)", int(u))
}

// String returns the label.
func (u UserClaim) String() string { return u.Label() }

// Valid reports whether u is a code Dataverse knows.
func (u UserClaim) Valid() bool { return u >= UserClaimNone && u <= UserClaimUserInfo }

// ParseUserClaim accepts a Dataverse code or a label.
func ParseUserClaim(s string) (UserClaim, bool) { return parseChoice(s, UserClaims) }

// AuthType is how Dataverse authenticates to the endpoint.
type AuthType int

// AuthType values with their Dataverse codes.
const (
	AuthTypeACS              AuthType = 1
	AuthTypeSASKey           AuthType = 2
	AuthTypeSASToken         AuthType = 3
	AuthTypeWebhookKey       AuthType = 4
	AuthTypeHTTPHeader       AuthType = 5
	AuthTypeHTTPQueryString  AuthType = 6
	AuthTypeConnectionString AuthType = 7
	AuthTypeAccessKey        AuthType = 8
)

// AuthTypes lists every auth type in code order.
var AuthTypes = []AuthType{AuthTypeACS, AuthTypeSASKey, AuthTypeSASToken, AuthTypeWebhookKey,
	AuthTypeHTTPHeader, AuthTypeHTTPQueryString, AuthTypeConnectionString, AuthTypeAccessKey}

// Label is the name people see.
func (a AuthType) Label() string {
	switch a {
	case AuthTypeACS:
		return "ACS (retired)"
	case AuthTypeSASKey:
		return "SAS key"
	case AuthTypeSASToken:
		return "SAS token"
	case AuthTypeWebhookKey:
		return "Webhook key"
	case AuthTypeHTTPHeader:
		return "HTTP header"
	case AuthTypeHTTPQueryString:
		return "HTTP query string"
	case AuthTypeConnectionString:
		return "Connection string"
	case AuthTypeAccessKey:
		return "Access key"
	}
	return fmt.Sprintf("Unknown authentication type (%d)", int(a))
}

// String returns the label.
func (a AuthType) String() string { return a.Label() }

// Valid reports whether a is a code Dataverse knows.
func (a AuthType) Valid() bool { return a >= AuthTypeACS && a <= AuthTypeAccessKey }

// IsWebhookAuth reports whether a is one of the webhook authentication types.
func (a AuthType) IsWebhookAuth() bool {
	return a == AuthTypeWebhookKey || a == AuthTypeHTTPHeader || a == AuthTypeHTTPQueryString
}

// ParseAuthType accepts a Dataverse code or a label.
func ParseAuthType(s string) (AuthType, bool) { return parseChoice(s, AuthTypes) }

// NamespaceFormat says whether the namespace column holds a name or an address.
type NamespaceFormat int

// NamespaceFormat values with their Dataverse codes.
const (
	NamespaceFormatName    NamespaceFormat = 1
	NamespaceFormatAddress NamespaceFormat = 2
)

// NamespaceFormats lists every namespace format in code order.
var NamespaceFormats = []NamespaceFormat{NamespaceFormatName, NamespaceFormatAddress}

// Label is the name people see.
func (n NamespaceFormat) Label() string {
	switch n {
	case NamespaceFormatName:
		return "Namespace name"
	case NamespaceFormatAddress:
		return "Namespace address"
	}
	return fmt.Sprintf("Unknown namespace format (%d)", int(n))
}

// String returns the label.
func (n NamespaceFormat) String() string { return n.Label() }

// Valid reports whether n is a code Dataverse knows.
func (n NamespaceFormat) Valid() bool {
	return n == NamespaceFormatName || n == NamespaceFormatAddress
}

// ConnectionMode is Dataverse's connectionmode column; tools always set Normal.
type ConnectionMode int

// ConnectionMode values with their Dataverse codes.
const (
	ConnectionModeNormal    ConnectionMode = 1
	ConnectionModeFederated ConnectionMode = 2
)

// ConnectionModes lists every connection mode in code order.
var ConnectionModes = []ConnectionMode{ConnectionModeNormal, ConnectionModeFederated}

// Label is the name people see.
func (m ConnectionMode) Label() string {
	switch m {
	case ConnectionModeNormal:
		return "Normal"
	case ConnectionModeFederated:
		return "Federated"
	}
	return fmt.Sprintf("Unknown connection mode (%d)", int(m))
}

// String returns the label.
func (m ConnectionMode) String() string { return m.Label() }

// Valid reports whether m is a code Dataverse knows.
func (m ConnectionMode) Valid() bool {
	return m == ConnectionModeNormal || m == ConnectionModeFederated
}

// MessageCharset is Dataverse's messagecharset column.
type MessageCharset int

// MessageCharset values with their Dataverse codes.
const (
	MessageCharsetDefault MessageCharset = 0
	MessageCharsetUTF8    MessageCharset = 1
)

// MessageCharsets lists every charset in code order.
var MessageCharsets = []MessageCharset{MessageCharsetDefault, MessageCharsetUTF8}

// Label is the name people see.
func (c MessageCharset) Label() string {
	switch c {
	case MessageCharsetDefault:
		return "Default"
	case MessageCharsetUTF8:
		return "UTF-8"
	}
	return fmt.Sprintf("Unknown message charset (%d)", int(c))
}

// String returns the label.
func (c MessageCharset) String() string { return c.Label() }

// Valid reports whether c is a code Dataverse knows.
func (c MessageCharset) Valid() bool {
	return c == MessageCharsetDefault || c == MessageCharsetUTF8
}

// SchemaType is the event schema of an Event Grid endpoint.
type SchemaType int

// SchemaType values with their Dataverse codes; 0 means not set.
const (
	SchemaTypeNone        SchemaType = 0
	SchemaTypeEventGrid   SchemaType = 1
	SchemaTypeCloudEvents SchemaType = 2
)

// Label is the name people see.
func (s SchemaType) Label() string {
	switch s {
	case SchemaTypeNone:
		return "Not set"
	case SchemaTypeEventGrid:
		return "Event Grid"
	case SchemaTypeCloudEvents:
		return "Cloud Events"
	}
	return fmt.Sprintf("Unknown schema type (%d)", int(s))
}

// String returns the label.
func (s SchemaType) String() string { return s.Label() }

// Valid reports whether s is a code Dataverse knows (or not set).
func (s SchemaType) Valid() bool { return s >= SchemaTypeNone && s <= SchemaTypeCloudEvents }

// ParseNamespaceFormat accepts a Dataverse code or a label.
func ParseNamespaceFormat(s string) (NamespaceFormat, bool) { return parseChoice(s, NamespaceFormats) }

// ParseConnectionMode accepts a Dataverse code or a label.
func ParseConnectionMode(s string) (ConnectionMode, bool) { return parseChoice(s, ConnectionModes) }

// ParseMessageCharset accepts a Dataverse code or a label.
func ParseMessageCharset(s string) (MessageCharset, bool) { return parseChoice(s, MessageCharsets) }
