package handlers

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// The step form's image sections, in the order their images go into Step.Images.
var stepImageSections = []struct {
	prefix, label, example string
	typ                    endpoint.ImageType
}{
	{"preimage", "Pre image", "PreImage", endpoint.ImagePre},
	{"postimage", "Post image", "PostImage", endpoint.ImagePost},
}

// stepInput is what the step form holds: the step, and what the form adds around it.
type stepInput struct {
	Step      endpoint.Step
	Suggested string // the name the form last suggested
	RunAs     string // "caller" or "user"
	Rank      string // as typed
	Images    map[string]imageInput
	// imagePrefix names, for each of Step.Images, the form section it came from.
	imagePrefix []string
}

// imageInput is one image section of the form.
type imageInput struct {
	Enabled bool
	All     bool
	Alias   string
	Columns []string
}

// newStepInput is a new step's form before anything is typed: post-operation, asynchronous,
// first in order, in the calling user's context, images with all columns.
func newStepInput(message string) stepInput {
	in := stepInput{Step: endpoint.Step{ID: dataverse.NewGUID(), Message: message, Stage: endpoint.StagePostOperation,
		Mode: endpoint.ModeAsynchronous, Rank: 1}, RunAs: "caller", Rank: "1", Images: map[string]imageInput{}}
	for _, sec := range stepImageSections {
		in.Images[sec.prefix] = imageInput{All: true, Alias: sec.example}
	}
	return in
}

// stepInputOf is the form for an existing step.
func stepInputOf(st endpoint.Step) stepInput {
	in := stepInput{Step: st, Suggested: "", RunAs: "caller", Rank: strconv.Itoa(st.Rank), Images: map[string]imageInput{}}
	if st.RunAsUserID != "" {
		in.RunAs = "user"
	}
	for _, sec := range stepImageSections {
		in.Images[sec.prefix] = imageInput{All: true, Alias: sec.example}
	}
	for _, im := range st.Images {
		for _, sec := range stepImageSections {
			if sec.typ == endpoint.ImagePre && im.Type.Pre() || sec.typ == endpoint.ImagePost && im.Type.Post() {
				in.Images[sec.prefix] = imageInput{Enabled: true, All: len(im.Attributes) == 0, Alias: im.Alias, Columns: im.Attributes}
			}
		}
	}
	return in
}

// readStepForm reads the posted step form. The step's id comes from the form, chosen when it
// was first shown, so submitting it twice cannot add two steps.
func readStepForm(r *http.Request, base endpoint.Step) stepInput {
	f := r.PostForm
	st := base
	st.Name = strings.TrimSpace(f.Get("name"))
	st.Description = strings.TrimSpace(f.Get("description"))
	st.Message = strings.TrimSpace(f.Get("message"))
	st.Table = strings.ToLower(strings.TrimSpace(f.Get("table")))
	if base.ID == "" {
		st.ID = dataverse.NewGUID()
		if id := strings.ToLower(strings.TrimSpace(f.Get("stepid"))); endpoint.IsGUID(id) {
			st.ID = id
		}
	}
	stage, _ := strconv.Atoi(f.Get("stage"))
	st.Stage = endpoint.Stage(stage)
	mode, err := strconv.Atoi(f.Get("mode"))
	if err != nil {
		mode = -1
	}
	st.Mode = endpoint.ExecutionMode(mode)
	in := stepInput{Suggested: f.Get("suggested"), RunAs: f.Get("runas"), Rank: strings.TrimSpace(f.Get("rank")), Images: map[string]imageInput{}}
	st.Rank, _ = strconv.Atoi(in.Rank)
	st.FilteringAttributes = endpoint.ParseAttributeList(strings.Join(f["filteringattributes"], ","))
	st.RunAsUserID = ""
	if in.RunAs == "user" {
		st.RunAsUserID = strings.ToLower(strings.TrimSpace(f.Get("runasuser")))
	}
	st.AsyncAutoDelete = f.Get("asyncautodelete") != ""
	st.Images = nil
	for _, sec := range stepImageSections {
		im := imageInput{Enabled: f.Get(sec.prefix) != "", All: f.Get(sec.prefix+".all") != "",
			Alias: strings.TrimSpace(f.Get(sec.prefix + ".alias")), Columns: endpoint.ParseAttributeList(strings.Join(f[sec.prefix+".attributes"], ","))}
		if _, shown := f[sec.prefix+".alias"]; !shown {
			// The section was not on the form (no message chosen yet): its defaults stand.
			im.Alias, im.All = sec.example, true
		}
		in.Images[sec.prefix] = im
		if !im.Enabled {
			continue
		}
		img := endpoint.StepImage{Type: sec.typ, Alias: im.Alias}
		if !im.All {
			img.Attributes = im.Columns
		}
		// Keep the id of the image this section edits, so an edit changes it in place.
		for _, old := range base.Images {
			if old.Type == sec.typ || old.Type == endpoint.ImageBoth {
				img.ID, img.Name = old.ID, old.Name
			}
		}
		st.Images = append(st.Images, img)
		in.imagePrefix = append(in.imagePrefix, sec.prefix)
	}
	in.Step = st
	return in
}

// stepChoices are what Dataverse says about the step's message and table.
type stepChoices struct {
	Messages      []endpoint.Message
	MessagesError string
	Message       *endpoint.Message
	Tables        []string
	Columns       []endpoint.Column
	ColumnsError  string
	Users         []dataverse.User // whom a step may run as; nil when they could not be read
}

// stepChoices reads (from the catalog's cache) the messages, and the chosen table's columns.
func (s *Server) stepChoices(ctx context.Context, c catalogEntry, st endpoint.Step) stepChoices {
	var ch stepChoices
	msgs, err := s.Catalog.Messages(ctx, c.Env.ID)
	if err != nil {
		ch.MessagesError = "The messages could not be read from Dataverse: " + dataverseMessage(err) + " Type the message's name; it is checked when you add the step."
	}
	ch.Messages = msgs
	ch.Users, _ = s.Catalog.Users(ctx, c.Env.ID) // without them the form takes an id
	ch.Message = endpoint.FindMessage(msgs, st.Message)
	if ch.Message == nil {
		return ch
	}
	for _, f := range ch.Message.Filters {
		if f.CustomStepAllowed && f.Table != "" && f.Table != "none" && !slices.Contains(ch.Tables, f.Table) {
			ch.Tables = append(ch.Tables, f.Table)
		}
	}
	slices.Sort(ch.Tables)
	if st.Table != "" && slices.Contains(ch.Tables, st.Table) {
		cols, err := s.Catalog.Columns(ctx, c.Env.ID, st.Table)
		if err != nil {
			ch.ColumnsError = "The columns of " + st.Table + " could not be read from Dataverse: " + dataverseMessage(err)
		}
		ch.Columns = cols
	}
	return ch
}

// context is what the rules check the step against.
func (ch stepChoices) context(ep endpoint.ServiceEndpoint) endpoint.StepContext {
	sc := endpoint.StepContext{Endpoint: ep, Message: ch.Message, Columns: ch.Columns}
	if ch.MessagesError != "" {
		// Without Dataverse's word on the message, the rules cannot check it: the step is not
		// added until they can.
		sc.Message = nil
	}
	return sc
}

// stepFormView builds the form's view from what was typed and what Dataverse offers.
func stepFormView(v web.EndpointView, action string, editing bool, ep endpoint.ServiceEndpoint, in stepInput, ch stepChoices) web.StepForm {
	st := in.Step
	f := web.StepForm{Endpoint: v, Action: action, Editing: editing, StepID: st.ID, Description: st.Description,
		Message: st.Message, Table: st.Table, MessagesError: ch.MessagesError, ColumnsError: ch.ColumnsError,
		Rank: in.Rank, RunAs: in.RunAs, RunAsUserID: st.RunAsUserID, AsyncAutoDelete: st.AsyncAutoDelete}
	for _, u := range ch.Users {
		f.Users = append(f.Users, web.Option{Value: u.ID, Label: u.FullName})
	}
	for _, m := range ch.Messages {
		hint := ""
		if m.CustomAPI {
			hint = "Custom API"
		}
		f.Messages = append(f.Messages, web.Option{Value: m.Name, Hint: hint})
	}
	switch {
	case ch.Message == nil:
		f.TableHint = "Choose a message first; the tables it can be registered on are offered then."
	case len(ch.Tables) == 0:
		f.Global, f.Table = true, ""
		f.TableHint = ch.Message.Name + " is a global message: it is not registered on a table."
	default:
		f.Message = ch.Message.Name
		f.TableHint = ch.Message.Name + " can be registered on " + web.Plural(len(ch.Tables), "table") + ", e.g. " + strings.Join(ch.Tables[:min(4, len(ch.Tables))], ", ") + ". Type to search them."
		for _, t := range ch.Tables {
			f.Tables = append(f.Tables, web.Option{Value: t, Label: t})
		}
	}
	if ch.Message != nil {
		f.Message = ch.Message.Name
	}
	f.Name, f.Suggested = st.Name, in.Suggested

	modes := endpoint.AllowedModes(ep)
	for _, m := range []endpoint.ExecutionMode{endpoint.ModeAsynchronous, endpoint.ModeSynchronous} {
		o := web.Option{Value: strconv.Itoa(int(m)), Label: m.Label(), Selected: st.Mode == m}
		if !slices.Contains(modes, m) {
			o.Disabled, o.Hint = true, "Not for this endpoint."
		}
		if m == endpoint.ModeSynchronous && !o.Disabled {
			o.Hint = "The operation waits for the endpoint's answer; a failure rolls it back."
		}
		f.Modes = append(f.Modes, o)
	}
	if len(modes) == 1 {
		f.ModeHint = ep.Contract.Label() + " endpoints receive asynchronous steps only."
	}
	for _, sg := range endpoint.Stages {
		o := web.Option{Value: strconv.Itoa(int(sg)), Label: sg.Label(), Selected: st.Stage == sg}
		if !slices.Contains(endpoint.AllowedStages(endpoint.ModeAsynchronous), sg) {
			o.Hint = "Synchronous steps only."
		}
		f.Stages = append(f.Stages, o)
	}

	// Filtering attributes chosen for a message that takes none stay on the form, to be
	// cleared, with the rule's message beside them.
	f.FilteringAllowed = endpoint.FilteringAttributesAllowed(f.Message) || len(st.FilteringAttributes) > 0
	var updatable []endpoint.Column
	for _, col := range ch.Columns {
		if col.ValidForUpdate {
			updatable = append(updatable, col)
		}
	}
	f.Columns = columnOptions(ch.Columns, nil)
	f.Filtering = columnOptions(updatable, st.FilteringAttributes)

	pre, post, _ := endpoint.ImageSupport(f.Message)
	for _, sec := range stepImageSections {
		im := in.Images[sec.prefix]
		offered := sec.typ == endpoint.ImagePre && pre || sec.typ == endpoint.ImagePost && post
		view := web.ImageForm{Prefix: sec.prefix, Label: sec.label, Example: sec.example, Offered: offered,
			Enabled: im.Enabled, Alias: im.Alias, All: im.All, Columns: columnOptions(ch.Columns, im.Columns)}
		switch {
		case f.Message == "":
			view.Why = "Choose a message first."
		case !offered:
			view.Why = f.Message + " does not offer a " + strings.ToLower(sec.label) + "."
		}
		if sec.prefix == "preimage" {
			f.PreImage = view
		} else {
			f.PostImage = view
		}
	}
	return f
}

// columnOptions offers columns as checkboxes, selected when in chosen; a chosen name that is
// not a column is kept (and offered) so nothing typed is lost.
func columnOptions(cols []endpoint.Column, chosen []string) []web.Option {
	var out []web.Option
	seen := map[string]bool{}
	for _, c := range cols {
		label := c.DisplayName
		if label == "" {
			label = c.LogicalName
		}
		seen[c.LogicalName] = true
		out = append(out, web.Option{Value: c.LogicalName, Label: label, Selected: slices.Contains(chosen, c.LogicalName)})
	}
	for _, name := range chosen {
		if !seen[name] && len(cols) > 0 {
			out = append(out, web.Option{Value: name, Label: name + " (not a column of this table)", Selected: true})
		}
	}
	return out
}

// stepProblems turns the rules' problems into the form's field errors: an image's problems go
// to the section it came from.
func stepProblems(in stepInput, problems endpoint.Problems) web.FieldErrors {
	if len(problems) == 0 {
		return nil
	}
	errs := web.FieldErrors{}
	for _, p := range problems {
		field := p.Field
		if rest, ok := strings.CutPrefix(field, "images."); ok {
			idx, sub, _ := strings.Cut(rest, ".")
			i, err := strconv.Atoi(idx)
			if err == nil && i >= 0 && i < len(in.imagePrefix) {
				field = in.imagePrefix[i] + "." + sub
				if sub == "type" {
					field = in.imagePrefix[i] + ".alias"
				}
			}
		}
		if field == "runas" {
			field = "runasuser"
		}
		errs[field] = append(errs[field], p.Message)
	}
	return errs
}

// validateStep applies the domain's step rules, plus the form's own: the execution order must
// be a whole number.
func validateStep(in stepInput, ch stepChoices, ep endpoint.ServiceEndpoint) web.FieldErrors {
	problems := in.Step.Validate(ch.context(ep))
	if id := in.Step.RunAsUserID; id != "" && endpoint.IsGUID(id) && ch.Users != nil &&
		!slices.ContainsFunc(ch.Users, func(u dataverse.User) bool { return u.ID == strings.ToLower(id) }) {
		problems = append(problems, endpoint.Problem{Field: "runas", Message: "No enabled user of this environment has this id. Type the user's name and choose them from the suggestions."})
	}
	if _, err := strconv.Atoi(in.Rank); err != nil && in.Rank != "" {
		problems = append(problems, endpoint.Problem{Field: "rank", Message: "Execution order must be a whole number, such as 1."})
	}
	return stepProblems(in, problems)
}

// settle completes the typed step with what Dataverse says: the message's exact name and id,
// the filter of the chosen table, and the suggested name while the person has not written
// their own.
func settle(in stepInput, ch stepChoices, ep endpoint.ServiceEndpoint) stepInput {
	st := &in.Step
	if ch.Message != nil && len(ch.Tables) == 0 {
		st.Table = ""
	}
	// A user typed by name is the user of that name.
	if st.RunAsUserID != "" && !endpoint.IsGUID(st.RunAsUserID) {
		for _, u := range ch.Users {
			if strings.EqualFold(u.FullName, st.RunAsUserID) {
				st.RunAsUserID = u.ID
				break
			}
		}
	}
	// Images are bound to the message property Dataverse takes them from (Target, Id, …).
	*st = st.Bind(ch.Message)
	suggested := ""
	if st.Message != "" {
		suggested = endpoint.SuggestedStepName(ep.Name, st.Message, st.Table)
	}
	if st.Name == "" || st.Name == in.Suggested {
		st.Name = suggested
	}
	in.Suggested = suggested
	return in
}
