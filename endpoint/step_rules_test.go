package endpoint

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func filters(tables ...string) []MessageFilter {
	fs := make([]MessageFilter, len(tables))
	for i, t := range tables {
		fs[i] = MessageFilter{ID: "f-" + t, Table: t, CustomStepAllowed: true}
	}
	return fs
}

// testMessages are messages as Dataverse would describe them.
var testMessages = map[string]*Message{
	"Create": {ID: "m-create", Name: "Create", Filters: append(filters("account", "contact", "lead", "incident", "opportunity", "new_project", "new_projecttask"),
		MessageFilter{ID: "f-hidden", Table: "systemuserroles", CustomStepAllowed: false})},
	"Update":   {ID: "m-update", Name: "Update", Filters: filters("account", "contact")},
	"Delete":   {ID: "m-delete", Name: "Delete", Filters: filters("account")},
	"Retrieve": {ID: "m-retrieve", Name: "Retrieve", Filters: filters("account")},
	"WhoAmI":   {ID: "m-whoami", Name: "WhoAmI", Filters: filters("none")},
	"new_Ping": {ID: "m-ping", Name: "new_Ping", CustomAPI: true},
	"Locked":   {ID: "m-locked", Name: "Locked", Filters: []MessageFilter{{ID: "f-l", Table: "account"}}},
	"Publish":  {ID: "m-publish", Name: "Publish", Filters: filters("none", "account")},
}

var accountColumns = []Column{
	{LogicalName: "accountid", Type: "Uniqueidentifier"},
	{LogicalName: "name", DisplayName: "Account Name", Type: "String", ValidForUpdate: true},
	{LogicalName: "accountnumber", Type: "String", ValidForUpdate: true},
	{LogicalName: "revenue", Type: "Money", ValidForUpdate: true},
	{LogicalName: "createdon", Type: "DateTime"},
}

func validStep() (Step, StepContext) {
	st := Step{
		Name: "orders: Update of account", Description: "Posts account changes to the orders queue",
		Message: "Update", Table: "account", Stage: StagePostOperation, Mode: ModeAsynchronous, Rank: 1,
		FilteringAttributes: []string{"name", "revenue"}, AsyncAutoDelete: true,
		RunAsUserID: "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
		Images: []StepImage{
			{Type: ImagePre, Alias: "PreImage", Attributes: []string{"name", "revenue"}, MessageProperty: "Target"},
			{Type: ImagePost, Alias: "post_image_2", MessageProperty: "Target"},
		},
	}
	return st, StepContext{Endpoint: validQueue(), Message: testMessages["Update"], Columns: accountColumns}
}

func TestValidStepsPass(t *testing.T) {
	hook := validExamples()["webhook key"]
	for name, edit := range map[string]func(*Step, *StepContext){
		"update on a queue": func(*Step, *StepContext) {},
		"synchronous pre-validation webhook": func(s *Step, c *StepContext) {
			c.Endpoint = hook
			s.Mode, s.Stage, s.AsyncAutoDelete, s.Images = ModeSynchronous, StagePreValidation, false, s.Images[:1]
		},
		"create with a post image": func(s *Step, c *StepContext) {
			s.Message, c.Message, s.FilteringAttributes = "Create", testMessages["Create"], nil
			s.Images = []StepImage{{Type: ImagePost, Alias: "created", MessageProperty: "Id"}}
		},
		"delete with a pre image": func(s *Step, c *StepContext) {
			s.Message, c.Message, s.FilteringAttributes = "Delete", testMessages["Delete"], nil
			s.Images = []StepImage{{Type: ImagePre, Alias: "deleted"}}
		},
		"update with both": func(s *Step, c *StepContext) {
			s.Images = []StepImage{{Type: ImageBoth, Alias: "img"}}
		},
		"global message": func(s *Step, c *StepContext) {
			s.Message, c.Message, s.Table, s.FilteringAttributes, s.Images, c.Columns = "WhoAmI", testMessages["WhoAmI"], "", nil, nil, nil
		},
		"custom API without filters": func(s *Step, c *StepContext) {
			s.Message, c.Message, s.Table, s.FilteringAttributes, s.Images, c.Columns = "new_Ping", testMessages["new_Ping"], "none", nil, nil, nil
		},
		"message with a filter for no table, without table": func(s *Step, c *StepContext) {
			s.Message, c.Message, s.Table, s.FilteringAttributes, s.Images, c.Columns = "Publish", testMessages["Publish"], "", nil, nil, nil
		},
		"columns unknown": func(s *Step, c *StepContext) {
			c.Columns = nil
			s.FilteringAttributes = []string{"anything"}
		},
		"rank limits": func(s *Step, c *StepContext) { s.Rank = MaxStepRank },
		"no run as":   func(s *Step, c *StepContext) { s.RunAsUserID = "" },
	} {
		st, sc := validStep()
		edit(&st, &sc)
		if p := st.Validate(sc); p != nil {
			t.Errorf("%s: unexpected problems: %v", name, p)
		}
	}
}

type stepCase struct {
	name  string
	edit  func(*Step, *StepContext)
	rule  string
	field string
	want  string // a piece of the message
}

func stepCases() []stepCase {
	long := func(n int) string { return strings.Repeat("a", n) }
	hook := validExamples()["webhook key"]
	setMsg := func(s *Step, c *StepContext, name string) {
		s.Message, c.Message = name, testMessages[name]
		if name != "Update" {
			s.FilteringAttributes = nil
		}
		if p, q, _ := ImageSupport(name); !p && !q {
			s.Images = nil
		} else {
			s.Images = slices.DeleteFunc(s.Images, func(im StepImage) bool { return im.Type.Pre() && !p || im.Type.Post() && !q })
		}
	}
	return []stepCase{
		{"name required", func(s *Step, _ *StepContext) { s.Name = " " }, ruleNameRequired, FieldName, "Enter a name"},
		{"name too long", func(s *Step, _ *StepContext) { s.Name = long(257) }, ruleNameLength, FieldName, "at most 256"},
		{"name in UTF-16 units", func(s *Step, _ *StepContext) { s.Name = strings.Repeat("😀", 129) }, ruleNameLength, FieldName, "258 characters"},
		{"name control character", func(s *Step, _ *StepContext) { s.Name = "a\x00b" }, ruleNamePlainText, FieldName, "U+0000"},
		{"name direction override", func(s *Step, _ *StepContext) { s.Name = "a\u202eb" }, ruleNamePlainText, FieldName, "text-direction"},
		{"name line break", func(s *Step, _ *StepContext) { s.Name = "a\nb" }, ruleNamePlainText, FieldName, "U+000A"},
		{"description too long", func(s *Step, _ *StepContext) { s.Description = long(257) }, ruleDescription, FieldDescription, "at most 256"},
		{"description control character", func(s *Step, _ *StepContext) { s.Description = "bell\x07" }, ruleDescription, FieldDescription, "U+0007"},
		{"message required", func(s *Step, c *StepContext) { s.Message, c.Message = "", nil }, ruleMessageRequired, FieldMessage, "Choose a message"},
		{"message without custom steps", func(s *Step, c *StepContext) { s.Message, c.Message = "RetrieveMetadataChanges", nil }, ruleMessageCustomSteps, FieldMessage, `"RetrieveMetadataChanges"`},
		{"message with no allowed filter", func(s *Step, c *StepContext) { setMsg(s, c, "Locked") }, ruleMessageCustomSteps, FieldMessage, "Locked does not allow custom steps on any table"},
		{"table required", func(s *Step, c *StepContext) { setMsg(s, c, "Create"); s.Table = "" }, ruleTableOffered, FieldTable, "Choose the table Create runs on, such as account, contact, incident, lead, new_project (or 2 more)"},
		{"table not offered", func(s *Step, _ *StepContext) { s.Table = "lead" }, ruleTableOffered, FieldTable, `cannot have steps on "lead"; choose one of its tables, such as account, contact.`},
		{"table not offered, near ones first", func(s *Step, c *StepContext) { setMsg(s, c, "Create"); s.Table = "project" }, ruleTableOffered, FieldTable, "such as new_project, new_projecttask, account"},
		{"table whose filter disallows custom steps", func(s *Step, c *StepContext) { setMsg(s, c, "Create"); s.Table = "systemuserroles" }, ruleTableOffered, FieldTable, `"systemuserroles"`},
		{"table for a global message", func(s *Step, c *StepContext) { setMsg(s, c, "WhoAmI") }, ruleTableGlobal, FieldTable, "Clear the table: WhoAmI is not bound"},
		{"table for a custom API", func(s *Step, c *StepContext) { setMsg(s, c, "new_Ping") }, ruleTableGlobal, FieldTable, "new_Ping is not bound"},
		{"stage unknown", func(s *Step, _ *StepContext) { s.Stage = 30 }, ruleStageValid, FieldStage, "Choose a stage"},
		{"stage zero", func(s *Step, _ *StepContext) { s.Stage = 0 }, ruleStageValid, FieldStage, "pre-validation, pre-operation or post-operation"},
		{"mode unknown", func(s *Step, _ *StepContext) { s.Mode = 2 }, ruleModeValid, FieldMode, "synchronous or asynchronous"},
		{"async in pre-operation", func(s *Step, _ *StepContext) { s.Stage, s.Images = StagePreOperation, s.Images[:1] }, ruleAsyncPostOperation, FieldStage, "choose the post-operation stage"},
		{"async in pre-validation", func(s *Step, _ *StepContext) { s.Stage, s.Images = StagePreValidation, s.Images[:1] }, ruleAsyncPostOperation, FieldStage, "post-operation"},
		{"sync on a queue", func(s *Step, _ *StepContext) { s.Mode, s.AsyncAutoDelete = ModeSynchronous, false }, ruleEndpointMode, FieldMode, "A queue endpoint receives asynchronous steps only"},
		{"sync on a relay", func(s *Step, c *StepContext) {
			c.Endpoint = validExamples()["two-way relay"]
			s.Mode, s.AsyncAutoDelete = ModeSynchronous, false
		}, ruleEndpointMode, FieldMode, "two-way relay endpoint"},
		{"sync on an event hub", func(s *Step, c *StepContext) {
			c.Endpoint = validExamples()["event hub"]
			s.Mode, s.AsyncAutoDelete = ModeSynchronous, false
		}, ruleEndpointMode, FieldMode, "event hub endpoint"},
		{"sync on event grid", func(s *Step, c *StepContext) {
			c.Endpoint = ServiceEndpoint{Contract: ContractEventGrid}
			s.Mode, s.AsyncAutoDelete = ModeSynchronous, false
		}, ruleEndpointMode, FieldMode, "only webhooks"},
		{"async auto delete on a sync webhook step", func(s *Step, c *StepContext) { c.Endpoint, s.Mode = hook, ModeSynchronous }, ruleAsyncAutoDelete, FieldAsyncAutoDelete, "synchronous steps make no system job"},
		{"filtering attributes on create", func(s *Step, c *StepContext) { setMsg(s, c, "Create"); s.FilteringAttributes = []string{"name"} }, ruleFilteringMessage, FieldFilteringAttributes, "only Update steps"},
		{"filtering attributes on an unknown message", func(s *Step, c *StepContext) { s.Message, c.Message = "Nope", nil }, ruleFilteringMessage, FieldFilteringAttributes, "Clear the filtering attributes"},
		{"filtering attributes without table", func(s *Step, c *StepContext) {
			c.Message = &Message{Name: "Update", Filters: filters("none", "account")}
			s.Table, s.Images = "", nil
		}, ruleFilteringColumns, FieldFilteringAttributes, "Choose a table before filtering attributes"},
		{"filtering attribute not a column", func(s *Step, _ *StepContext) { s.FilteringAttributes = []string{"name", "nmae"} }, ruleFilteringColumns, FieldFilteringAttributes, `Not columns of account: "nmae"`},
		{"filtering attribute not valid for update", func(s *Step, _ *StepContext) { s.FilteringAttributes = []string{"createdon"} }, ruleFilteringColumns, FieldFilteringAttributes, `cannot be updated`},
		{"filtering attribute twice", func(s *Step, _ *StepContext) { s.FilteringAttributes = []string{"name", "revenue", "name", "name"} }, ruleFilteringDuplicate, FieldFilteringAttributes, `Listed more than once: "name";`},
		{"filtering attributes too long", func(s *Step, c *StepContext) {
			c.Columns = nil
			for i := range 12000 {
				s.FilteringAttributes = append(s.FilteringAttributes, "column"+strconv.Itoa(i))
			}
		}, ruleFilteringLength, FieldFilteringAttributes, "at most 100000"},
		{"rank negative", func(s *Step, _ *StepContext) { s.Rank = -1 }, ruleRankRange, FieldRank, "from 0 to 2147483647"},
		{"rank too large", func(s *Step, _ *StepContext) { s.Rank = math.MaxInt32 + 1 }, ruleRankRange, FieldRank, "execution order"},
		{"run as not a GUID", func(s *Step, _ *StepContext) { s.RunAsUserID = "admin@contoso.com" }, ruleRunAsGUID, FieldRunAs, "calling user"},
		{"run as with braces", func(s *Step, _ *StepContext) { s.RunAsUserID = "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}" }, ruleRunAsGUID, FieldRunAs, "user ID"},
		{"images on a message without images", func(s *Step, c *StepContext) {
			setMsg(s, c, "Retrieve")
			s.Images = []StepImage{{Type: ImagePre, Alias: "x"}}
		}, ruleImagesSupported, StepImageField(0, ImageFieldType), `"Retrieve" steps cannot have images (only Assign, Create`},
		{"images on a global message", func(s *Step, c *StepContext) {
			setMsg(s, c, "WhoAmI")
			s.Table, s.Images = "", []StepImage{{Type: ImagePre, Alias: "x"}}
		}, ruleImagesSupported, StepImageField(0, ImageFieldType), "Remove the images"},
		{"images without table", func(s *Step, c *StepContext) {
			c.Message = &Message{Name: "Update", Filters: filters("none", "account")}
			s.Table, s.FilteringAttributes = "", nil
		}, ruleImagesNeedTable, StepImageField(0, ImageFieldType), "Choose a table, or remove the images"},
		{"image type unknown", func(s *Step, _ *StepContext) { s.Images[1].Type = 3 }, ruleImageTypeValid, StepImageField(1, ImageFieldType), "pre image, post image or both"},
		{"pre image on create", func(s *Step, c *StepContext) {
			setMsg(s, c, "Create")
			s.Images = []StepImage{{Type: ImagePre, Alias: "x"}}
		}, ruleImageTypeMessage, StepImageField(0, ImageFieldType), "Choose a post image: Create has no row before"},
		{"both on create", func(s *Step, c *StepContext) {
			setMsg(s, c, "Create")
			s.Images = []StepImage{{Type: ImageBoth, Alias: "x"}}
		}, ruleImageTypeMessage, StepImageField(0, ImageFieldType), "Choose a post image"},
		{"post image on delete", func(s *Step, c *StepContext) {
			setMsg(s, c, "Delete")
			s.Images = []StepImage{{Type: ImagePost, Alias: "x"}}
		}, ruleImageTypeMessage, StepImageField(0, ImageFieldType), "Choose a pre image: Delete leaves no row"},
		{"post image in pre-operation", func(s *Step, c *StepContext) {
			c.Endpoint, s.Mode, s.AsyncAutoDelete, s.Stage = hook, ModeSynchronous, false, StagePreOperation
		}, ruleImagePostStage, StepImageField(1, ImageFieldType), "only in the post-operation stage"},
		{"both in pre-validation", func(s *Step, c *StepContext) {
			c.Endpoint, s.Mode, s.AsyncAutoDelete, s.Stage = hook, ModeSynchronous, false, StagePreValidation
			s.Images[0].Type = ImageBoth
		}, ruleImagePostStage, StepImageField(0, ImageFieldType), "choose a pre image or the post-operation stage"},
		{"alias required", func(s *Step, _ *StepContext) { s.Images[1].Alias = "" }, ruleImageAliasRequired, StepImageField(1, ImageFieldAlias), "Enter an alias"},
		{"alias with a space", func(s *Step, _ *StepContext) { s.Images[0].Alias = "pre image" }, ruleImageAliasChars, StepImageField(0, ImageFieldAlias), "letters, digits and '_' only"},
		{"alias with a dot", func(s *Step, _ *StepContext) { s.Images[0].Alias = "pre.image" }, ruleImageAliasChars, StepImageField(0, ImageFieldAlias), "such as PreImage"},
		{"alias non-ASCII", func(s *Step, _ *StepContext) { s.Images[0].Alias = "préimage" }, ruleImageAliasChars, StepImageField(0, ImageFieldAlias), "letters"},
		{"alias too long", func(s *Step, _ *StepContext) { s.Images[0].Alias = long(257) }, ruleImageAliasChars, StepImageField(0, ImageFieldAlias), "at most 256"},
		{"alias twice", func(s *Step, _ *StepContext) { s.Images[1].Alias = "preimage" }, ruleImageAliasUnique, StepImageField(1, ImageFieldAlias), "Image 1 already uses this alias"},
		{"image attribute not a column", func(s *Step, _ *StepContext) { s.Images[0].Attributes = []string{"name", "x"} }, ruleImageAttrColumns, StepImageField(0, ImageFieldAttributes), `Not columns of account: "x"`},
		{"image attribute twice", func(s *Step, _ *StepContext) { s.Images[1].Attributes = []string{"createdon", "createdon"} }, ruleImageAttrDuplicate, StepImageField(1, ImageFieldAttributes), `"createdon"`},
		{"image attributes too long", func(s *Step, c *StepContext) {
			c.Columns = nil
			for i := range 12000 {
				s.Images[0].Attributes = append(s.Images[0].Attributes, "column"+strconv.Itoa(i))
			}
		}, ruleImageAttrLength, StepImageField(0, ImageFieldAttributes), "at most 100000"},
	}
}

// TestStepRules: each bad field gives its problem on the right field, tagged with its rule, and
// with a message that says what to change.
func TestStepRules(t *testing.T) {
	for _, c := range stepCases() {
		st, sc := validStep()
		c.edit(&st, &sc)
		found := st.check(sc)
		ok := false
		for _, f := range found {
			if f.Rule == c.rule && f.Field == c.field && strings.Contains(f.Message, c.want) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: want rule %s on %s containing %q; got %v", c.name, c.rule, c.field, c.want, found)
		}
		if p := st.Validate(sc); len(p) != len(found) || !p.Has(c.field) {
			t.Errorf("%s: Validate gave %v", c.name, p)
		}
	}
}

// TestEveryStepRuleIsExercised fails when a rule of StepRules has no case that makes it fail,
// or a check is tagged with an ID the table does not hold.
func TestEveryStepRuleIsExercised(t *testing.T) {
	exercised := map[string]bool{}
	for _, c := range stepCases() {
		st, sc := validStep()
		c.edit(&st, &sc)
		for _, f := range st.check(sc) {
			if !slices.ContainsFunc(StepRules, func(r StepRule) bool { return r.ID == f.Rule }) {
				t.Errorf("%s: problem tagged with %q, which StepRules lacks", c.name, f.Rule)
			}
			if f.Rule == c.rule {
				exercised[f.Rule] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range StepRules {
		if seen[r.ID] {
			t.Errorf("rule %s is in StepRules twice", r.ID)
		}
		seen[r.ID] = true
		if r.Rule == "" || r.Source == "" {
			t.Errorf("rule %s lacks its wording or source", r.ID)
		}
		if !exercised[r.ID] {
			t.Errorf("rule %s (%s) has no failing test case", r.ID, r.Rule)
		}
	}
}

func TestImageSupport(t *testing.T) {
	for _, c := range []struct {
		message   string
		pre, post bool
		property  string
	}{
		{"Create", false, true, "Id"},
		{"Update", true, true, "Target"},
		{"update", true, true, "Target"},
		{"Delete", true, false, "Target"},
		{"Assign", true, true, "Target"},
		{"SetState", true, true, "EntityMoniker"},
		{"Merge", true, true, "Target"},
		{"DeliverIncoming", true, true, "EmailId"},
		{"Send", true, true, "EmailId"},
		{"Retrieve", false, false, ""},
		{"", false, false, ""},
	} {
		pre, post, property := ImageSupport(c.message)
		if pre != c.pre || post != c.post || property != c.property {
			t.Errorf("ImageSupport(%q) = %v, %v, %q; want %v, %v, %q", c.message, pre, post, property, c.pre, c.post, c.property)
		}
	}
}

func TestAllowedModesAndStages(t *testing.T) {
	for name, e := range validExamples() {
		want := []ExecutionMode{ModeAsynchronous}
		if e.Contract == ContractWebhook {
			want = []ExecutionMode{ModeSynchronous, ModeAsynchronous}
		}
		if got := AllowedModes(e); !slices.Equal(got, want) {
			t.Errorf("AllowedModes(%s) = %v, want %v", name, got, want)
		}
	}
	if got := AllowedModes(ServiceEndpoint{Contract: ContractEventGrid}); !slices.Equal(got, []ExecutionMode{ModeAsynchronous}) {
		t.Errorf("AllowedModes(event grid) = %v", got)
	}
	if got := AllowedStages(ModeSynchronous); !slices.Equal(got, Stages) {
		t.Errorf("AllowedStages(sync) = %v", got)
	}
	if got := AllowedStages(ModeAsynchronous); !slices.Equal(got, []Stage{StagePostOperation}) {
		t.Errorf("AllowedStages(async) = %v", got)
	}
	if got := AllowedStages(7); got != nil {
		t.Errorf("AllowedStages(7) = %v", got)
	}
	// What the form offers is what Validate accepts.
	hook := validExamples()["webhook key"]
	for _, e := range []ServiceEndpoint{validQueue(), hook} {
		for _, m := range []ExecutionMode{ModeSynchronous, ModeAsynchronous} {
			for _, s := range Stages {
				st, sc := validStep()
				sc.Endpoint, st.Mode, st.Stage, st.Images, st.AsyncAutoDelete = e, m, s, nil, false
				offered := slices.Contains(AllowedModes(e), m) && slices.Contains(AllowedStages(m), s)
				if valid := st.Validate(sc) == nil; valid != offered {
					t.Errorf("%s, %s, %s: offered %v, valid %v", e.Contract, m.Label(), s.Label(), offered, valid)
				}
			}
		}
	}
}

func TestFilteringAttributesAllowed(t *testing.T) {
	for m, want := range map[string]bool{"Update": true, "update": true, "OnExternalUpdated": true, "Create": false, "": false, "UpdateMultiple": false} {
		if got := FilteringAttributesAllowed(m); got != want {
			t.Errorf("FilteringAttributesAllowed(%q) = %v", m, got)
		}
	}
}

func TestSuggestedStepName(t *testing.T) {
	for _, c := range []struct{ endpoint, message, table, want string }{
		{"orders", "Update", "account", "orders: Update of account"},
		{"orders", "WhoAmI", "", "orders: WhoAmI"},
		{"orders", "WhoAmI", "none", "orders: WhoAmI"},
	} {
		if got := SuggestedStepName(c.endpoint, c.message, c.table); got != c.want {
			t.Errorf("SuggestedStepName(%q, %q, %q) = %q, want %q", c.endpoint, c.message, c.table, got, c.want)
		}
	}
	got := SuggestedStepName(strings.Repeat("😀", 200), "Update", "account")
	if utf16Len(got) > MaxStepNameLen || !strings.HasPrefix(got, "😀") {
		t.Errorf("long name: %d UTF-16 units", utf16Len(got))
	}
	st, sc := validStep()
	st.Name = got
	if p := st.Validate(sc); p.Has(FieldName) {
		t.Errorf("the suggested name is refused: %v", p)
	}
}

func TestAttributeLists(t *testing.T) {
	for in, want := range map[string][]string{
		"":                        nil,
		" , ,":                    nil,
		"name":                    {"name"},
		" Name , AccountNumber,,": {"name", "accountnumber"},
		"a,a":                     {"a", "a"},
	} {
		got := ParseAttributeList(in)
		if !slices.Equal(got, want) {
			t.Errorf("ParseAttributeList(%q) = %q, want %q", in, got, want)
		}
		if back := ParseAttributeList(JoinAttributeList(got)); !slices.Equal(back, got) {
			t.Errorf("round trip of %q gave %q", got, back)
		}
	}
	if got := JoinAttributeList([]string{"name", "revenue"}); got != "name,revenue" {
		t.Errorf("JoinAttributeList = %q", got)
	}
}

// FuzzStepValidate: Validate never panics, every problem has a field the form knows and a
// message, and every problem's rule is in StepRules.
func FuzzStepValidate(f *testing.F) {
	st, _ := validStep()
	f.Add(st.Name, st.Description, st.Message, st.Table, "name,revenue", int(st.Stage), int(st.Mode), st.Rank, st.RunAsUserID, true, int(ContractQueue),
		"PreImage", 0, "name", "post", 1, "")
	f.Add("", "", "Create", "", "", 20, 0, -1, "x", false, 8, "", 3, "a,a", "", 2, "q")
	f.Add("\u202e", "\x00", "WhoAmI", "account", "x,x", 10, 1, 0, "", true, 0, "a b", 1, "", "A", 0, "q")
	names := make([]string, 0, len(testMessages))
	for n := range testMessages {
		names = append(names, n)
	}
	slices.Sort(names)
	f.Fuzz(func(t *testing.T, name, description, message, table, filtering string, stage, mode, rank int, runAs string, autoDelete bool, contract int,
		alias1 string, type1 int, attrs1, alias2 string, type2 int, columns string) {
		st := Step{Name: name, Description: description, Message: message, Table: table, FilteringAttributes: ParseAttributeList(filtering),
			Stage: Stage(stage), Mode: ExecutionMode(mode), Rank: rank, RunAsUserID: runAs, AsyncAutoDelete: autoDelete,
			Images: []StepImage{{Type: ImageType(type1), Alias: alias1, Attributes: ParseAttributeList(attrs1)}, {Type: ImageType(type2), Alias: alias2}}}
		if len(message)%3 == 0 {
			st.Images = nil
		}
		sc := StepContext{Endpoint: ServiceEndpoint{Contract: Contract(contract)}, Message: testMessages[message]}
		if sc.Message == nil && len(message) > 0 {
			// Also a message Dataverse describes with the fuzzed table among its filters.
			sc.Message = &Message{Name: message, Filters: filters(table, names[len(message)%len(names)])}
		}
		if columns != "" {
			for _, c := range ParseAttributeList(columns) {
				sc.Columns = append(sc.Columns, Column{LogicalName: c, ValidForUpdate: len(c)%2 == 0})
			}
		}
		known := []string{FieldName, FieldDescription, FieldMessage, FieldTable, FieldStage, FieldMode, FieldRank,
			FieldFilteringAttributes, FieldRunAs, FieldAsyncAutoDelete}
		for i := range st.Images {
			known = append(known, StepImageField(i, ImageFieldType), StepImageField(i, ImageFieldAlias), StepImageField(i, ImageFieldAttributes))
		}
		for _, p := range st.check(sc) {
			if p.Field == "" || strings.TrimSpace(p.Message) == "" {
				t.Fatalf("problem without field or message: %+v", p)
			}
			if !slices.Contains(known, p.Field) {
				t.Fatalf("problem on unknown field %q", p.Field)
			}
			if !slices.ContainsFunc(StepRules, func(r StepRule) bool { return r.ID == p.Rule }) {
				t.Fatalf("problem tagged with unknown rule %q", p.Rule)
			}
		}
		if p := st.Validate(sc); p != nil && len(p) == 0 {
			t.Fatal("Validate returned an empty, non-nil Problems")
		}
	})
}
