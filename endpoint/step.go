package endpoint

import (
	"strconv"
	"time"
)

// Stage is a step's stage in Dataverse's event pipeline (sdkmessageprocessingstep.stage).
type Stage int

// Stages a step may be registered in, with their Dataverse codes.
const (
	StagePreValidation Stage = 10
	StagePreOperation  Stage = 20
	StagePostOperation Stage = 40
)

// Stages lists the stages in pipeline order.
var Stages = []Stage{StagePreValidation, StagePreOperation, StagePostOperation}

// Label is the stage's name as the Plug-in Registration Tool shows it.
func (s Stage) Label() string {
	switch s {
	case StagePreValidation:
		return "Pre-validation"
	case StagePreOperation:
		return "Pre-operation"
	case StagePostOperation:
		return "Post-operation"
	}
	return "Stage " + strconv.Itoa(int(s))
}

// Valid reports whether s is a stage a step may be registered in.
func (s Stage) Valid() bool {
	return s == StagePreValidation || s == StagePreOperation || s == StagePostOperation
}

// ExecutionMode is a step's mode (sdkmessageprocessingstep.mode).
type ExecutionMode int

// Execution modes with their Dataverse codes.
const (
	ModeSynchronous  ExecutionMode = 0
	ModeAsynchronous ExecutionMode = 1
)

// Label is "Synchronous" or "Asynchronous".
func (m ExecutionMode) Label() string {
	switch m {
	case ModeSynchronous:
		return "Synchronous"
	case ModeAsynchronous:
		return "Asynchronous"
	}
	return "Mode " + strconv.Itoa(int(m))
}

// Valid reports whether m is a known mode.
func (m ExecutionMode) Valid() bool { return m == ModeSynchronous || m == ModeAsynchronous }

// StepState is a step's statecode: enabled or disabled.
type StepState int

// Step states with their Dataverse codes (statuscode is 1 when enabled, 2 when disabled).
const (
	StepEnabled  StepState = 0
	StepDisabled StepState = 1
)

// Label is "Enabled" or "Disabled".
func (s StepState) Label() string {
	if s == StepDisabled {
		return "Disabled"
	}
	return "Enabled"
}

// StatusCode is the statuscode Dataverse pairs with the state.
func (s StepState) StatusCode() int {
	if s == StepDisabled {
		return 2
	}
	return 1
}

// ImageType says when an image is taken (sdkmessageprocessingstepimage.imagetype).
type ImageType int

// Image types with their Dataverse codes.
const (
	ImagePre  ImageType = 0
	ImagePost ImageType = 1
	ImageBoth ImageType = 2
)

// Label is the image type's name as the Plug-in Registration Tool shows it.
func (t ImageType) Label() string {
	switch t {
	case ImagePre:
		return "Pre image"
	case ImagePost:
		return "Post image"
	case ImageBoth:
		return "Pre and post image"
	}
	return "Image type " + strconv.Itoa(int(t))
}

// Pre reports whether the image is taken before the operation.
func (t ImageType) Pre() bool { return t == ImagePre || t == ImageBoth }

// Post reports whether the image is taken after the operation.
func (t ImageType) Post() bool { return t == ImagePost || t == ImageBoth }

// Step is an sdkmessageprocessingstep registered against a service endpoint: which message on
// which table makes Dataverse post to the endpoint, when, and with what.
type Step struct {
	// ID is sdkmessageprocessingstepid. The portal chooses it before create so a retried create
	// cannot make a second record.
	ID         string `json:"id,omitzero"`
	EndpointID string `json:"endpointId,omitzero"` // eventhandler_serviceendpoint lookup

	Name        string `json:"name"`                 // name, required, at most 256
	Description string `json:"description,omitzero"` // description, at most 256

	Message   string        `json:"message"`            // the sdkmessage's name, e.g. "Update"
	MessageID string        `json:"messageId,omitzero"` // sdkmessageid lookup
	Table     string        `json:"table,omitzero"`     // primary table logical name; "" for a global message
	FilterID  string        `json:"filterId,omitzero"`  // sdkmessagefilterid lookup; "" for a global message
	Stage     Stage         `json:"stage"`              // stage
	Mode      ExecutionMode `json:"mode"`               // mode
	Rank      int           `json:"rank"`               // rank ("Execution order")

	// FilteringAttributes are the columns whose change fires an Update step (filteringattributes,
	// a comma-separated list in Dataverse); empty means every column.
	FilteringAttributes []string `json:"filteringAttributes,omitzero"`
	// RunAsUserID is impersonatinguserid: the systemuser the step runs as; "" means the calling
	// user.
	RunAsUserID     string      `json:"runAsUserId,omitzero"`
	AsyncAutoDelete bool        `json:"asyncAutoDelete,omitzero"` // asyncautodelete ("Delete AsyncOperation if StatusCode = Successful")
	State           StepState   `json:"state,omitzero"`           // statecode
	Images          []StepImage `json:"images,omitzero"`          // sdkmessageprocessingstepimages of the step

	// Read-only columns.
	IsManaged  bool      `json:"isManaged,omitzero"`
	CreatedOn  time.Time `json:"createdOn,omitzero"`
	ModifiedOn time.Time `json:"modifiedOn,omitzero"`
}

// StepImage is an sdkmessageprocessingstepimage: a copy of the primary record's columns taken
// before and/or after the operation and sent with the step's context.
type StepImage struct {
	ID              string    `json:"id,omitzero"` // sdkmessageprocessingstepimageid
	Type            ImageType `json:"type"`        // imagetype
	Alias           string    `json:"alias"`       // entityalias: the key the image has in Pre/PostEntityImages
	Name            string    `json:"name,omitzero"`
	Attributes      []string  `json:"attributes,omitzero"`      // attributes; empty means every column
	MessageProperty string    `json:"messageProperty,omitzero"` // messagepropertyname, e.g. "Target" or "Id"
}

// Message is an sdkmessage that allows custom steps, as Dataverse describes it: its name and
// the tables (sdkmessagefilters) it can be registered on.
type Message struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// CustomAPI is true for messages defined by a custom API or custom action.
	CustomAPI bool `json:"customApi,omitzero"`
	// Filters are the message's sdkmessagefilters that allow custom steps. A global message
	// (one not bound to a table, such as WhoAmI or an unbound custom API) has one filter whose
	// Table is "none", or none at all.
	Filters []MessageFilter `json:"filters,omitzero"`
}

// MessageFilter is an sdkmessagefilter: one table a message can be registered on.
type MessageFilter struct {
	ID    string `json:"id"`
	Table string `json:"table"` // primaryobjecttypecode: a table's logical name, or "none"
	// CustomStepAllowed is iscustomprocessingstepallowed.
	CustomStepAllowed bool `json:"customStepAllowed"`
}

// Column is one of a table's columns (an attribute in EntityDefinitions), as far as steps need
// it: to pick filtering attributes and image columns.
type Column struct {
	LogicalName string `json:"logicalName"`
	DisplayName string `json:"displayName,omitzero"`
	Type        string `json:"type,omitzero"` // AttributeType, e.g. "String", "Lookup", "Money"
	// ValidForUpdate is IsValidForUpdate: only such columns can be filtering attributes.
	ValidForUpdate bool `json:"validForUpdate,omitzero"`
}
