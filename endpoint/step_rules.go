package endpoint

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Field names of a step's problems: the step form's controls. An image's fields are
// "images.<i>.type", "images.<i>.alias" and "images.<i>.attributes" (see StepImageField), i
// being the image's index in Step.Images. Name and description use FieldName and
// FieldDescription.
const (
	FieldMessage             = "message"
	FieldTable               = "table"
	FieldStage               = "stage"
	FieldMode                = "mode"
	FieldRank                = "rank"
	FieldFilteringAttributes = "filteringattributes"
	FieldRunAs               = "runas"
	FieldAsyncAutoDelete     = "asyncautodelete"

	ImageFieldType       = "type"
	ImageFieldAlias      = "alias"
	ImageFieldAttributes = "attributes"
)

// StepImageField names the field of the i-th image: "images.<i>.<part>".
func StepImageField(i int, part string) string {
	return "images." + strconv.Itoa(i) + "." + part
}

// Column limits of sdkmessageprocessingstep and sdkmessageprocessingstepimage.
const (
	MaxStepNameLen            = 256
	MaxStepDescriptionLen     = 256
	MaxFilteringAttributesLen = 100000
	MaxImageAliasLen          = 256
	MaxImageAttributesLen     = 100000
	MaxStepRank               = math.MaxInt32
)

// StepContext is what Step.Validate needs to know about Dataverse besides the step: the endpoint
// the step posts to, the chosen message as Dataverse describes it (nil when the name is not
// among the messages that allow custom steps), and the chosen table's columns (nil when unknown
// or when there is no table; column rules are then skipped).
type StepContext struct {
	Endpoint ServiceEndpoint
	Message  *Message
	Columns  []Column
}

// StepRule is one rule a step must satisfy: an ID the check is tagged with, the rule in a
// sentence, and where it comes from (a Microsoft documentation page, a Dataverse error, or the
// portal itself).
type StepRule struct {
	ID, Rule, Source string
}

// Rule IDs, in StepRules order.
const (
	ruleNameRequired       = "name-required"
	ruleNameLength         = "name-length"
	ruleNamePlainText      = "name-plain-text"
	ruleDescription        = "description-length-plain-text"
	ruleMessageRequired    = "message-required"
	ruleMessageCustomSteps = "message-allows-custom-steps"
	ruleTableOffered       = "table-offered"
	ruleTableGlobal        = "table-empty-for-global-message"
	ruleStageValid         = "stage-valid"
	ruleModeValid          = "mode-valid"
	ruleAsyncPostOperation = "async-post-operation-only"
	ruleEndpointMode       = "endpoint-allows-mode"
	ruleAsyncAutoDelete    = "asyncautodelete-async-only"
	ruleFilteringMessage   = "filtering-attributes-update-only"
	ruleFilteringColumns   = "filtering-attributes-columns"
	ruleFilteringDuplicate = "filtering-attributes-unique"
	ruleFilteringLength    = "filtering-attributes-length"
	ruleRankRange          = "rank-range"
	ruleRunAsGUID          = "runas-guid"
	ruleImagesSupported    = "images-message-supports"
	ruleImagesNeedTable    = "images-need-table"
	ruleImageTypeValid     = "image-type-valid"
	ruleImageTypeMessage   = "image-type-message"
	ruleImagePostStage     = "image-post-stage"
	ruleImageAliasRequired = "image-alias-required"
	ruleImageAliasChars    = "image-alias-characters"
	ruleImageAliasUnique   = "image-alias-unique"
	ruleImageAttrColumns   = "image-attributes-columns"
	ruleImageAttrDuplicate = "image-attributes-unique"
	ruleImageAttrLength    = "image-attributes-length"
)

// Sources, by Microsoft page (learn.microsoft.com/power-apps/developer/data-platform/...).
const (
	srcStepTable     = "Sdk Message Processing Step (SdkMessageProcessingStep) table reference"
	srcImageTable    = "Sdk Message Processing Step Image (SdkMessageProcessingStepImage) table reference"
	srcFilterTable   = "Sdk Message Filter (SdkMessageFilter) table reference: iscustomprocessingstepallowed, primaryobjecttypecode"
	srcRegister      = "Register a plug-in: Register plug-in step"
	srcImages        = "Register a plug-in: Define entity images"
	srcPortal        = "Portal rule"
	srcServiceBus    = "Tutorial: Register an Azure-aware plug-in using the Plug-in Registration tool (posts are asynchronous); Plug-in Registration tool: \"Only asynchronous steps are supported for Service Endpoint plug-ins\"; Register a WebHook (synchronous or asynchronous)"
	srcAsyncDelete   = "Register a WebHook: Asynchronous mode (delete the system job when it succeeds); Dataverse error \"Async auto delete can only be set for asynchronous steps.\""
	srcFilteringBest = "Include filtering attributes with plug-in registration (best practice); Column IsValidForUpdate"
)

// StepRules is every rule Step.Validate checks, each tagged on its check by ID.
var StepRules = []StepRule{
	{ruleNameRequired, "A step has a name.", srcStepTable + " (name: SystemRequired)"},
	{ruleNameLength, "The name has at most 256 characters.", srcStepTable + " (name: MaxLength 256)"},
	{ruleNamePlainText, "The name holds no control or text-direction characters.", srcPortal + " (as for endpoint names, validate.go)"},
	{ruleDescription, "The description has at most 256 characters and no control characters but line breaks and tabs.", srcStepTable + " (description: MaxLength 256)"},
	{ruleMessageRequired, "A step names a message.", srcStepTable + " (sdkmessageid: SystemRequired)"},
	{ruleMessageCustomSteps, "The message is one that allows custom steps.", srcFilterTable},
	{ruleTableOffered, "The table is one the message's filters offer with custom steps allowed; no table only when the message has a filter for no table.", srcRegister + " (Primary Entity); " + srcFilterTable},
	{ruleTableGlobal, "A message bound to no table takes no table.", srcFilterTable + " (primaryobjecttypecode \"none\")"},
	{ruleStageValid, "The stage is pre-validation (10), pre-operation (20) or post-operation (40).", srcStepTable + " (stage: other values are for internal use only)"},
	{ruleModeValid, "The mode is synchronous (0) or asynchronous (1).", srcStepTable + " (mode)"},
	{ruleAsyncPostOperation, "An asynchronous step runs in the post-operation stage.", srcRegister + " (Execution Mode)"},
	{ruleEndpointMode, "A Service Bus endpoint (queue, topic, event hub, relay) or any endpoint but a webhook takes asynchronous steps only; a webhook takes both.", srcServiceBus},
	{ruleAsyncAutoDelete, "Deleting the system job on success applies to asynchronous steps only.", srcAsyncDelete},
	{ruleFilteringMessage, "Filtering attributes apply to Update (and OnExternalUpdated) only.", srcRegister + " (Filtering Attributes)"},
	{ruleFilteringColumns, "Each filtering attribute is a column of the step's table that is valid for update.", srcRegister + " (Filtering Attributes: with a Primary Entity); " + srcFilteringBest},
	{ruleFilteringDuplicate, "No filtering attribute is listed twice.", srcPortal},
	{ruleFilteringLength, "The filtering attributes list has at most 100000 characters.", srcStepTable + " (filteringattributes: MaxLength 100000)"},
	{ruleRankRange, "The execution order is a whole number from 0 to 2147483647.", srcStepTable + " (rank: Integer, MaxValue 2147483647); negative orders refused by the portal"},
	{ruleRunAsGUID, "Run as is empty (the calling user) or a systemuser ID (a GUID).", srcStepTable + " (impersonatinguserid: Lookup to systemuser)"},
	{ruleImagesSupported, "Images only for the messages that support them.", srcImages + " (Messages that support entity images)"},
	{ruleImagesNeedTable, "Images only for a step on a table: an image is a copy of the primary table's row.", srcImages},
	{ruleImageTypeValid, "The image type is pre (0), post (1) or both (2).", srcImageTable + " (imagetype)"},
	{ruleImageTypeMessage, "The image type is one the message supports: no pre image for Create, no post image for Delete.", srcImages + " (Availability of images)"},
	{ruleImagePostStage, "A post image only in the post-operation stage.", srcImages + " (Availability of images)"},
	{ruleImageAliasRequired, "An image has an alias.", srcImageTable + " (entityalias: SystemRequired)"},
	{ruleImageAliasChars, "An alias has letters, digits and underscores only, at most 256 characters.", srcImageTable + " (entityalias: MaxLength 256); letters, digits and '_' a portal rule so the alias is a usable key in code"},
	{ruleImageAliasUnique, "At most one image per alias in a step.", srcImages + " (Types of entity images: the alias is the key in PreEntityImages / PostEntityImages)"},
	{ruleImageAttrColumns, "Each image attribute is a column of the step's table.", srcImageTable + " (attributes)"},
	{ruleImageAttrDuplicate, "No image attribute is listed twice.", srcPortal},
	{ruleImageAttrLength, "An image's attribute list has at most 100000 characters.", srcImageTable + " (attributes: MaxLength 100000)"},
}

// imageMessages are the messages that support images, with their types and the request
// properties images bind to (the first is what ImageSupport returns). From "Define entity
// images"; Create binds to its output Id, as the Plug-in Registration tool does (older revisions
// of the page say Target).
var imageMessages = []struct {
	message    string
	pre, post  bool
	properties []string
}{
	{"Assign", true, true, []string{"Target"}},
	{"Create", false, true, []string{"Id"}},
	{"Delete", true, false, []string{"Target"}},
	{"DeliverIncoming", true, true, []string{"EmailId"}},
	{"DeliverPromote", true, true, []string{"EmailId"}},
	{"Merge", true, true, []string{"Target", "SubordinateId"}},
	{"Route", true, true, []string{"Target"}},
	{"Send", true, true, []string{"EmailId", "FaxId", "TemplateId"}},
	{"SetState", true, true, []string{"EntityMoniker"}},
	{"Update", true, true, []string{"Target"}},
}

// ImageSupport reports which image types message supports and the request property its images
// are bound to (sdkmessageprocessingstepimage.messagepropertyname): Create post only on "Id",
// Delete pre only on "Target", Update both on "Target". Send binds to EmailId, FaxId or
// TemplateId by table; "EmailId" is returned. A message without images gives false, false, "".
func ImageSupport(message string) (pre, post bool, property string) {
	for _, m := range imageMessages {
		if strings.EqualFold(m.message, message) {
			return m.pre, m.post, m.properties[0]
		}
	}
	return false, false, ""
}

func imageMessageNames() string {
	names := make([]string, len(imageMessages))
	for i, m := range imageMessages {
		names[i] = m.message
	}
	return strings.Join(names, ", ")
}

// FilteringAttributesAllowed reports whether steps on message may list filtering attributes:
// Update, and OnExternalUpdated (virtual tables), as "Register a plug-in" says.
func FilteringAttributesAllowed(message string) bool {
	return strings.EqualFold(message, "Update") || strings.EqualFold(message, "OnExternalUpdated")
}

// AllowedModes lists the execution modes a step on ep may use: both for a webhook, asynchronous
// only for every other endpoint (Service Bus contracts are asynchronous only; Microsoft
// documents synchronous steps for webhooks alone).
func AllowedModes(ep ServiceEndpoint) []ExecutionMode {
	if ep.Contract == ContractWebhook {
		return []ExecutionMode{ModeSynchronous, ModeAsynchronous}
	}
	return []ExecutionMode{ModeAsynchronous}
}

// AllowedStages lists the stages a step in mode may use: every stage when synchronous,
// post-operation only when asynchronous, none for an unknown mode.
func AllowedStages(mode ExecutionMode) []Stage {
	switch mode {
	case ModeSynchronous:
		return slices.Clone(Stages)
	case ModeAsynchronous:
		return []Stage{StagePostOperation}
	}
	return nil
}

// SuggestedStepName is the name a new step is offered: "<endpoint>: <Message> of <table>", or
// "<endpoint>: <Message>" for a global message (no table, or "none"), cut to 256 characters.
func SuggestedStepName(endpointName, message, table string) string {
	name := endpointName + ": " + message
	if table != "" && table != noTable {
		name += " of " + table
	}
	return truncateUTF16(name, MaxStepNameLen)
}

// ParseAttributeList reads a comma-separated list of column names (filteringattributes, an
// image's attributes): trimmed, lower-case, empty entries dropped. Duplicates are kept for
// Validate to report.
func ParseAttributeList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// JoinAttributeList writes columns as Dataverse stores them: "a,b".
func JoinAttributeList(columns []string) string { return strings.Join(columns, ",") }

// noTable is the primaryobjecttypecode of a message filter bound to no table.
const noTable = "none"

// Validate checks st against the rules in StepRules, knowing sc, and returns every problem
// found, each naming the form field it concerns, or nil when st is valid.
func (st Step) Validate(sc StepContext) Problems {
	found := st.check(sc)
	if len(found) == 0 {
		return nil
	}
	p := make(Problems, len(found))
	for i, f := range found {
		p[i] = f.Problem
	}
	return p
}

// stepProblem is a problem with the ID of the rule that found it, so tests can tell which
// rules they exercise.
type stepProblem struct {
	Rule string
	Problem
}

type stepValidator struct {
	st Step
	sc StepContext
	p  []stepProblem
}

func (st Step) check(sc StepContext) []stepProblem {
	v := &stepValidator{st: st, sc: sc}
	v.text()
	v.messageAndTable()
	v.stageAndMode()
	v.filteringAttributes()
	v.rankAndRunAs()
	v.images()
	return v.p
}

func (v *stepValidator) add(rule, field, msg string) {
	v.p = append(v.p, stepProblem{Rule: rule, Problem: Problem{Field: field, Message: msg}})
}

// reuse runs one of the endpoint validator's checks and tags what it finds with rule.
func (v *stepValidator) reuse(rule string, check func(*validator)) {
	var ev validator
	check(&ev)
	for _, p := range ev.p {
		v.add(rule, p.Field, p.Message)
	}
}

func (v *stepValidator) text() {
	st := v.st
	if strings.TrimSpace(st.Name) == "" {
		v.add(ruleNameRequired, FieldName, "Enter a name for the step, such as the endpoint, message and table it joins.")
	}
	v.reuse(ruleNameLength, func(ev *validator) { ev.maxLen(FieldName, "The name", st.Name, MaxStepNameLen) })
	v.reuse(ruleNamePlainText, func(ev *validator) { ev.plainText(FieldName, "The name", st.Name, false) })
	v.reuse(ruleDescription, func(ev *validator) {
		ev.maxLen(FieldDescription, "The description", st.Description, MaxStepDescriptionLen)
		ev.plainText(FieldDescription, "The description", st.Description, true)
	})
}

// message is the chosen message's name as Dataverse spells it, or as the step gives it.
func (v *stepValidator) message() string {
	if v.sc.Message != nil && v.sc.Message.Name != "" {
		return v.sc.Message.Name
	}
	return v.st.Message
}

// offeredTables lists the tables the message's custom-step filters offer, and whether one of
// them is for no table (or the message has no filters at all: a global message).
func offeredTables(m *Message) (tables []string, global bool) {
	if len(m.Filters) == 0 {
		return nil, true
	}
	for _, f := range m.Filters {
		switch {
		case !f.CustomStepAllowed:
		case f.Table == "" || f.Table == noTable:
			global = true
		default:
			tables = append(tables, f.Table)
		}
	}
	slices.Sort(tables)
	return slices.Compact(tables), global
}

func (v *stepValidator) messageAndTable() {
	st, m := v.st, v.sc.Message
	switch {
	case strings.TrimSpace(st.Message) == "":
		v.add(ruleMessageRequired, FieldMessage, "Choose a message, such as Create, Update or Delete.")
		return
	case m == nil:
		v.add(ruleMessageCustomSteps, FieldMessage, "Dataverse does not allow steps on "+quoteInput(st.Message)+"; choose a message from the list, such as Create, Update or Delete.")
		return
	}
	tables, global := offeredTables(m)
	if len(tables) == 0 && !global {
		v.add(ruleMessageCustomSteps, FieldMessage, m.Name+" does not allow custom steps on any table; choose another message.")
		return
	}
	switch {
	case st.Table == "" || st.Table == noTable:
		if !global {
			v.add(ruleTableOffered, FieldTable, "Choose the table "+m.Name+" runs on, such as "+someTables(tables, "")+".")
		}
	case len(tables) == 0:
		v.add(ruleTableGlobal, FieldTable, "Clear the table: "+m.Name+" is not bound to a table.")
	case !slices.Contains(tables, st.Table):
		v.add(ruleTableOffered, FieldTable, m.Name+" cannot have steps on "+quoteInput(st.Table)+"; choose one of its tables, such as "+someTables(tables, st.Table)+".")
	}
}

// someTables names a few of tables, those that look like typed first, and how many more there
// are: a hint, not a list of hundreds.
func someTables(tables []string, typed string) string {
	const few = 5
	typed = strings.ToLower(strings.TrimSpace(typed))
	var near, rest []string
	for _, t := range tables {
		if typed != "" && (strings.Contains(t, typed) || strings.Contains(typed, t)) {
			near = append(near, t)
		} else {
			rest = append(rest, t)
		}
	}
	pick := append(near, rest...)
	more := 0
	if len(pick) > few {
		pick, more = pick[:few], len(pick)-few
	}
	s := strings.Join(pick, ", ")
	if more > 0 {
		s += " (or " + strconv.Itoa(more) + " more)"
	}
	return s
}

func (v *stepValidator) stageAndMode() {
	st := v.st
	if !st.Stage.Valid() {
		v.add(ruleStageValid, FieldStage, "Choose a stage: pre-validation, pre-operation or post-operation.")
	}
	if !st.Mode.Valid() {
		v.add(ruleModeValid, FieldMode, "Choose synchronous or asynchronous execution.")
		return
	}
	if st.Mode == ModeAsynchronous && st.Stage.Valid() && st.Stage != StagePostOperation {
		v.add(ruleAsyncPostOperation, FieldStage, "Asynchronous steps run after the operation; choose the post-operation stage, or synchronous execution.")
	}
	if !slices.Contains(AllowedModes(v.sc.Endpoint), st.Mode) {
		kind := "This endpoint"
		if c := v.sc.Endpoint.Contract; c.Valid() {
			kind = "A " + strings.ToLower(c.Label()) + " endpoint"
		}
		v.add(ruleEndpointMode, FieldMode, kind+" receives asynchronous steps only; choose asynchronous execution (only webhooks can be called synchronously).")
	}
	if st.AsyncAutoDelete && st.Mode != ModeAsynchronous {
		v.add(ruleAsyncAutoDelete, FieldAsyncAutoDelete, "Clear \"delete the system job when it succeeds\": synchronous steps make no system job.")
	}
}

// columnCheck reports the names in list that are not columns (or, with forUpdate, not columns
// valid for update) of the step's table, those listed twice, and whether the joined list is too
// long. Columns are only checked when known.
type columnCheck struct {
	unknown, readOnly, twice []string
}

func (v *stepValidator) checkColumns(list []string, forUpdate bool) columnCheck {
	var c columnCheck
	seen := make(map[string]bool, len(list))
	for _, a := range list {
		if seen[a] {
			if !slices.Contains(c.twice, a) {
				c.twice = append(c.twice, a)
			}
			continue
		}
		seen[a] = true
		if v.sc.Columns == nil {
			continue
		}
		i := slices.IndexFunc(v.sc.Columns, func(col Column) bool { return col.LogicalName == a })
		switch {
		case i < 0:
			c.unknown = append(c.unknown, a)
		case forUpdate && !v.sc.Columns[i].ValidForUpdate:
			c.readOnly = append(c.readOnly, a)
		}
	}
	return c
}

// quoteInput quotes a name the user typed for a message, cut to a readable length.
func quoteInput(s string) string {
	const max = 64
	if t := truncateUTF16(s, max); t != s {
		s = t + "…"
	}
	return strconv.Quote(s)
}

// quoteList writes a few names for a message.
func quoteList(names []string) string {
	const few = 5
	q := make([]string, 0, few)
	for _, n := range names[:min(len(names), few)] {
		q = append(q, quoteInput(n))
	}
	s := strings.Join(q, ", ")
	if len(names) > few {
		s += " (and " + strconv.Itoa(len(names)-few) + " more)"
	}
	return s
}

func (v *stepValidator) table() string {
	if v.st.Table == noTable {
		return ""
	}
	return v.st.Table
}

// columnList checks a list of columns of the step's table (filtering attributes or an image's
// attributes) with the rules given, on field.
func (v *stepValidator) columnList(field, what string, list []string, forUpdate bool, ruleColumns, ruleDuplicate, ruleLength string, max int) {
	if n := utf16Len(JoinAttributeList(list)); n > max {
		v.add(ruleLength, field, "The "+what+" list is "+strconv.Itoa(n)+" characters long; Dataverse stores at most "+strconv.Itoa(max)+". Leave it empty for every column, or list fewer.")
	}
	c := v.checkColumns(list, forUpdate)
	if len(c.unknown) > 0 {
		v.add(ruleColumns, field, "Not columns of "+v.table()+": "+quoteList(c.unknown)+"; use the columns' logical names, such as name.")
	}
	if len(c.readOnly) > 0 {
		v.add(ruleColumns, field, "These columns cannot be updated, so they never fire an Update step: "+quoteList(c.readOnly)+"; remove them.")
	}
	if len(c.twice) > 0 {
		v.add(ruleDuplicate, field, "Listed more than once: "+quoteList(c.twice)+"; list each column once.")
	}
}

func (v *stepValidator) filteringAttributes() {
	st := v.st
	if len(st.FilteringAttributes) == 0 {
		return
	}
	switch {
	case strings.TrimSpace(st.Message) != "" && !FilteringAttributesAllowed(v.message()):
		v.add(ruleFilteringMessage, FieldFilteringAttributes, "Clear the filtering attributes: only Update steps are filtered by the columns that change.")
		return
	case v.table() == "":
		v.add(ruleFilteringColumns, FieldFilteringAttributes, "Choose a table before filtering attributes, or clear them: they are columns of the step's table.")
		return
	}
	v.columnList(FieldFilteringAttributes, "filtering attributes", st.FilteringAttributes, true,
		ruleFilteringColumns, ruleFilteringDuplicate, ruleFilteringLength, MaxFilteringAttributesLen)
}

func (v *stepValidator) rankAndRunAs() {
	st := v.st
	if st.Rank < 0 || st.Rank > MaxStepRank {
		v.add(ruleRankRange, FieldRank, "Enter an execution order from 0 to "+strconv.Itoa(MaxStepRank)+"; steps run from the lowest to the highest (1 is usual).")
	}
	if st.RunAsUserID != "" && !IsGUID(st.RunAsUserID) {
		v.add(ruleRunAsGUID, FieldRunAs, "Enter the id of the user to run as, or choose Calling user to run as the calling user; it must be a user ID such as 00000000-0000-0000-0000-000000000000.")
	}
}

// IsGUID reports whether s is a GUID in its usual form, 8-4-4-4-12 hexadecimal digits.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func (v *stepValidator) images() {
	st := v.st
	if len(st.Images) == 0 {
		return
	}
	msg := v.message()
	pre, post, _ := ImageSupport(msg)
	first := StepImageField(0, ImageFieldType)
	switch {
	case strings.TrimSpace(st.Message) == "":
		// The message problem says what to do first.
	case !pre && !post:
		v.add(ruleImagesSupported, first, "Remove the images: "+quoteInput(msg)+" steps cannot have images (only "+imageMessageNames()+" can).")
	case v.table() == "":
		v.add(ruleImagesNeedTable, first, "Choose a table, or remove the images: an image is a copy of the table's row.")
	}
	aliases := map[string]int{}
	for i, im := range st.Images {
		v.image(i, im, pre, post, aliases)
	}
}

func (v *stepValidator) image(i int, im StepImage, pre, post bool, aliases map[string]int) {
	st := v.st
	typeField := StepImageField(i, ImageFieldType)
	switch {
	case im.Type != ImagePre && im.Type != ImagePost && im.Type != ImageBoth:
		v.add(ruleImageTypeValid, typeField, "Choose pre image, post image or both.")
	case !pre && !post:
		// Reported once for the step.
	case im.Type.Pre() && !pre:
		v.add(ruleImageTypeMessage, typeField, "Choose a post image: "+v.message()+" has no row before the operation.")
	case im.Type.Post() && !post:
		v.add(ruleImageTypeMessage, typeField, "Choose a pre image: "+v.message()+" leaves no row after the operation.")
	case im.Type.Post() && st.Stage.Valid() && st.Stage != StagePostOperation:
		v.add(ruleImagePostStage, typeField, "Post images exist only in the post-operation stage; choose a pre image or the post-operation stage.")
	}

	aliasField := StepImageField(i, ImageFieldAlias)
	switch alias := im.Alias; {
	case strings.TrimSpace(alias) == "":
		v.add(ruleImageAliasRequired, aliasField, "Enter an alias: the name the listener finds this image under, such as PreImage.")
	case utf16Len(alias) > MaxImageAliasLen || strings.IndexFunc(alias, func(r rune) bool {
		return !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) >= 0:
		v.add(ruleImageAliasChars, aliasField, "Write the alias with letters, digits and '_' only, at most "+strconv.Itoa(MaxImageAliasLen)+" characters, such as PreImage.")
	default:
		if j, ok := aliases[strings.ToLower(alias)]; ok {
			v.add(ruleImageAliasUnique, aliasField, "Image "+strconv.Itoa(j+1)+" already uses this alias; give each image its own alias.")
		} else {
			aliases[strings.ToLower(alias)] = i
		}
	}

	if len(im.Attributes) > 0 && v.table() != "" {
		v.columnList(StepImageField(i, ImageFieldAttributes), "image attributes", im.Attributes, false,
			ruleImageAttrColumns, ruleImageAttrDuplicate, ruleImageAttrLength, MaxImageAttributesLen)
	}
}
