package plan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/contoso/sbportal/endpoint"
)

// Writer carries out a plan's changes. The portal's implementation takes every change through
// the same path as its pages: validated, proved where it touches a destination or a secret,
// audited (intent before the Dataverse call, outcome after, every entry of one apply sharing
// one change-set id), and told to the catalog.
type Writer interface {
	// Prove sends a test message through e (holding its secret); a failed test is a Proof with
	// Passed false, an error is a test that could not be run at all.
	Prove(ctx context.Context, e endpoint.ServiceEndpoint, emulator bool) (Proof, error)
	// CreateEndpoint creates e (holding its secret) for team; creating an id that exists with
	// the same values is no error.
	CreateEndpoint(ctx context.Context, e endpoint.ServiceEndpoint, team string) error
	// UpdateEndpoint writes after over before; after holds a secret when the key is written.
	UpdateEndpoint(ctx context.Context, before, after endpoint.ServiceEndpoint) error
	// SetTeam makes team the endpoint's owner.
	SetTeam(ctx context.Context, e endpoint.ServiceEndpoint, team string) error
	DeleteEndpoint(ctx context.Context, e endpoint.ServiceEndpoint) error
	CreateStep(ctx context.Context, ep endpoint.ServiceEndpoint, st endpoint.Step) error
	UpdateStep(ctx context.Context, ep endpoint.ServiceEndpoint, before, after endpoint.Step) error
	DeleteStep(ctx context.Context, ep endpoint.ServiceEndpoint, st endpoint.Step) error
}

// Proof is the outcome of a test message.
type Proof struct {
	Passed  bool
	Summary string // what happened, in words (no secret)
	Fix     string // what to do when it failed
}

// Outcome is one change of an apply: done, not done, or the one that failed.
type Outcome struct {
	Action   Action `json:"action"`
	Endpoint string `json:"endpoint"`
	Step     string `json:"step,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

func (o Outcome) String() string {
	s := string(o.Action) + " endpoint “" + o.Endpoint + "”"
	if o.Step != "" {
		s = string(o.Action) + " step “" + o.Step + "” of “" + o.Endpoint + "”"
	}
	if o.Detail != "" {
		s += ": " + o.Detail
	}
	return s
}

// Result says what an apply did: Done in order, then the change that failed (nil when none)
// and the changes not made.
type Result struct {
	Done    []Outcome `json:"done"`
	Failed  *Outcome  `json:"failed,omitempty"`
	NotDone []Outcome `json:"notDone,omitempty"`
}

// ErrProblems is returned by Apply for a plan that has problems: nothing was done.
var ErrProblems = errors.New("the plan has problems; fix the file and plan again")

// Apply carries out p through w. First every endpoint the plan proves is proved with its
// resolved secret: one failure and nothing is written, the result naming the endpoint and why.
// Then the changes are written in the plan's order (endpoints and their steps, deletions
// last); the first failure stops the apply, and the result says what was done and what was
// not. Applying a plan made again after a successful apply changes nothing.
func Apply(ctx context.Context, p Plan, secrets Secrets, w Writer) (Result, error) {
	var res Result
	if len(p.Problems) > 0 {
		return res, ErrProblems
	}
	type work struct {
		outcome Outcome
		do      func(context.Context) error
	}
	var (
		queue   []work
		deletes []work
	)
	withSecret := map[string]endpoint.ServiceEndpoint{}
	// Prove first: nothing is written until every change that needs it has passed.
	for _, c := range p.Endpoints {
		if !c.Prove {
			continue
		}
		e, emulator, err := withResolvedSecret(c, secrets)
		if err != nil {
			res.Failed = &Outcome{Action: c.Action, Endpoint: c.Name, Detail: err.Error()}
			res.NotDone = allChanges(p)
			return res, nil
		}
		proof, err := w.Prove(ctx, e, emulator)
		if err != nil {
			return res, fmt.Errorf("prove %q: %w", c.Name, err)
		}
		if !proof.Passed {
			detail := "the test message failed: " + proof.Summary
			if proof.Fix != "" {
				detail += " " + proof.Fix
			}
			res.Failed = &Outcome{Action: c.Action, Endpoint: c.Name, Detail: detail + " Nothing was written."}
			res.NotDone = allChanges(p)
			return res, nil
		}
		withSecret[c.ID] = e
	}
	for _, c := range p.Endpoints {
		c := c
		after := c.After
		if e, ok := withSecret[c.ID]; ok {
			after = e
		}
		switch {
		case c.Action == Create:
			queue = append(queue, work{Outcome{Action: Create, Endpoint: c.Name}, func(ctx context.Context) error {
				return w.CreateEndpoint(ctx, after, c.Team)
			}})
		case c.Action == Delete:
			deletes = append(deletes, work{Outcome{Action: Delete, Endpoint: c.Name}, func(ctx context.Context) error {
				return w.DeleteEndpoint(ctx, c.Before)
			}})
			continue // its steps go with it
		case c.Action == Update && c.TeamChange && !c.SetsKey:
		case c.Action == Update || c.SetsKey:
			o := Outcome{Action: Update, Endpoint: c.Name, Detail: fieldNames(c.Fields)}
			queue = append(queue, work{o, func(ctx context.Context) error { return w.UpdateEndpoint(ctx, c.Before, after) }})
		}
		if c.Action == Update && slices.ContainsFunc(c.Fields, func(f FieldChange) bool { return f.Field == "team" }) {
			queue = append(queue, work{Outcome{Action: Update, Endpoint: c.Name, Detail: "team " + c.Team}, func(ctx context.Context) error {
				return w.SetTeam(ctx, after, c.Team)
			}})
		}
		for _, s := range c.Steps {
			s := s
			o := Outcome{Action: s.Action, Endpoint: c.Name, Step: s.Name}
			switch s.Action {
			case Create:
				queue = append(queue, work{o, func(ctx context.Context) error { return w.CreateStep(ctx, after, s.After) }})
			case Update:
				o.Detail = fieldNames(s.Fields)
				queue = append(queue, work{o, func(ctx context.Context) error { return w.UpdateStep(ctx, after, s.Before, s.After) }})
			case Delete:
				deletes = append([]work{{o, func(ctx context.Context) error { return w.DeleteStep(ctx, after, s.Before) }}}, deletes...)
			}
		}
	}
	queue = append(queue, deletes...)
	for i, wk := range queue {
		if err := wk.do(ctx); err != nil {
			failed := wk.outcome
			failed.Detail = err.Error()
			res.Failed = &failed
			for _, rest := range queue[i+1:] {
				res.NotDone = append(res.NotDone, rest.outcome)
			}
			return res, nil
		}
		res.Done = append(res.Done, wk.outcome)
	}
	return res, nil
}

// withResolvedSecret is the change's endpoint holding its secret, read from the resolved
// reference the way the pages read a pasted one.
func withResolvedSecret(c EndpointChange, secrets Secrets) (endpoint.ServiceEndpoint, bool, error) {
	value, ok := resolve(secrets, c.SecretRef)
	if !ok {
		return c.After, false, fmt.Errorf("the value of %s was not supplied", cmp.Or(c.SecretRef, "its secret"))
	}
	return readSecret(c.After, c.SecretRef, value)
}

// readSecret reads a reference's value into e the way the pages read a pasted credential: a
// key, a whole connection string (its policy must be e's) or a SAS token; webhook values as a
// key or name=value lines. The error names the reference, never the value.
func readSecret(e endpoint.ServiceEndpoint, ref string, value endpoint.Secret) (endpoint.ServiceEndpoint, bool, error) {
	in := endpoint.CredentialInput{ConnectionString: value}
	if endpoint.KindOf(e) == endpoint.KindWebhook {
		in = endpoint.CredentialInput{WebhookKey: value}
		if e.AuthType != endpoint.AuthTypeWebhookKey {
			in = endpoint.CredentialInput{PairLines: value}
		}
	}
	got, facts, problems := endpoint.SetKey(e, in)
	if problems != nil {
		return e, false, fmt.Errorf("the value of %s cannot be used: %s", ref, problemText(problems))
	}
	if problems := got.Validate(); problems != nil {
		return e, false, fmt.Errorf("with the value of %s: %s", ref, problemText(problems))
	}
	return got, facts.Emulator || endpoint.IsEmulatorAddress(got.NamespaceAddress), nil
}

func problemText(p endpoint.Problems) string {
	msgs := make([]string, len(p))
	for i, pr := range p {
		msgs[i] = pr.Message
	}
	return strings.Join(msgs, " ")
}

func fieldNames(fs []FieldChange) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Field
	}
	return strings.Join(names, ", ")
}

// allChanges lists every change of a plan, for a result where nothing was done.
func allChanges(p Plan) []Outcome {
	var out []Outcome
	for _, c := range p.Endpoints {
		if c.Action != Unchanged || c.SetsKey {
			out = append(out, Outcome{Action: cmp.Or(map[bool]Action{true: Update}[c.Action == Unchanged], c.Action), Endpoint: c.Name})
		}
		for _, s := range c.Steps {
			if s.Action != Unchanged && c.Action != Delete {
				out = append(out, Outcome{Action: s.Action, Endpoint: c.Name, Step: s.Name})
			}
		}
	}
	return out
}

// Export is the document of an environment's endpoints that keep says to include (every
// endpoint when nil), with their steps, sorted by name; teams lists the teams it describes in
// full (see Document.Teams).
func Export(ctx context.Context, env Environment, teams []string, keep func(Current) bool) (Document, error) {
	doc := Document{Version: FormatVersion, Teams: teams, Endpoints: []Endpoint{}}
	current, err := env.Endpoints(ctx)
	if err != nil {
		return doc, fmt.Errorf("read the endpoints of %s: %w", env.ID(), err)
	}
	for _, c := range current {
		if keep != nil && !keep(c) {
			continue
		}
		steps, err := env.Steps(ctx, c.Endpoint.ID)
		if err != nil {
			return doc, fmt.Errorf("read the steps of %q: %w", c.Endpoint.Name, err)
		}
		doc.Endpoints = append(doc.Endpoints, fromEndpoint(c.Endpoint, c.Team, steps))
	}
	slices.SortFunc(doc.Endpoints, func(a, b Endpoint) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return doc, nil
}
