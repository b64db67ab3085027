package endpoint

import (
	"strings"
	"time"
)

// ServiceEndpoint is a Dataverse serviceendpoint record: every writable column, the
// write-only secrets (as Secret, never read back from Dataverse), and the read-only columns the
// portal shows. Its JSON form (the portal's drafts keep it) holds no secret: a Secret writes a
// mask and reads back unset.
type ServiceEndpoint struct {
	// ID is serviceendpointid. The portal chooses it before create so a retried create cannot
	// make a second record.
	ID string `json:"id,omitzero"`

	Name              string          `json:"name"`                       // name, required, at most 256
	Description       string          `json:"description,omitzero"`       // description, at most 2000
	SolutionNamespace string          `json:"solutionNamespace,omitzero"` // solutionnamespace, required for Service Bus: the namespace name
	NamespaceAddress  string          `json:"namespaceAddress,omitzero"`  // namespaceaddress: sb://ns.servicebus.windows.net/ (relays https://)
	Path              string          `json:"path,omitzero"`              // path: queue, topic, hub or relay name
	URL               string          `json:"url,omitzero"`               // url: webhooks and Event Grid
	Contract          Contract        `json:"contract,omitzero"`          // contract ("Designation Type"), required
	ConnectionMode    ConnectionMode  `json:"connectionMode,omitzero"`    // connectionmode, required; tools set Normal
	UserClaim         UserClaim       `json:"userClaim,omitzero"`         // userclaim ("User Information Sent"), required
	MessageFormat     MessageFormat   `json:"messageFormat,omitzero"`     // messageformat
	AuthType          AuthType        `json:"authType,omitzero"`          // authtype
	SASKeyName        string          `json:"sasKeyName,omitzero"`        // saskeyname, readable
	NamespaceFormat   NamespaceFormat `json:"namespaceFormat,omitzero"`   // namespaceformat; tools set Namespace Address
	MessageCharset    MessageCharset  `json:"messageCharset,omitzero"`    // messagecharset
	SchemaType        SchemaType      `json:"schemaType,omitzero"`        // schematype (Event Grid only)

	UseKeyVaultConfiguration bool   `json:"useKeyVaultConfiguration,omitzero"` // usekeyvaultconfiguration
	KeyVaultReferenceID      string `json:"keyVaultReferenceId,omitzero"`      // keyvaultreferenceid lookup (GUID), empty when unset

	// Write-only columns. Dataverse never returns them; the Is*Set flags say whether one is set.
	// In JSON they are a mask at most, and read back unset (see Secret).
	SASKey    Secret `json:"sasKey,omitzero"`    // saskey: exactly 44 characters
	SASToken  Secret `json:"sasToken,omitzero"`  // sastoken
	AuthValue Secret `json:"authValue,omitzero"` // authvalue: webhook key, or <settings> XML for header/query auth

	// Read-only columns.
	IsSASKeySet    bool      `json:"isSasKeySet,omitzero"`
	IsSASTokenSet  bool      `json:"isSasTokenSet,omitzero"`
	IsAuthValueSet bool      `json:"isAuthValueSet,omitzero"`
	IsManaged      bool      `json:"isManaged,omitzero"`
	CreatedOn      time.Time `json:"createdOn,omitzero"`
	ModifiedOn     time.Time `json:"modifiedOn,omitzero"`
	CreatedBy      string    `json:"createdBy,omitzero"`  // _createdby_value (systemuser id)
	ModifiedBy     string    `json:"modifiedBy,omitzero"` // _modifiedby_value (systemuser id)
}

// Maximum lengths of the string columns, as Dataverse defines them.
const (
	MaxNameLen              = 256
	MaxDescriptionLen       = 2000
	MaxSolutionNamespaceLen = 160
	MaxNamespaceAddressLen  = 255
	MaxPathLen              = 160
	MaxURLLen               = 2000
	MaxSASKeyNameLen        = 256
	MaxSASKeyLen            = 256
	MaxSASTokenLen          = 256
	MaxAuthValueLen         = 2048

	// SASKeyLen is the length of every Service Bus SAS key: 256 random bits in base64.
	SASKeyLen = 44
)

// Moved reports whether after sends to another place than before: another namespace, entity,
// URL, kind or policy. A stored secret is only ever sent to the destination it was proven
// with, so a moved endpoint is proved, and saved, with its secret given again.
func Moved(before, after ServiceEndpoint) bool {
	return !strings.EqualFold(strings.TrimSuffix(before.NamespaceAddress, "/"), strings.TrimSuffix(after.NamespaceAddress, "/")) ||
		before.Path != after.Path || before.URL != after.URL || before.Contract != after.Contract ||
		before.AuthType != after.AuthType || before.SASKeyName != after.SASKeyName
}

// DeliveryChanged reports whether after sends somewhere else (Moved) or differently (another
// message format) than before: such a change is proved by a test before it is written.
func DeliveryChanged(before, after ServiceEndpoint) bool {
	return Moved(before, after) || before.MessageFormat != after.MessageFormat
}
