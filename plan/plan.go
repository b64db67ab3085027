package plan

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
)

// Current is an endpoint as the environment holds it, with its owning team ("" when it was not
// registered through the portal).
type Current struct {
	Endpoint endpoint.ServiceEndpoint
	Team     string
}

// Environment is what the engine reads of the environment a document is planned against.
type Environment interface {
	// ID is the environment's id in the portal's configuration.
	ID() string
	// Endpoints lists every endpoint of the environment.
	Endpoints(ctx context.Context) ([]Current, error)
	// Steps lists an endpoint's steps.
	Steps(ctx context.Context, endpointID string) ([]endpoint.Step, error)
	// Messages lists the messages steps can be registered on, with their tables.
	Messages(ctx context.Context) ([]endpoint.Message, error)
	// Columns lists a table's columns.
	Columns(ctx context.Context, table string) ([]endpoint.Column, error)
	// StoredSecret is the secret the portal keeps for an endpoint (ok false when none).
	StoredSecret(ctx context.Context, endpointID string, p endpoint.SecretPurpose) (s endpoint.Secret, ok bool, err error)
	// Authorize says whether the person or pipeline applying may perform a on an endpoint
	// owned by team (nil when allowed; the error says why not).
	Authorize(a auth.Action, team string) error
}

// Secrets resolves a secret reference (env:NAME) to its value; ok is false when it has none.
type Secrets func(ref string) (value endpoint.Secret, ok bool)

// EnvSecrets resolves env:NAME from the process environment (a pipeline's secrets).
func EnvSecrets(getenv func(string) string) Secrets {
	return func(ref string) (endpoint.Secret, bool) {
		name, ok := strings.CutPrefix(ref, "env:")
		if !ok {
			return endpoint.Secret{}, false
		}
		v := getenv(name)
		return endpoint.NewSecret(v), v != ""
	}
}

// Action is what a plan does with an endpoint or a step.
type Action string

// The actions of a plan.
const (
	Create    Action = "create"
	Update    Action = "update"
	Delete    Action = "delete"
	Unchanged Action = "unchanged"
)

// FieldChange is one field that differs: its name in the document, the environment's value
// and the document's. A secret appears only as "set" or "not set".
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// EndpointChange is what a plan does with one endpoint.
type EndpointChange struct {
	Action Action `json:"action"`
	Name   string `json:"name"`
	// ID is the endpoint's id in the environment (for a create, the id it will get).
	ID     string                   `json:"id"`
	Team   string                   `json:"team,omitempty"`
	Fields []FieldChange            `json:"fields,omitempty"`
	Steps  []StepChange             `json:"steps,omitempty"`
	Before endpoint.ServiceEndpoint `json:"-"`
	After  endpoint.ServiceEndpoint `json:"-"`
	// SecretRef is the document's reference to the endpoint's secret; SetsKey says the key is
	// written (a create, or a resolved secret that is not what the portal keeps); Prove says
	// the endpoint is proved by a test message before it is written.
	SecretRef string `json:"secretRef,omitempty"`
	SetsKey   bool   `json:"setsKey,omitempty"`
	Prove     bool   `json:"prove,omitempty"`
	// TeamChange says only the owning team changes (no Dataverse write).
	TeamChange bool `json:"teamChange,omitempty"`
	Line       int  `json:"line,omitempty"`
}

// StepChange is what a plan does with one step.
type StepChange struct {
	Action Action        `json:"action"`
	Name   string        `json:"name"`
	ID     string        `json:"id"`
	Fields []FieldChange `json:"fields,omitempty"`
	Before endpoint.Step `json:"-"`
	After  endpoint.Step `json:"-"`
}

// Plan is what applying a document to an environment would do.
type Plan struct {
	Environment string           `json:"environment"`
	Endpoints   []EndpointChange `json:"endpoints"`
	// Problems stop the plan from being applied.
	Problems []Problem `json:"problems,omitempty"`
	// Secrets are the references the document uses, in order, and whether each resolved.
	Secrets []SecretUse `json:"secrets,omitempty"`
}

// SecretUse is a reference a plan needs and whether it was resolved.
type SecretUse struct {
	Ref      string `json:"ref"`
	Resolved bool   `json:"resolved"`
	Needed   bool   `json:"needed"` // without it the plan cannot be applied
}

// Changed reports whether applying the plan would change anything.
func (p Plan) Changed() bool {
	for _, c := range p.Endpoints {
		if c.Action != Unchanged || c.SetsKey || slices.ContainsFunc(c.Steps, func(s StepChange) bool { return s.Action != Unchanged }) {
			return true
		}
	}
	return false
}

// Counts counts endpoints by action (key-only changes count as updates).
func (p Plan) Counts() map[Action]int {
	m := map[Action]int{}
	for _, c := range p.Endpoints {
		a := c.Action
		if a == Unchanged && (c.SetsKey || slices.ContainsFunc(c.Steps, func(s StepChange) bool { return s.Action != Unchanged })) {
			a = Update
		}
		m[a]++
	}
	return m
}

// Digest identifies what the plan does apart from keys and the ids chosen for new records: a
// page shows a plan with its digest, and Apply is refused when the plan made again differs.
func (p Plan) Digest() string {
	h := sha256.New()
	for _, c := range p.Endpoints {
		id := c.ID
		if c.Action == Create {
			id = ""
		}
		fmt.Fprintf(h, "E\x00%s\x00%s\x00%s\x00%s\n", c.Action, strings.ToLower(c.Name), id, c.Team)
		for _, f := range c.Fields {
			if f.Field != "key" {
				fmt.Fprintf(h, "F\x00%s\x00%s\x00%s\n", f.Field, f.Before, f.After)
			}
		}
		for _, s := range c.Steps {
			sid := s.ID
			if s.Action == Create {
				sid = ""
			}
			fmt.Fprintf(h, "S\x00%s\x00%s\x00%s\n", s.Action, strings.ToLower(s.Name), sid)
			for _, f := range s.Fields {
				fmt.Fprintf(h, "F\x00%s\x00%s\x00%s\n", f.Field, f.Before, f.After)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// NewID chooses the id of a record a plan creates; the portal sets it to dataverse.NewGUID.
type NewID func() string

// Make compares doc with the environment and returns the plan: per endpoint and step, create,
// update, delete or unchanged, field by field. Problems (with the document's lines) are in the
// plan; the error is for an environment that could not be read.
func Make(ctx context.Context, doc Document, env Environment, secrets Secrets, newID NewID) (Plan, error) {
	p := Plan{Environment: env.ID()}
	p.Problems = append(p.Problems, check(doc)...)
	current, err := env.Endpoints(ctx)
	if err != nil {
		return p, fmt.Errorf("read the endpoints of %s: %w", env.ID(), err)
	}
	msgs, msgErr := env.Messages(ctx)
	byID, byName := map[string]Current{}, map[string]Current{}
	for _, c := range current {
		byID[strings.ToLower(c.Endpoint.ID)] = c
		byName[strings.ToLower(c.Endpoint.Name)] = c
	}
	matched := map[string]bool{}
	seenRef := map[string]int{}
	for _, d := range doc.Endpoints {
		cur, found := byID[strings.ToLower(d.ID)]
		if !found || d.ID == "" {
			cur, found = byName[strings.ToLower(strings.TrimSpace(d.Name))]
		}
		ch, err := planEndpoint(ctx, d, cur, found, env, secrets, newID, msgs, msgErr)
		if err != nil {
			return p, err
		}
		if found {
			matched[strings.ToLower(cur.Endpoint.ID)] = true
		}
		if d.Secret != "" {
			if _, ok := seenRef[d.Secret]; !ok {
				seenRef[d.Secret] = len(p.Secrets)
				_, resolved := resolve(secrets, d.Secret)
				p.Secrets = append(p.Secrets, SecretUse{Ref: d.Secret, Resolved: resolved})
			}
			if ch.change.Prove && !ch.resolved {
				p.Secrets[seenRef[d.Secret]].Needed = true
			}
		}
		p.Endpoints = append(p.Endpoints, ch.change)
		p.Problems = append(p.Problems, ch.problems...)
	}
	for _, c := range current {
		if matched[strings.ToLower(c.Endpoint.ID)] || c.Team == "" || !slices.Contains(doc.Teams, c.Team) {
			continue
		}
		ch := EndpointChange{Action: Delete, Name: c.Endpoint.Name, ID: c.Endpoint.ID, Team: c.Team, Before: c.Endpoint}
		steps, err := env.Steps(ctx, c.Endpoint.ID)
		if err != nil {
			return p, fmt.Errorf("read the steps of %q: %w", c.Endpoint.Name, err)
		}
		for _, st := range steps {
			ch.Steps = append(ch.Steps, StepChange{Action: Delete, Name: st.Name, ID: st.ID, Before: st})
		}
		if reason := endpoint.ReadOnlyReason(c.Endpoint, nil); reason != "" {
			p.Problems = append(p.Problems, Problem{Endpoint: c.Endpoint.Name, Message: "The file would delete it, but " + lowerFirst(reason)})
		}
		if err := env.Authorize(auth.ActionDelete, c.Team); err != nil {
			p.Problems = append(p.Problems, Problem{Endpoint: c.Endpoint.Name, Message: "The file would delete it, but you may not: " + err.Error() + "."})
		}
		p.Endpoints = append(p.Endpoints, ch)
	}
	slices.SortStableFunc(p.Endpoints, func(a, b EndpointChange) int {
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return p, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func resolve(secrets Secrets, ref string) (endpoint.Secret, bool) {
	if secrets == nil || ref == "" {
		return endpoint.Secret{}, false
	}
	return secrets(ref)
}

type planned struct {
	change   EndpointChange
	problems []Problem
	resolved bool
}

// planEndpoint plans one document endpoint against the record it matched (found), or a create.
func planEndpoint(ctx context.Context, d Endpoint, cur Current, found bool, env Environment, secrets Secrets, newID NewID,
	msgs []endpoint.Message, msgErr error) (planned, error) {
	var out planned
	ch := EndpointChange{Name: d.Name, Team: d.Team, SecretRef: d.Secret, Line: d.line}
	problem := func(field, msg string) {
		out.problems = append(out.problems, Problem{Line: d.lineOf(field), Endpoint: d.Name, Field: field, Message: msg})
	}
	base := endpoint.ServiceEndpoint{}
	if found {
		base = cur.Endpoint
		ch.ID, ch.Before = cur.Endpoint.ID, cur.Endpoint
	} else {
		ch.ID = strings.ToLower(cmp.Or(d.ID, newID()))
		base.ID = ch.ID
	}
	after, probs := toEndpoint(d, base)
	out.problems = append(out.problems, probs...)
	ch.After = after

	// What the document asks for, field by field.
	if found {
		ch.Fields = endpointDiff(cur.Endpoint, after)
		if d.Team != cur.Team {
			ch.Fields = append(ch.Fields, FieldChange{Field: "team", Before: cmp.Or(cur.Team, "(none)"), After: cmp.Or(d.Team, "(none)")})
		}
	}
	switch {
	case !found:
		ch.Action = Create
	case len(ch.Fields) == 0:
		ch.Action = Unchanged
	default:
		ch.Action = Update
		ch.TeamChange = len(ch.Fields) == 1 && ch.Fields[0].Field == "team"
	}

	// The secret: written on create; on update when it resolves to something other than what
	// the portal keeps, or Dataverse has none; needed for a change of where the endpoint sends.
	value, resolved := resolve(secrets, d.Secret)
	out.resolved = resolved
	purpose, hasPurpose := after.AuthType.SecretPurpose()
	delivery := found && endpoint.DeliveryChanged(cur.Endpoint, after)
	switch {
	case !hasPurpose:
	case !found:
		ch.SetsKey = true
	case resolved:
		stored, ok, err := env.StoredSecret(ctx, cur.Endpoint.ID, purpose)
		if err != nil {
			return out, err
		}
		// The value may be a whole connection string: compare the key it holds.
		withKey, _, kerr := readSecret(after, d.Secret, value)
		if kerr != nil {
			problem("secret", kerr.Error())
		}
		ch.SetsKey = delivery || !ok || kerr != nil || !withKey.Secret(purpose).Equal(stored) || endpoint.KeyMissing(cur.Endpoint)
	case delivery || endpoint.KeyMissing(cur.Endpoint) && d.Secret != "":
		ch.SetsKey = true
	}
	if ch.SetsKey {
		before := "set"
		if !found || endpoint.KeyMissing(cur.Endpoint) {
			before = "not set"
		}
		ch.Fields = append(ch.Fields, FieldChange{Field: "key", Before: before, After: "from " + cmp.Or(d.Secret, "(no reference)")})
	}
	ch.Prove = ch.SetsKey || delivery
	if ch.Prove && hasPurpose && !resolved {
		if d.Secret == "" {
			problem("secret", "This change is proved by a test message, which needs the endpoint's secret: add secret: "+SecretRefFor(after)+" and supply its value where the file is applied.")
		} else {
			out.problems = append(out.problems, Problem{Line: d.lineOf("secret"), Endpoint: d.Name, Field: "secret", MissingSecret: d.Secret,
				Message: "Supply the value of " + d.Secret + " (a key, a whole connection string or a SAS token): this change is proved by a test message before it is written."})
		}
	}

	// Who may do it, and whether the portal may change it at all.
	switch {
	case !found:
		if d.Team == "" {
			problem("team", "Write the team that will own the endpoint, e.g. team: Integration.")
		} else if err := env.Authorize(auth.ActionRegister, d.Team); err != nil {
			problem("team", "You may not register endpoints for this team here: "+err.Error()+".")
		}
	case ch.Action == Update || ch.SetsKey:
		if reason := endpoint.ReadOnlyReason(cur.Endpoint, nil); reason != "" && !(ch.Action == Unchanged) {
			problem("name", "The file changes this endpoint, but "+lowerFirst(reason))
		}
		if cur.Team == "" {
			if err := env.Authorize(auth.ActionAdopt, d.Team); err != nil {
				problem("team", "This endpoint was not registered through the portal; only Admins can give it a team.")
			}
		} else if err := env.Authorize(auth.ActionEdit, cur.Team); err != nil {
			problem("team", "You may not change this endpoint: "+err.Error()+".")
		}
		if d.Team != "" && d.Team != cur.Team {
			if err := env.Authorize(auth.ActionRegister, d.Team); err != nil {
				problem("team", "You may not give this endpoint to team "+d.Team+": "+err.Error()+".")
			}
		}
	}
	if len(out.problems) == 0 {
		check := after
		check.IsSASKeySet, check.IsSASTokenSet, check.IsAuthValueSet = true, true, true
		for _, pr := range check.ValidateFor(endpoint.ForUpdate) {
			problem(docField(pr.Field), pr.Message)
		}
	}

	// Steps.
	var curSteps []endpoint.Step
	if found {
		var err error
		if curSteps, err = env.Steps(ctx, cur.Endpoint.ID); err != nil {
			return out, fmt.Errorf("read the steps of %q: %w", cur.Endpoint.Name, err)
		}
	}
	if len(d.Steps) > 0 && msgErr != nil {
		problem("steps", "The messages steps are registered on could not be read from Dataverse ("+msgErr.Error()+"); plan again in a minute.")
	}
	stepChanges, stepProblems := planSteps(ctx, d, ch.ID, after, curSteps, env, msgs, newID)
	ch.Steps, out.problems = stepChanges, append(out.problems, stepProblems...)
	if cur.Endpoint.IsManaged && slices.ContainsFunc(ch.Steps, func(s StepChange) bool { return s.Action != Unchanged }) {
		problem("steps", "The file changes this endpoint's steps, but "+lowerFirst(endpoint.ReadOnlyReason(cur.Endpoint, nil)))
	}
	out.change = ch
	return out, nil
}

// docField is the document's name of an endpoint column.
func docField(column string) string {
	switch column {
	case endpoint.FieldContract:
		return "type"
	case endpoint.FieldNamespaceAddress, endpoint.FieldSolutionNamespace:
		return "namespace"
	case endpoint.FieldMessageFormat:
		return "messageFormat"
	case endpoint.FieldUserClaim:
		return "userInformation"
	case endpoint.FieldAuthType:
		return "auth"
	case endpoint.FieldSASKeyName:
		return "policy"
	case endpoint.FieldSASKey, endpoint.FieldSASToken, endpoint.FieldAuthValue:
		return "secret"
	}
	return column
}

// endpointDiff lists the document's fields that differ between two records.
func endpointDiff(a, b endpoint.ServiceEndpoint) []FieldChange {
	var out []FieldChange
	add := func(field, x, y string) {
		if x != y {
			out = append(out, FieldChange{Field: field, Before: x, After: y})
		}
	}
	add("name", a.Name, b.Name)
	add("type", a.Contract.Label(), b.Contract.Label())
	add("description", a.Description, b.Description)
	if strings.TrimSuffix(strings.ToLower(a.NamespaceAddress), "/") != strings.TrimSuffix(strings.ToLower(b.NamespaceAddress), "/") {
		add("namespace", a.NamespaceAddress, b.NamespaceAddress)
	}
	add("path", a.Path, b.Path)
	add("url", a.URL, b.URL)
	add("messageFormat", a.MessageFormat.Label(), b.MessageFormat.Label())
	add("userInformation", a.UserClaim.Label(), b.UserClaim.Label())
	add("auth", a.AuthType.Label(), b.AuthType.Label())
	add("policy", a.SASKeyName, b.SASKeyName)
	return out
}

// planSteps plans an endpoint's steps: the document's against the environment's, matched by
// id, then by name.
func planSteps(ctx context.Context, d Endpoint, epID string, ep endpoint.ServiceEndpoint, cur []endpoint.Step, env Environment,
	msgs []endpoint.Message, newID NewID) ([]StepChange, []Problem) {
	var (
		out      []StepChange
		problems []Problem
		matched  = map[string]bool{}
	)
	for _, ds := range d.Steps {
		i := slices.IndexFunc(cur, func(s endpoint.Step) bool { return ds.ID != "" && strings.EqualFold(s.ID, ds.ID) })
		if i < 0 {
			i = slices.IndexFunc(cur, func(s endpoint.Step) bool { return strings.EqualFold(s.Name, strings.TrimSpace(ds.Name)) })
		}
		st, probs := toStep(ds, d, epID, msgs)
		problems = append(problems, probs...)
		sc := StepChange{Name: st.Name}
		if i >= 0 {
			had := cur[i]
			matched[strings.ToLower(had.ID)] = true
			st.ID = had.ID
			st.Images = keepImageIDs(st.Images, had.Images)
			sc.ID, sc.Before, sc.After = had.ID, had, st
			if sc.Fields = stepDiff(had, st); len(sc.Fields) == 0 {
				sc.Action = Unchanged
			} else {
				sc.Action = Update
			}
		} else {
			st.ID = strings.ToLower(cmp.Or(ds.ID, newID()))
			sc.ID, sc.After, sc.Action = st.ID, st, Create
		}
		if len(probs) == 0 && sc.Action != Unchanged {
			sctx := endpoint.StepContext{Endpoint: ep, Message: endpoint.FindMessage(msgs, st.Message)}
			if st.Table != "" && (len(st.FilteringAttributes) > 0 || len(st.Images) > 0) {
				sctx.Columns, _ = env.Columns(ctx, st.Table)
			}
			for _, pr := range st.Validate(sctx) {
				problems = append(problems, Problem{Line: ds.line, Endpoint: d.Name, Field: "steps." + pr.Field, Message: "Step “" + st.Name + "”: " + pr.Message})
			}
		}
		out = append(out, sc)
	}
	for _, had := range cur {
		if !matched[strings.ToLower(had.ID)] {
			out = append(out, StepChange{Action: Delete, Name: had.Name, ID: had.ID, Before: had})
		}
	}
	return out, problems
}

// keepImageIDs gives the document's images the ids of the images they replace (same alias and
// type), so an unchanged image is not deleted and created again.
func keepImageIDs(want, had []endpoint.StepImage) []endpoint.StepImage {
	want = slices.Clone(want)
	for i := range want {
		for _, h := range had {
			if strings.EqualFold(h.Alias, want[i].Alias) && h.Type == want[i].Type {
				want[i].ID, want[i].Name = h.ID, h.Name
			}
		}
	}
	return want
}

// stepDiff lists the document's step fields that differ.
func stepDiff(a, b endpoint.Step) []FieldChange {
	var out []FieldChange
	add := func(field, x, y string) {
		if x != y {
			out = append(out, FieldChange{Field: field, Before: x, After: y})
		}
	}
	add("name", a.Name, b.Name)
	add("description", a.Description, b.Description)
	add("message", a.Message, b.Message)
	add("table", a.Table, b.Table)
	add("stage", a.Stage.Label(), b.Stage.Label())
	add("mode", a.Mode.Label(), b.Mode.Label())
	add("rank", strconv.Itoa(a.Rank), strconv.Itoa(b.Rank))
	add("filteringAttributes", strings.Join(a.FilteringAttributes, ","), strings.Join(b.FilteringAttributes, ","))
	add("runAs", strings.ToLower(a.RunAsUserID), strings.ToLower(b.RunAsUserID))
	add("asyncAutoDelete", strconv.FormatBool(a.AsyncAutoDelete), strconv.FormatBool(b.AsyncAutoDelete))
	add("state", a.State.Label(), b.State.Label())
	add("images", imagesText(a.Images), imagesText(b.Images))
	return out
}

func imagesText(ims []endpoint.StepImage) string {
	parts := make([]string, len(ims))
	for i, im := range ims {
		parts[i] = imageTypeWord(im.Type) + " " + im.Alias + " (" + strings.Join(im.Attributes, ",") + ")"
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}
