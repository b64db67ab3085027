package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/sample"
	"github.com/contoso/sbportal/web"
)

// loadStep loads the endpoint named in the URL, checks that the signed-in person may perform
// a on it, and finds the step named in the URL among its steps (from the catalog's cache).
func (s *Server) loadStep(r *http.Request, a auth.Action) (auth.Identity, catalogEntry, web.EndpointView, endpoint.Step, error) {
	id, c, v, err := s.loadForAction(r, a)
	if err != nil {
		return id, c, v, endpoint.Step{}, err
	}
	steps, err := s.Catalog.Steps(r.Context(), c.Env.ID, c.Endpoint.ID)
	if err != nil {
		return id, c, v, endpoint.Step{}, dataverseError("The steps of "+c.Endpoint.Name+" could not be read", err)
	}
	want := strings.ToLower(chi.URLParam(r, "step"))
	i := slices.IndexFunc(steps, func(st endpoint.Step) bool { return strings.ToLower(st.ID) == want })
	if i < 0 {
		return id, c, v, endpoint.Step{}, &Error{Status: http.StatusNotFound, Title: "Step not found",
			Message: c.Endpoint.Name + " has no step with this id. It may have been deleted, in the portal or outside it. See the endpoint's steps."}
	}
	return id, c, v, steps[i], nil
}

// stepShow renders a step's page.
func (s *Server) stepShow(w http.ResponseWriter, r *http.Request) error {
	id, c, v, st, err := s.loadStep(r, auth.ActionView)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, web.StepPage(s.page(w, r, st.Name, web.NavEndpoints), s.stepView(r, id, c, v, st)))
	return nil
}

// stepView builds a step's page: its settings, images, and the sample it would send.
func (s *Server) stepView(r *http.Request, id auth.Identity, c catalogEntry, v web.EndpointView, st endpoint.Step) web.StepView {
	sv := web.StepView{Endpoint: v, ID: st.ID, Name: st.Name, Enabled: st.State == endpoint.StepEnabled,
		CanEdit: v.CanEdit, CanTest: v.CanTest, KeyStored: v.KeyStored}
	table := st.Table
	if table == "" {
		table = "none (a global message)"
	}
	filtering := "Any column (no filter)"
	if len(st.FilteringAttributes) > 0 {
		filtering = strings.Join(st.FilteringAttributes, ", ")
	}
	runAs := "Calling user"
	if st.RunAsUserID != "" {
		runAs = "User " + st.RunAsUserID
		users, _ := s.Catalog.Users(r.Context(), c.Env.ID)
		for _, u := range users {
			if u.ID == strings.ToLower(st.RunAsUserID) {
				runAs = u.FullName + " (" + u.ID + ")"
			}
		}
	}
	sv.Fields = []web.Fact{
		{Label: "Message", Value: st.Message},
		{Label: "Table", Value: table},
		{Label: "Stage", Value: st.Stage.Label()},
		{Label: "Execution mode", Value: st.Mode.Label()},
		{Label: "State", Value: st.State.Label()},
		{Label: "Execution order", Value: strconv.Itoa(st.Rank)},
		{Label: "Filtering attributes", Value: filtering},
		{Label: "Run in user's context", Value: runAs},
		{Label: "Delete async job if successful", Value: yesNo(st.AsyncAutoDelete)},
	}
	if st.Description != "" {
		sv.Fields = append(sv.Fields, web.Fact{Label: "Description", Value: st.Description})
	}
	sv.Fields = append(sv.Fields, web.Fact{Label: "Step id", Value: st.ID})
	if st.IsManaged {
		sv.Fields = append(sv.Fields, web.Fact{Label: "Managed", Value: "Yes: part of a managed solution"})
	}
	if !st.ModifiedOn.IsZero() {
		sv.Fields = append(sv.Fields, web.Fact{Label: "Modified", Value: web.DateTime(st.ModifiedOn)})
	}
	for _, im := range st.Images {
		cols := "All columns"
		if len(im.Attributes) > 0 {
			cols = strings.Join(im.Attributes, ", ")
		}
		sv.Images = append(sv.Images, web.StepImageRow{Type: im.Type.Label(), Alias: im.Alias, Columns: cols})
	}
	msg := s.sampleOf(r, id, c, st)
	sv.Sample = samplePreview(c.Endpoint, msg)
	return sv
}

// sampleOf builds the sample message of a step, with the table's columns when the catalog
// has them (for plausible values).
func (s *Server) sampleOf(r *http.Request, id auth.Identity, c catalogEntry, st endpoint.Step) sample.Message {
	var cols []endpoint.Column
	if st.Table != "" {
		cols, _ = s.Catalog.Columns(r.Context(), c.Env.ID, st.Table)
	}
	org := c.Env.URL
	if u, err := url.Parse(c.Env.URL); err == nil && u.Host != "" {
		org, _, _ = strings.Cut(u.Hostname(), ".")
	}
	return sample.Build(sample.Input{Endpoint: c.Endpoint, Step: st, Columns: cols, OrganizationName: org,
		OrganizationURL: c.Env.URL, UserName: id.Name, Now: s.now()})
}

// samplePreview shows a sample as the step page does: body formatted, properties listed.
func samplePreview(ep endpoint.ServiceEndpoint, m sample.Message) web.SamplePreview {
	p := web.SamplePreview{ContentType: m.ContentType, PropsLabel: "Message properties", Note: m.Note}
	p.Destination = "to " + strings.ToLower(ep.Contract.Label()) + " " + ep.Path
	if ep.Contract == endpoint.ContractWebhook {
		p.PropsLabel, p.Destination = "HTTP headers", "as the POST Dataverse makes to "+endpoint.DisplayURL(ep.URL)
	}
	var buf bytes.Buffer
	switch {
	case strings.Contains(m.ContentType, "json") && json.Indent(&buf, m.Body, "", "  ") == nil:
		p.Body = buf.String()
	case strings.Contains(m.ContentType, "xml"):
		p.Body = string(m.Body)
	default:
		// .NET Binary XML is not for reading: show the same document as text.
		p.Body = string(m.Context.XML())
		p.Note = strings.TrimSpace(p.Note + " The body is " + strconv.Itoa(len(m.Body)) + " bytes of .NET Binary XML; shown here is the same document as text XML.")
	}
	for _, k := range slices.Sorted(maps.Keys(m.Properties)) {
		p.Properties = append(p.Properties, web.Fact{Label: k, Value: fmt.Sprint(m.Properties[k])})
	}
	for _, k := range slices.Sorted(maps.Keys(m.Headers)) {
		p.Properties = append(p.Properties, web.Fact{Label: k, Value: strings.Join(m.Headers[k], ", ")})
	}
	return p
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}
