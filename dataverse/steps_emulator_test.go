package dataverse_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/endpoint"
)

func TestStepMessages(t *testing.T) {
	s := newStack(t)
	msgs, err := s.client.StepMessages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]endpoint.Message{}
	for _, m := range msgs {
		byName[m.Name] = m
	}
	if !slices.IsSortedFunc(msgs, func(a, b endpoint.Message) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	}) {
		t.Errorf("messages not sorted by name")
	}
	update, ok := byName["Update"]
	if !ok || update.CustomAPI || update.ID != emulator.MessageID("Update") {
		t.Fatalf("Update = %+v", update)
	}
	var tables []string
	for _, f := range update.Filters {
		tables = append(tables, f.Table)
		if !f.CustomStepAllowed {
			t.Errorf("filter %+v listed though custom steps are not allowed", f)
		}
	}
	if want := []string{"account", "contact", "contoso_shipment", "incident"}; !slices.Equal(tables, want) {
		t.Errorf("Update tables = %v, want %v (sdkmessageprocessingstep refuses custom steps)", tables, want)
	}
	if _, ok := byName["RetrieveEntity"]; ok {
		t.Error("RetrieveEntity listed though none of its filters allows custom steps")
	}
	if a := byName["contoso_ApproveShipment"]; !a.CustomAPI || len(a.Filters) != 1 || a.Filters[0].Table != "contoso_shipment" {
		t.Errorf("bound custom API = %+v", a)
	}
	if a, ok := byName["contoso_RecalculateRoutes"]; !ok || !a.CustomAPI || len(a.Filters) != 0 {
		t.Errorf("unbound custom API = %+v", a)
	}
	if n := s.org.RequestCount("GET", "sdkmessagefilters") + s.org.RequestCount("GET", "sdkmessages") + s.org.RequestCount("GET", "customapis"); n != 3 {
		t.Errorf("StepMessages cost %d requests, want 3", n)
	}
}

func TestTableColumns(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	cols, err := s.client.TableColumns(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) < 20 {
		t.Fatalf("%d columns", len(cols))
	}
	find := func(name string) (endpoint.Column, bool) {
		i := slices.IndexFunc(cols, func(c endpoint.Column) bool { return c.LogicalName == name })
		if i < 0 {
			return endpoint.Column{}, false
		}
		return cols[i], true
	}
	if c, ok := find("telephone1"); !ok || c.DisplayName != "Main Phone" || c.Type != "String" || !c.ValidForUpdate {
		t.Errorf("telephone1 = %+v", c)
	}
	if c, ok := find("createdon"); !ok || c.ValidForUpdate {
		t.Errorf("createdon = %+v", c)
	}
	for _, skipped := range []string{"owneridname", "statecodename", "entityimage", "revenue_base"} {
		if _, ok := find(skipped); ok {
			t.Errorf("%s listed though it is not a column of its own", skipped)
		}
	}
	if !slices.IsSortedFunc(cols, func(a, b endpoint.Column) int {
		return strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName))
	}) {
		t.Error("columns not sorted by display name")
	}
	for _, bad := range []string{"Account", "account')/x", "", "a b"} {
		if _, err := s.client.TableColumns(ctx, bad); !errors.Is(err, dataverse.Invalid) {
			t.Errorf("table %q: %v, want Invalid", bad, err)
		}
	}
	if _, err := s.client.TableColumns(ctx, "nosuchtable"); !errors.Is(err, dataverse.NotFound) {
		t.Errorf("unknown table: %v, want NotFound", err)
	}
}

func stepOn(epID, message, table string) endpoint.Step {
	return endpoint.Step{
		ID: dataverse.NewGUID(), EndpointID: epID, Name: message + " of " + table, Description: "test step",
		Message: message, MessageID: emulator.MessageID(message), Table: table, FilterID: emulator.FilterID(message, table),
		Stage: endpoint.StagePostOperation, Mode: endpoint.ModeAsynchronous, Rank: 1,
	}
}

// withoutServerColumns drops what Dataverse sets itself.
func withoutServerColumns(st endpoint.Step) endpoint.Step {
	st.IsManaged = false
	st.CreatedOn, st.ModifiedOn = time.Time{}, time.Time{}
	return st
}

func TestStepLifecycle(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	ep, err := s.client.CreateEndpoint(ctx, queueEndpoint("steps"), dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := stepOn(ep.ID, "Update", "account")
	st.FilteringAttributes = []string{"name", "telephone1"}
	st.AsyncAutoDelete = true
	st.RunAsUserID = emulator.SystemUserID("Rita Integration")
	st.Images = []endpoint.StepImage{{Type: endpoint.ImagePre, Alias: "PreImage", Attributes: []string{"name"}, MessageProperty: "Target"}}
	if err := s.client.CreateStep(ctx, st); err != nil {
		t.Fatal(err)
	}
	want := st
	want.Images = []endpoint.StepImage{{ID: dataverse.StepImageID(st.ID, "PreImage", endpoint.ImagePre), Type: endpoint.ImagePre,
		Alias: "PreImage", Name: "PreImage", Attributes: []string{"name"}, MessageProperty: "Target"}}

	before := s.org.RequestCount("GET", "serviceendpoints()/serviceendpoint_sdkmessageprocessingstep")
	listed, err := s.client.EndpointSteps(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.org.RequestCount("", "serviceendpoints()/serviceendpoint_sdkmessageprocessingstep") - before; n != 1 {
		t.Errorf("EndpointSteps cost %d requests, want 1", n)
	}
	if len(listed) != 1 || listed[0].CreatedOn.IsZero() {
		t.Fatalf("listed = %+v", listed)
	}
	if got := withoutServerColumns(listed[0]); !reflect.DeepEqual(got, withoutServerColumns(want)) {
		t.Fatalf("listed step\n got %+v\nwant %+v", got, want)
	}
	one, err := s.client.Step(ctx, st.ID)
	if err != nil || !reflect.DeepEqual(withoutServerColumns(one), withoutServerColumns(want)) {
		t.Fatalf("Step = %+v, %v", one, err)
	}

	// Update: change the pre image's columns, add a post image, then drop the pre image.
	next := one
	next.Description = ""
	next.FilteringAttributes = nil
	next.Images = []endpoint.StepImage{one.Images[0], {Type: endpoint.ImagePost, Alias: "PostImage", MessageProperty: "Target"}}
	next.Images[0].Attributes = []string{"name", "address1_city"}
	if err := s.client.UpdateStep(ctx, next, one); err != nil {
		t.Fatal(err)
	}
	got, err := s.client.Step(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Description != "" || got.FilteringAttributes != nil || len(got.Images) != 2 ||
		!slices.Equal(got.Images[1].Attributes, []string{"name", "address1_city"}) || got.Images[0].Alias != "PostImage" {
		t.Fatalf("after update: %+v", got)
	}
	last := got
	last.Images = got.Images[:1]
	if err := s.client.UpdateStep(ctx, last, got); err != nil {
		t.Fatal(err)
	}
	if n := s.org.Count("sdkmessageprocessingstepimages"); n != 1 {
		t.Fatalf("%d images, want 1", n)
	}

	if err := s.client.SetStepState(ctx, st.ID, endpoint.StepDisabled); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.client.Step(ctx, st.ID); got.State != endpoint.StepDisabled {
		t.Fatalf("state = %v after disabling", got.State)
	}
	if err := s.client.SetStepState(ctx, st.ID, endpoint.StepEnabled); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.client.Step(ctx, st.ID); got.State != endpoint.StepEnabled {
		t.Fatalf("state = %v after enabling", got.State)
	}

	if err := s.client.DeleteStep(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if s.org.Count("sdkmessageprocessingsteps") != 0 || s.org.Count("sdkmessageprocessingstepimages") != 0 {
		t.Fatal("the step or its images survived its deletion")
	}
	if _, err := s.client.Step(ctx, st.ID); !errors.Is(err, dataverse.NotFound) {
		t.Fatalf("deleted step: %v", err)
	}
}

func TestStepCreateRetriedMakesOneRecord(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	ep, err := s.client.CreateEndpoint(ctx, queueEndpoint("retries"), dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.org.InjectFault(emulator.Fault{Method: "POST", Path: "sdkmessageprocessingsteps", DropResponse: true})
	s.org.InjectFault(emulator.Fault{Method: "POST", Path: "sdkmessageprocessingstepimages", DropResponse: true})
	st := stepOn(ep.ID, "Delete", "contact")
	st.Images = []endpoint.StepImage{{Type: endpoint.ImagePre, Alias: "Before", MessageProperty: "Target"}}
	if err := s.client.CreateStep(ctx, st); err != nil {
		t.Fatalf("create with lost answers: %v", err)
	}
	if s.org.Count("sdkmessageprocessingsteps") != 1 || s.org.Count("sdkmessageprocessingstepimages") != 1 {
		t.Fatalf("%d steps, %d images, want 1 and 1", s.org.Count("sdkmessageprocessingsteps"), s.org.Count("sdkmessageprocessingstepimages"))
	}
}

func TestStepRulesRefused(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	queue, err := s.client.CreateEndpoint(ctx, queueEndpoint("queue"), dataverse.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hook := endpoint.ServiceEndpoint{Name: "hook", URL: "https://hooks.contoso.example/x", Contract: endpoint.ContractWebhook,
		ConnectionMode: endpoint.ConnectionModeNormal, UserClaim: endpoint.UserClaimNone, MessageFormat: endpoint.MessageFormatJSON,
		AuthType: endpoint.AuthTypeWebhookKey, AuthValue: endpoint.NewSecret("hook-key")}
	if hook, err = s.client.CreateEndpoint(ctx, hook, dataverse.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A synchronous pre-operation step is fine on a webhook.
	sync := stepOn(hook.ID, "Update", "account")
	sync.Stage, sync.Mode = endpoint.StagePreOperation, endpoint.ModeSynchronous
	if err := s.client.CreateStep(ctx, sync); err != nil {
		t.Fatalf("synchronous webhook step: %v", err)
	}
	cases := map[string]func(*endpoint.Step){
		"filter of another message":  func(st *endpoint.Step) { st.FilterID = emulator.FilterID("Create", "account") },
		"custom steps not allowed":   func(st *endpoint.Step) { st.FilterID = emulator.FilterID("Update", "sdkmessageprocessingstep") },
		"asynchronous pre-operation": func(st *endpoint.Step) { st.Stage = endpoint.StagePreOperation },
		"synchronous on service bus": func(st *endpoint.Step) { st.Mode = endpoint.ModeSynchronous },
		"auto-delete when synchronous": func(st *endpoint.Step) {
			st.EndpointID, st.Mode, st.AsyncAutoDelete = hook.ID, endpoint.ModeSynchronous, true
		},
		"unknown filtering attribute": func(st *endpoint.Step) { st.FilteringAttributes = []string{"name", "nosuchcolumn"} },
		"post image in pre-operation": func(st *endpoint.Step) {
			st.EndpointID, st.Mode, st.Stage = hook.ID, endpoint.ModeSynchronous, endpoint.StagePreOperation
			st.Images = []endpoint.StepImage{{Type: endpoint.ImagePost, Alias: "Post", MessageProperty: "Target"}}
		},
		"image without alias": func(st *endpoint.Step) {
			st.Images = []endpoint.StepImage{{Type: endpoint.ImagePre, MessageProperty: "Target"}}
		},
		"pre image of Create": func(st *endpoint.Step) {
			st.Message, st.MessageID, st.FilterID = "Create", emulator.MessageID("Create"), emulator.FilterID("Create", "account")
			st.Images = []endpoint.StepImage{{Type: endpoint.ImagePre, Alias: "Pre", MessageProperty: "id"}}
		},
		"image of a message without images": func(st *endpoint.Step) {
			st.Message, st.MessageID, st.FilterID = "Retrieve", emulator.MessageID("Retrieve"), emulator.FilterID("Retrieve", "account")
			st.Images = []endpoint.StepImage{{Type: endpoint.ImagePre, Alias: "Pre", MessageProperty: "Target"}}
		},
	}
	for name, change := range cases {
		st := stepOn(queue.ID, "Update", "account")
		change(&st)
		err := s.client.CreateStep(ctx, st)
		var de *dataverse.Error
		if !errors.As(err, &de) || de.Kind != dataverse.Invalid || de.Code != "0x80040203" || de.Message == "" {
			t.Errorf("%s: %v, want Invalid 0x80040203", name, err)
			continue
		}
		if len(st.Images) > 0 && !strings.Contains(de.Message, "the step was created, but its image") {
			t.Errorf("%s: %q does not say the step was created", name, de.Message)
		}
	}
	// Updates are checked too: a step with a post image cannot move to pre-operation.
	withPost := stepOn(hook.ID, "Update", "contact")
	withPost.Mode = endpoint.ModeSynchronous
	withPost.Images = []endpoint.StepImage{{Type: endpoint.ImagePost, Alias: "Post", MessageProperty: "Target"}}
	if err := s.client.CreateStep(ctx, withPost); err != nil {
		t.Fatal(err)
	}
	got, err := s.client.Step(ctx, withPost.ID)
	if err != nil {
		t.Fatal(err)
	}
	moved := got
	moved.Stage = endpoint.StagePreOperation
	if err := s.client.UpdateStep(ctx, moved, got); !errors.Is(err, dataverse.Invalid) {
		t.Errorf("moving a step with a post image to pre-operation: %v, want Invalid", err)
	}
}
