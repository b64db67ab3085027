package web

// StepPageURL is the address of a step's page under its endpoint.
func StepPageURL(environment, endpointID, stepID string) string {
	return EndpointURL(environment, endpointID) + "/steps/" + stepID
}

// NewStepURL is the address of the form that adds a step to an endpoint.
func NewStepURL(environment, endpointID string) string {
	return EndpointURL(environment, endpointID) + "/steps/new"
}

// StepRow is a processing step registered against an endpoint, as a row of the endpoint page.
type StepRow struct {
	URL                 string
	Name                string
	Message             string
	Table               string
	Stage, Mode, State  string
	Enabled             bool
	FilteringAttributes string
	Images              string
}

// StepView is a step's page.
type StepView struct {
	Endpoint EndpointView // the endpoint the step belongs to (names, links, permissions)
	ID       string
	Name     string
	Enabled  bool
	Fields   []Fact
	Images   []StepImageRow
	CanEdit  bool
	CanTest  bool
	// KeyStored says the portal keeps the endpoint's secret, so a sample can be sent.
	KeyStored bool
	Result    ProbeView
	Sample    SamplePreview
}

// StepImageRow is one image of a step.
type StepImageRow struct {
	Type, Alias, Columns string
}

// SamplePreview shows what a step's sample message carries.
type SamplePreview struct {
	ContentType string
	Body        string // formatted for reading (JSON indented, XML as is)
	Properties  []Fact // Service Bus application properties or webhook headers
	PropsLabel  string // "Message properties" or "HTTP headers"
	Note        string // e.g. why a .NET binary body is shown as its XML
	Destination string // where the sample goes, in words
}

// StepForm adds or edits a step.
type StepForm struct {
	Endpoint EndpointView
	Action   string // the form's address
	Editing  bool
	StepID   string // chosen when the form is first shown, so a repeated submit cannot add two steps

	Name        string
	Suggested   string // the name the portal suggested; replaced when message or table change
	Description string

	Message  string
	Messages []Option // every message that allows custom steps; Hint marks custom APIs
	// MessagesError says why the messages could not be read from Dataverse.
	MessagesError string

	Table     string
	Tables    []Option // the tables the chosen message offers
	Global    bool     // the chosen message takes no table
	TableHint string

	Stages   []Option
	Modes    []Option
	ModeHint string

	FilteringAllowed bool
	Columns          []Option // the table's columns: Value logical name, Label display name
	ColumnsError     string
	Filtering        []Option // Columns with Selected set for the filtering attributes

	Rank            string
	RunAs           string // "caller" or "user"
	RunAsUserID     string
	Users           []Option // the users a step may run as: Value id, Label full name
	AsyncAutoDelete bool

	PreImage  ImageForm
	PostImage ImageForm

	Errors    FieldErrors
	FormError string
}

// ImageForm is the pre or post image part of the step form.
type ImageForm struct {
	Prefix  string // "preimage" or "postimage": the fields' name prefix
	Label   string // "Pre image" or "Post image"
	Example string // an alias to suggest, e.g. "PreImage"
	Offered bool   // the message and stage allow this image
	Why     string // why it is not offered
	Enabled bool
	Alias   string
	All     bool     // every column
	Columns []Option // the table's columns, Selected for the image's
}

// StepDeleteForm confirms the deletion of a step.
type StepDeleteForm struct {
	View         StepView
	ConfirmError string
}
