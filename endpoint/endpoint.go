package endpoint

import "time"

// ServiceEndpoint is a Dataverse serviceendpoint record: every writable column, the
// write-only secrets (as Secret, never read back from Dataverse), and the read-only columns the
// portal shows.
type ServiceEndpoint struct {
	// ID is serviceendpointid. The portal chooses it before create so a retried create cannot
	// make a second record.
	ID string

	Name              string          // name, required, at most 256
	Description       string          // description, at most 2000
	SolutionNamespace string          // solutionnamespace, required for Service Bus: the namespace name
	NamespaceAddress  string          // namespaceaddress: sb://ns.servicebus.windows.net/ (relays https://)
	Path              string          // path: queue, topic, hub or relay name
	URL               string          // url: webhooks and Event Grid
	Contract          Contract        // contract ("Designation Type"), required
	ConnectionMode    ConnectionMode  // connectionmode, required; tools set Normal
	UserClaim         UserClaim       // userclaim ("User Information Sent"), required
	MessageFormat     MessageFormat   // messageformat
	AuthType          AuthType        // authtype
	SASKeyName        string          // saskeyname, readable
	NamespaceFormat   NamespaceFormat // namespaceformat; tools set Namespace Address
	MessageCharset    MessageCharset  // messagecharset
	SchemaType        SchemaType      // schematype (Event Grid only)

	UseKeyVaultConfiguration bool   // usekeyvaultconfiguration
	KeyVaultReferenceID      string // keyvaultreferenceid lookup (GUID), empty when unset

	// Write-only columns. Dataverse never returns them; the Is*Set flags say whether one is set.
	SASKey    Secret // saskey: exactly 44 characters
	SASToken  Secret // sastoken
	AuthValue Secret // authvalue: webhook key, or <settings> XML for header/query auth

	// Read-only columns.
	IsSASKeySet    bool
	IsSASTokenSet  bool
	IsAuthValueSet bool
	IsManaged      bool
	CreatedOn      time.Time
	ModifiedOn     time.Time
	CreatedBy      string // _createdby_value (systemuser id)
	ModifiedBy     string // _modifiedby_value (systemuser id)
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
