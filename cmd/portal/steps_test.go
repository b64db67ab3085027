package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/internal/pgtest"
	"github.com/contoso/sbportal/store"
)

// answer is a form post's status, body and redirect.
type answer struct {
	status   int
	body     string
	location string
}

func (c *formClient) send(method, path string, v url.Values) answer {
	c.t.Helper()
	var body io.Reader
	if v != nil {
		body = strings.NewReader(v.Encode())
	}
	req, err := http.NewRequest(method, c.w.front.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.forms.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(b), location: resp.Header.Get("Location")}
}

// mainText is the page's <main> with tags removed, short enough for a failure message.
func (a answer) mainText() string {
	s := a.body
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if i := strings.Index(s, "<form"); i >= 0 {
		s = s[:min(len(s), i+2000)]
	}
	return s
}

// savedEndpoint registers a queue endpoint through the wizard and returns its page's path.
func (c *formClient) savedEndpoint(name string) string {
	c.t.Helper()
	draft := c.validatedDraft(name)
	a := c.send(http.MethodPost, "/drafts/"+draft+"/review", url.Values{"nav": {"save"}})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/endpoints/contoso-dev/") {
		c.t.Fatalf("save %q: %d %q", name, a.status, a.location)
	}
	return a.location
}

// updateStepForm is a valid step: Update of account with two filtering attributes and a
// pre-image of one column.
func updateStepForm(stepID string) url.Values {
	return url.Values{"stepid": {stepID}, "message": {"Update"}, "table": {"account"}, "stage": {"40"}, "mode": {"1"},
		"rank": {"1"}, "runas": {"caller"}, "filteringattributes": {"name", "telephone1"},
		"preimage": {"1"}, "preimage.alias": {"PreImage"}, "preimage.attributes": {"name"}}
}

// stepAudit counts a step action's audit entries by outcome.
func stepAudit(t *testing.T, w *world, st *store.Store, action string) (pending, succeeded, failed int) {
	t.Helper()
	page, err := st.ListAudit(w.ctx, store.AuditFilter{Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Entries {
		switch e.Outcome {
		case store.AuditPending:
			pending++
		case store.AuditSucceeded:
			succeeded++
		case store.AuditFailed:
			failed++
		}
		if strings.Contains(string(e.Before)+string(e.After)+e.Detail, "SharedAccessKey") {
			t.Errorf("an audit entry of %s holds a secret", action)
		}
	}
	return
}

// TestStepLifecycle adds, resubmits, edits, disables, enables and deletes a step through the
// pages on two replicas sharing PostgreSQL: each change is one intent and
// one outcome in the audit trail, the step reaches the other replica's catalog, a resubmitted
// form adds nothing, and Dataverse holds what the pages say.
func TestStepLifecycle(t *testing.T) {
	w := newWorld(t)
	dsn := pgtest.NewDSN(t)
	st, _ := w.addPortal(t, dsn)
	w.addPortal(t, dsn)
	c := w.formsFor(t, "integration-registrar")
	ep := c.savedEndpoint("Steps lifecycle queue")
	w.refresh(t)
	dv := w.dv.Environments[0]
	env, _ := w.envs.Get("contoso-dev")
	epID := ep[strings.LastIndex(ep, "/")+1:]

	// Both replicas have read the (empty) steps, so each holds them in its cache.
	for i := range 2 {
		w.use(i)
		if a := c.send(http.MethodGet, ep, nil); a.status != 200 || !strings.Contains(a.body, "No steps") {
			t.Fatalf("replica %d: endpoint page %d, no-steps notice missing", i, a.status)
		}
	}

	w.use(0)
	if a := c.send(http.MethodGet, ep+"/steps/new", nil); a.status != 200 || !strings.Contains(a.body, `list="message-options"`) {
		t.Fatalf("the add-step form: %d", a.status)
	}
	// Choosing a message offers its tables, and suggests a name, without adding anything.
	creates := dv.RequestCount(http.MethodPost, "sdkmessageprocessingsteps")
	a := c.send(http.MethodPost, ep+"/steps/new", url.Values{"message": {"Update"}, "choices": {"1"}})
	if a.status != 200 || !strings.Contains(a.body, `<option value="account">`) || !strings.Contains(a.body, "Steps lifecycle queue: Update") {
		t.Fatalf("choices for Update: %d", a.status)
	}
	stepID := "3f2b7c1e-5d4a-4e8b-9c0d-1a2b3c4d5e6f"
	a = c.send(http.MethodPost, ep+"/steps/new", updateStepForm(stepID))
	if a.status != http.StatusSeeOther || !strings.HasSuffix(a.location, "/steps/"+stepID) {
		t.Fatalf("add step: %d %q\n%s", a.status, a.location, a.mainText())
	}
	// The same form submitted again (a double click, a reload) adds nothing.
	if a := c.send(http.MethodPost, ep+"/steps/new", updateStepForm(stepID)); a.status != http.StatusSeeOther {
		t.Fatalf("resubmitted add: %d", a.status)
	}
	if got := dv.RequestCount(http.MethodPost, "sdkmessageprocessingsteps") - creates; got != 1 {
		t.Errorf("%d step creates reached Dataverse, want 1", got)
	}
	steps, err := env.Client.EndpointSteps(w.ctx, epID)
	if err != nil || len(steps) != 1 {
		t.Fatalf("Dataverse holds %d steps (%v)", len(steps), err)
	}
	got := steps[0]
	if got.Message != "Update" || got.Table != "account" || got.Mode != endpoint.ModeAsynchronous || got.Stage != endpoint.StagePostOperation ||
		strings.Join(got.FilteringAttributes, ",") != "name,telephone1" || len(got.Images) != 1 || got.Images[0].Alias != "PreImage" ||
		got.Images[0].Type != endpoint.ImagePre || got.Name != "Steps lifecycle queue: Update of account" {
		t.Errorf("Dataverse holds %+v", got)
	}

	// The other replica shows the step within two seconds (the change log), though its cache
	// of this endpoint's steps was fresh.
	w.use(1)
	deadline := time.Now().Add(2 * time.Second)
	for {
		a := c.send(http.MethodGet, ep, nil)
		if strings.Contains(a.body, `href="`+ep+"/steps/"+stepID+`"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other replica does not show the new step after 2 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a := c.send(http.MethodGet, ep+"/steps/"+stepID, nil); a.status != 200 || !strings.Contains(a.body, "PreImage") {
		t.Fatalf("step page on the other replica: %d", a.status)
	}
	// Viewing steps again costs Dataverse nothing: the steps, the messages and the table's
	// columns come from the catalog.
	total := func() int {
		n := 0
		for _, r := range []string{"serviceendpoints()/serviceendpoint_sdkmessageprocessingstep", "sdkmessageprocessingsteps()",
			"sdkmessagefilters", "sdkmessages", "customapis", "EntityDefinitions()/Attributes"} {
			n += dv.RequestCount("", r)
		}
		return n
	}
	before := 0
	for i := range 11 {
		if i == 1 { // the first round reads the messages and the table's columns once
			before = total()
		}
		for _, path := range []string{ep, ep + "/steps/" + stepID, ep + "/steps/" + stepID + "/edit", ep + "/steps/new"} {
			if a := c.send(http.MethodGet, path, nil); a.status != 200 {
				t.Fatalf("GET %s: %d", path, a.status)
			}
		}
	}
	if got := total() - before; got != 0 {
		t.Errorf("40 step page views after the first cost %d Dataverse requests, want 0", got)
	}

	// Edit: no pre-image any more, a description.
	form := updateStepForm(stepID)
	form.Del("preimage")
	form.Set("description", "Account name and phone changes")
	form.Set("name", "Account name and phone")
	form.Set("runas", "user")
	form.Set("runasuser", "rita integration") // a user typed by name
	if a := c.send(http.MethodPost, ep+"/steps/"+stepID+"/edit", form); a.status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", a.status, a.mainText())
	}
	if s, err := env.Client.Step(w.ctx, stepID); err != nil || len(s.Images) != 0 || s.Description != "Account name and phone changes" ||
		s.Name != "Account name and phone" || s.RunAsUserID != dvemulator.SystemUserID("Rita Integration") {
		t.Errorf("after the edit Dataverse holds %+v (%v)", s, err)
	}
	if a := c.send(http.MethodGet, ep+"/steps/"+stepID, nil); !strings.Contains(a.body, "Rita Integration (") {
		t.Errorf("the step page does not name the user it runs as:\n%s", a.mainText())
	}

	// Disable, enable.
	for _, state := range []string{"disabled", "enabled"} {
		if a := c.send(http.MethodPost, ep+"/steps/"+stepID+"/state", url.Values{"state": {state}}); a.status != http.StatusSeeOther {
			t.Fatalf("%s: %d", state, a.status)
		}
		s, err := env.Client.Step(w.ctx, stepID)
		want := map[string]endpoint.StepState{"disabled": endpoint.StepDisabled, "enabled": endpoint.StepEnabled}[state]
		if err != nil || s.State != want {
			t.Errorf("after %s Dataverse holds state %v (%v)", state, s.State, err)
		}
	}

	// Delete needs the name typed.
	if a := c.send(http.MethodPost, ep+"/steps/"+stepID+"/delete", url.Values{"confirm": {"wrong"}}); a.status != http.StatusUnprocessableEntity {
		t.Fatalf("delete without the name: %d", a.status)
	}
	if a := c.send(http.MethodPost, ep+"/steps/"+stepID+"/delete", url.Values{"confirm": {"Account name and phone"}}); a.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", a.status)
	}
	if steps, err := env.Client.EndpointSteps(w.ctx, epID); err != nil || len(steps) != 0 {
		t.Errorf("after the delete Dataverse holds %d steps (%v)", len(steps), err)
	}
	if a := c.send(http.MethodGet, ep+"/steps/"+stepID, nil); a.status != http.StatusNotFound {
		t.Errorf("the deleted step's page answers %d", a.status)
	}

	for _, action := range []string{"step.create", "step.update", "step.disable", "step.enable", "step.delete"} {
		if p, s, f := stepAudit(t, w, st, action); p != 1 || s != 1 || f != 0 {
			t.Errorf("%s: %d intents, %d succeeded, %d failed; want one intent and one success", action, p, s, f)
		}
	}
}

// TestStepRulesBeforeDataverse: a step Dataverse would refuse is refused by the portal, on the
// right field, with everything typed kept, and never reaches Dataverse.
func TestStepRulesBeforeDataverse(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	c := w.formsFor(t, "integration-registrar")
	ep := c.savedEndpoint("Steps rules queue")
	dv := w.dv.Environments[0]
	before := dv.RequestCount(http.MethodPost, "sdkmessageprocessingsteps")
	cases := []struct {
		name  string
		edit  func(url.Values)
		field string
	}{
		{"synchronous on a queue", func(v url.Values) { v.Set("mode", "0") }, "mode-error"},
		{"asynchronous in pre-operation", func(v url.Values) { v.Set("stage", "20") }, "stage-error"},
		{"filtering attributes on Create", func(v url.Values) { v.Set("message", "Create"); v.Del("preimage") }, "filteringattributes-error"},
		{"a table the message does not offer", func(v url.Values) { v.Set("table", "nosuchtable") }, "table-error"},
		{"a pre-image without an alias", func(v url.Values) { v.Set("preimage.alias", "") }, "preimage.alias-error"},
		{"a column that is not the table's", func(v url.Values) { v["filteringattributes"] = []string{"nosuchcolumn"} }, "filteringattributes-error"},
		{"a message that allows no steps", func(v url.Values) { v.Set("message", "NoSuchMessage") }, "message-error"},
		{"an execution order that is not a number", func(v url.Values) { v.Set("rank", "first") }, "rank-error"},
		{"run as someone who is not a user", func(v url.Values) { v.Set("runas", "user"); v.Set("runasuser", "rita") }, "runasuser-error"},
		{"run as an id no user has", func(v url.Values) {
			v.Set("runas", "user")
			v.Set("runasuser", "00000000-0000-4000-8000-000000000999")
		}, "runasuser-error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := updateStepForm("6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
			v.Set("description", "kept as typed")
			tc.edit(v)
			a := c.send(http.MethodPost, ep+"/steps/new", v)
			if a.status != http.StatusUnprocessableEntity {
				t.Fatalf("answered %d, want 422", a.status)
			}
			if !strings.Contains(a.body, `id="`+tc.field+`"`) {
				t.Errorf("no %s on the form:\n%s", tc.field, a.mainText())
			}
			if !strings.Contains(a.body, "kept as typed") {
				t.Error("the description typed was lost")
			}
		})
	}
	if got := dv.RequestCount(http.MethodPost, "sdkmessageprocessingsteps"); got != before {
		t.Errorf("%d refused steps reached Dataverse", got-before)
	}
}

// TestStepPermissions: steps belong to the endpoint's owning team: a Viewer of that team and a
// Registrar of another team cannot add, change or delete them.
func TestStepPermissions(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	owner := w.formsFor(t, "integration-registrar")
	ep := owner.savedEndpoint("Steps permissions queue")
	stepID := "7b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
	if a := owner.send(http.MethodPost, ep+"/steps/new", updateStepForm(stepID)); a.status != http.StatusSeeOther {
		t.Fatalf("add step: %d", a.status)
	}
	for _, persona := range []string{"integration-viewer", "finance-registrar"} {
		c := w.formsFor(t, persona)
		for _, req := range []struct {
			method, path string
			form         url.Values
		}{
			{http.MethodGet, ep + "/steps/new", nil},
			{http.MethodPost, ep + "/steps/new", updateStepForm("8c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f")},
			{http.MethodPost, ep + "/steps/" + stepID + "/state", url.Values{"state": {"disabled"}}},
			{http.MethodPost, ep + "/steps/" + stepID + "/delete", url.Values{"confirm": {"Steps permissions queue: Update of account"}}},
		} {
			if a := c.send(req.method, req.path, req.form); a.status != http.StatusForbidden && a.status != http.StatusNotFound {
				t.Errorf("%s: %s %s answered %d", persona, req.method, req.path, a.status)
			}
		}
	}
	env, _ := w.envs.Get("contoso-dev")
	s, err := env.Client.Step(w.ctx, stepID)
	if err != nil || s.State != endpoint.StepEnabled {
		t.Errorf("after the refused requests the step is %+v (%v)", s, err)
	}
}

// TestStepChangeWhoseAnswerWasLost: Dataverse adds the step but its answer never arrives (and
// the retries find Dataverse unavailable), so the step's image is never written. The recoverer
// records that honestly; the same form submitted again finishes the step, with nothing twice.
func TestStepChangeWhoseAnswerWasLost(t *testing.T) {
	w := newWorld(t)
	st, _ := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	c := w.formsFor(t, "integration-registrar")
	ep := c.savedEndpoint("Steps lost answer queue")
	dv := w.dv.Environments[0]
	env, _ := w.envs.Get("contoso-dev")
	stepID := "9d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a"
	dv.InjectFault(dvemulator.Fault{Method: http.MethodPost, Path: "sdkmessageprocessingsteps", DropResponse: true})
	dv.InjectFault(dvemulator.Fault{Method: http.MethodPost, Path: "sdkmessageprocessingsteps", Status: http.StatusServiceUnavailable, Times: 20})
	a := c.send(http.MethodPost, ep+"/steps/new", updateStepForm(stepID))
	dv.ClearFaults()
	if a.status < 500 {
		t.Fatalf("the add whose answer was lost answered %d", a.status)
	}
	if !strings.Contains(a.body, "kept") || !strings.Contains(a.body, `value="`+stepID+`"`) {
		t.Errorf("the form did not come back with what was typed:\n%s", a.mainText())
	}
	if p, s, _ := stepAudit(t, w, st, "step.create"); p != 1 || s != 0 {
		t.Fatalf("before recovery: %d intents, %d succeeded", p, s)
	}
	if err := w.servers[0].RecoverOnce(w.ctx, 0); err != nil {
		t.Fatal(err)
	}
	page, err := st.ListAudit(w.ctx, store.AuditFilter{Action: "step.create", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if p, s, f := stepAudit(t, w, st, "step.create"); p != 1 || s != 0 || f != 1 || !strings.Contains(page.Entries[0].Detail, "Submit the form again") {
		t.Fatalf("after recovery: %d intents, %d succeeded, %d failed (%q); want the half-made step reported", p, s, f, page.Entries[0].Detail)
	}
	// Submitting the same form again finishes the step: one step, with its image.
	if a := c.send(http.MethodPost, ep+"/steps/new", updateStepForm(stepID)); a.status != http.StatusSeeOther {
		t.Fatalf("the resubmitted form answered %d\n%s", a.status, a.mainText())
	}
	steps, err := env.Client.EndpointSteps(w.ctx, ep[strings.LastIndex(ep, "/")+1:])
	if err != nil || len(steps) != 1 || len(steps[0].Images) != 1 {
		t.Fatalf("Dataverse holds %+v (%v); want one step with its pre-image", steps, err)
	}
	if p, s, f := stepAudit(t, w, st, "step.create"); p != 2 || s != 1 || f != 1 {
		t.Errorf("after the resubmit: %d intents, %d succeeded, %d failed", p, s, f)
	}
}
