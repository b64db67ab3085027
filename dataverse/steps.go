package dataverse

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// stepColumns is the sdkmessageprocessingstep table as the portal maps it onto endpoint.Step,
// one line per column, as endpointColumns is for endpoints: the $select and $expand of every
// step read, the decoding, and the create and update bodies all follow from it. The related
// records (the message's name, the filter's table and the step's images) are read in the same
// request through $expand.
var stepColumns = []column[endpoint.Step]{
	keyColumn("sdkmessageprocessingstepid", func(s *endpoint.Step) *string { return &s.ID }),
	bindColumn("eventhandler", "eventhandler_serviceendpoint", "serviceendpoints", func(s *endpoint.Step) *string { return &s.EndpointID }),
	stringColumn("name", func(s *endpoint.Step) *string { return &s.Name }),
	stringColumn("description", func(s *endpoint.Step) *string { return &s.Description }),
	lookupColumn("sdkmessageid", "sdkmessages", func(s *endpoint.Step) *string { return &s.MessageID }),
	lookupColumn("sdkmessagefilterid", "sdkmessagefilters", func(s *endpoint.Step) *string { return &s.FilterID }),
	intColumn("stage", func(s *endpoint.Step) *endpoint.Stage { return &s.Stage }),
	intColumn("mode", func(s *endpoint.Step) *endpoint.ExecutionMode { return &s.Mode }),
	intColumn("rank", func(s *endpoint.Step) *int { return &s.Rank }),
	listColumn("filteringattributes", func(s *endpoint.Step) *[]string { return &s.FilteringAttributes }),
	lookupColumn("impersonatinguserid", "systemusers", func(s *endpoint.Step) *string { return &s.RunAsUserID }),
	boolColumn("asyncautodelete", func(s *endpoint.Step) *bool { return &s.AsyncAutoDelete }),
	fixedColumn[endpoint.Step]("supporteddeployment", 0), // server only
	// State is changed by SetStepState alone, so that an edit cannot re-enable a step
	// someone disabled meanwhile.
	readOnly(intColumn("statecode", func(s *endpoint.Step) *endpoint.StepState { return &s.State })),
	readOnly(boolColumn("ismanaged", func(s *endpoint.Step) *bool { return &s.IsManaged })),
	readOnly(timeColumn("createdon", func(s *endpoint.Step) *time.Time { return &s.CreatedOn })),
	readOnly(timeColumn("modifiedon", func(s *endpoint.Step) *time.Time { return &s.ModifiedOn })),
	expandedColumn("sdkmessageid", "sdkmessageid($select=name)", func(s *endpoint.Step, m struct {
		Name string `json:"name"`
	}) {
		s.Message = m.Name
	}),
	expandedColumn("sdkmessagefilterid", "sdkmessagefilterid($select=primaryobjecttypecode)", func(s *endpoint.Step, f struct {
		Table string `json:"primaryobjecttypecode"`
	}) {
		if f.Table != noTable {
			s.Table = f.Table
		}
	}),
	expandedColumn(stepImagesNav, stepImagesNav+"($select="+strings.Join(imageRecord.names(), ",")+")", func(s *endpoint.Step, images []json.RawMessage) {
		s.Images = decodeImages(images)
	}),
}

// stepImageColumns is the sdkmessageprocessingstepimage table as the portal maps it onto
// endpoint.StepImage. The image's step is bound separately (sdkmessageprocessingstepid).
var stepImageColumns = []column[endpoint.StepImage]{
	keyColumn("sdkmessageprocessingstepimageid", func(i *endpoint.StepImage) *string { return &i.ID }),
	intColumn("imagetype", func(i *endpoint.StepImage) *endpoint.ImageType { return &i.Type }),
	stringColumn("entityalias", func(i *endpoint.StepImage) *string { return &i.Alias }),
	stringColumn("name", func(i *endpoint.StepImage) *string { return &i.Name }),
	listColumn("attributes", func(i *endpoint.StepImage) *[]string { return &i.Attributes }),
	stringColumn("messagepropertyname", func(i *endpoint.StepImage) *string { return &i.MessageProperty }),
}

// stepImagesNav is the collection-valued navigation property from a step to its images.
const stepImagesNav = "sdkmessageprocessingstepid_sdkmessageprocessingstepimage"

// noTable is primaryobjecttypecode of a filter that is bound to no table.
const noTable = "none"

var (
	stepRecord  = newRecordType(stepColumns)
	imageRecord = newRecordType(stepImageColumns)
)

// expandedColumn reads a related record or collection, brought by the $expand item expand,
// from the property nav; it is never written.
func expandedColumn[R, W any](nav, expand string, set func(*R, W)) column[R] {
	c := readable(nav, nav, set)
	c.expand = expand
	return c
}

// decodeImages reads a step's expanded images; one that cannot be read is skipped, as the
// surrounding record has already been decoded by then.
func decodeImages(raw []json.RawMessage) []endpoint.StepImage {
	if len(raw) == 0 {
		return nil
	}
	dec := imageRecord.decoder()
	out := make([]endpoint.StepImage, 0, len(raw))
	for _, r := range raw {
		img, err := dec.decode(json.NewDecoder(bytes.NewReader(r)))
		if err == nil {
			out = append(out, img)
		}
	}
	slices.SortFunc(out, func(a, b endpoint.StepImage) int {
		return cmp.Or(cmp.Compare(a.Alias, b.Alias), cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// listAll reads every page of the collection at u, calling each with the decoder positioned
// on every record.
func (c *Client) listAll(ctx context.Context, op, u string, each func(*json.Decoder) error) error {
	for next := u; next != ""; {
		link, _, err := c.pageInto(ctx, op, next, 0, func(dec *json.Decoder) (bool, error) { return true, each(dec) })
		if err != nil {
			return err
		}
		next = link
	}
	return nil
}

// listRows reads every page of the collection at u into values of T (a struct whose JSON tags
// name the columns selected).
func listRows[T any](ctx context.Context, c *Client, op, u string) ([]T, error) {
	var out []T
	err := c.listAll(ctx, op, u, func(dec *json.Decoder) error {
		var v T
		if err := dec.Decode(&v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// The rows StepMessages reads, and their $select lists.
type (
	filterRow struct {
		ID        string `json:"sdkmessagefilterid"`
		MessageID string `json:"_sdkmessageid_value"`
		Table     string `json:"primaryobjecttypecode"`
		Allowed   bool   `json:"iscustomprocessingstepallowed"`
	}
	messageRow struct {
		ID   string `json:"sdkmessageid"`
		Name string `json:"name"`
	}
	customAPIRow struct {
		UniqueName string `json:"uniquename"`
		MessageID  string `json:"_sdkmessageid_value"`
		// AllowedStepType is allowedcustomprocessingsteptype: 0 none, 1 asynchronous only,
		// 2 synchronous and asynchronous.
		AllowedStepType int `json:"allowedcustomprocessingsteptype"`
	}
)

const (
	filterQuery    = "sdkmessagefilters?$select=sdkmessagefilterid,primaryobjecttypecode,iscustomprocessingstepallowed,_sdkmessageid_value&$filter=iscustomprocessingstepallowed%20eq%20true"
	messageQuery   = "sdkmessages?$select=sdkmessageid,name"
	customAPIQuery = "customapis?$select=uniquename,_sdkmessageid_value,allowedcustomprocessingsteptype"
)

// StepMessages lists the messages a step can be registered on, sorted by name: every message
// with a filter (table) that allows custom steps, with those filters, and every custom API
// that allows custom steps (marked CustomAPI; an unbound one may have no filter). It costs
// three requests (filters, messages, custom APIs) plus one per further page; callers cache
// the answer, which changes only when solutions are installed.
func (c *Client) StepMessages(ctx context.Context) ([]endpoint.Message, error) {
	const op = "list step messages"
	filters, err := listRows[filterRow](ctx, c, op, c.api+filterQuery)
	if err != nil {
		return nil, err
	}
	messages, err := listRows[messageRow](ctx, c, op, c.api+messageQuery)
	if err != nil {
		return nil, err
	}
	apis, err := listRows[customAPIRow](ctx, c, op, c.api+customAPIQuery)
	if err != nil {
		return nil, err
	}
	byID := map[string]*endpoint.Message{}
	names := make(map[string]string, len(messages))
	for _, m := range messages {
		names[strings.ToLower(m.ID)] = m.Name
	}
	get := func(id string) *endpoint.Message {
		k := strings.ToLower(id)
		m, ok := byID[k]
		if !ok {
			m = &endpoint.Message{ID: id, Name: names[k]}
			byID[k] = m
		}
		return m
	}
	for _, f := range filters {
		if !f.Allowed || f.MessageID == "" {
			continue
		}
		m := get(f.MessageID)
		m.Filters = append(m.Filters, endpoint.MessageFilter{ID: f.ID, Table: f.Table, CustomStepAllowed: true})
	}
	for _, a := range apis {
		if a.MessageID == "" || a.AllowedStepType == 0 {
			continue
		}
		m := get(a.MessageID)
		m.CustomAPI = true
		if m.Name == "" {
			m.Name = a.UniqueName
		}
	}
	out := make([]endpoint.Message, 0, len(byID))
	for _, m := range byID {
		if m.Name == "" {
			continue // a filter of a message this user cannot read
		}
		slices.SortFunc(m.Filters, func(a, b endpoint.MessageFilter) int { return cmp.Compare(a.Table, b.Table) })
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b endpoint.Message) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// logicalNameRE is what a table's logical name may hold; it goes into a URL.
var logicalNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// attributeRow is an attribute's metadata as TableColumns reads it.
type attributeRow struct {
	LogicalName string `json:"LogicalName"`
	DisplayName struct {
		UserLocalizedLabel *struct {
			Label string `json:"Label"`
		} `json:"UserLocalizedLabel"`
	} `json:"DisplayName"`
	AttributeType    string  `json:"AttributeType"`
	IsValidForUpdate bool    `json:"IsValidForUpdate"`
	AttributeOf      *string `json:"AttributeOf"`
}

// TableColumns lists the columns of a table (its attribute metadata) that a person can pick as
// a filtering attribute or an image column, sorted by display name then logical name.
// Attributes that only accompany another (AttributeOf set: a lookup's name, a choice's label)
// and virtual ones are left out, as they are not columns of their own.
func (c *Client) TableColumns(ctx context.Context, table string) ([]endpoint.Column, error) {
	op := "list columns of table " + strconv.Quote(table)
	if !logicalNameRE.MatchString(table) {
		return nil, &Error{Kind: Invalid, Op: op, Message: "a table's logical name holds only lower-case letters, digits and underscores, like account or contoso_shipment"}
	}
	u := c.api + "EntityDefinitions(LogicalName='" + table + "')/Attributes?$select=LogicalName,DisplayName,AttributeType,IsValidForUpdate,AttributeOf"
	rows, err := listRows[attributeRow](ctx, c, op, u)
	if err != nil {
		return nil, err
	}
	out := make([]endpoint.Column, 0, len(rows))
	for _, r := range rows {
		if (r.AttributeOf != nil && *r.AttributeOf != "") || r.AttributeType == "Virtual" {
			continue
		}
		col := endpoint.Column{LogicalName: r.LogicalName, Type: r.AttributeType, ValidForUpdate: r.IsValidForUpdate}
		if l := r.DisplayName.UserLocalizedLabel; l != nil {
			col.DisplayName = l.Label
		}
		out = append(out, col)
	}
	slices.SortFunc(out, func(a, b endpoint.Column) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)), cmp.Compare(a.LogicalName, b.LogicalName))
	})
	return out, nil
}

// EndpointSteps lists the steps registered against the endpoint, with their messages, tables
// and images, in one request (plus one per further page of steps), sorted by name.
func (c *Client) EndpointSteps(ctx context.Context, endpointID string) ([]endpoint.Step, error) {
	op := "list steps of serviceendpoint " + endpointID
	gid, err := normalizeGUID(endpointID)
	if err != nil {
		return nil, &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	rec := stepRecord.decoder()
	var steps []endpoint.Step
	err = c.listAll(ctx, op, c.api+"serviceendpoints("+gid+")/serviceendpoint_sdkmessageprocessingstep?"+stepRecord.query(),
		func(dec *json.Decoder) error {
			st, err := rec.decode(dec)
			steps = append(steps, st)
			return err
		})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(steps, func(a, b endpoint.Step) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return steps, nil
}

// Step reads one step by id, with its message, table and images.
func (c *Client) Step(ctx context.Context, id string) (endpoint.Step, error) {
	op := "get sdkmessageprocessingstep " + id
	gid, err := normalizeGUID(id)
	if err != nil {
		return endpoint.Step{}, &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	var st endpoint.Step
	err = c.get(ctx, op, c.api+"sdkmessageprocessingsteps("+gid+")?"+stepRecord.query(), func(dec *json.Decoder) (err error) {
		st, err = stepRecord.decoder().decode(dec)
		return err
	})
	return st, err
}

// StepImageID is the id CreateStep and UpdateStep give an image that has none: derived from
// the step's id, the image's alias and type, so that a create sent again (after an answer was
// lost, or by a caller retrying) names the same record instead of adding a second image.
func StepImageID(stepID, alias string, t endpoint.ImageType) string {
	sum := sha1.Sum([]byte("sdkmessageprocessingstepimage:" + strings.ToLower(stepID) + ":" + strings.ToLower(alias) + ":" + strconv.Itoa(int(t))))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50 // version 5: name-based
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// CreateStep registers st (st.ID chosen by the caller, see NewGUID) and then its images. Images
// without an ID get StepImageID's. A create whose answer was lost is retried safely: a
// duplicate-key answer to a retry means the first attempt landed (the record with that id is
// read back and must have st's name and endpoint). A step created with State disabled is
// disabled after its images are added. When the step was created but an image or the state
// was not, the error says so; UpdateStep with the step as read back finishes the job.
func (c *Client) CreateStep(ctx context.Context, st endpoint.Step) error {
	op := "create sdkmessageprocessingstep " + st.ID
	gid, err := normalizeGUID(st.ID)
	if err != nil {
		return &Error{Kind: Invalid, Op: op, Message: err.Error() + " (the caller chooses a step's id, see NewGUID)"}
	}
	st.ID = gid
	if err := c.postRecord(ctx, op, "sdkmessageprocessingsteps", createPayload(stepColumns, &st), func() bool {
		got, gerr := c.Step(ctx, gid)
		return gerr == nil && got.Name == st.Name && strings.EqualFold(got.EndpointID, st.EndpointID)
	}); err != nil {
		return err
	}
	for _, img := range withImageIDs(st) {
		if err := c.createImage(ctx, gid, img); err != nil {
			return afterCreate(err, "the step was created, but its image "+strconv.Quote(img.Alias)+" was not")
		}
	}
	if st.State != endpoint.StepEnabled {
		if err := c.SetStepState(ctx, gid, st.State); err != nil {
			return afterCreate(err, "the step was created, but could not be disabled")
		}
	}
	return nil
}

// afterCreate keeps err's classification and says what was done before it.
func afterCreate(err error, done string) error {
	var de *Error
	if errors.As(err, &de) {
		e := *de
		e.Message = done + ": " + e.Message
		return &e
	}
	return fmt.Errorf("dataverse: %s: %w", done, err)
}

// withImageIDs returns st's images, each with an id (StepImageID when it had none).
func withImageIDs(st endpoint.Step) []endpoint.StepImage {
	out := slices.Clone(st.Images)
	for i := range out {
		if out[i].ID == "" {
			out[i].ID = StepImageID(st.ID, out[i].Alias, out[i].Type)
		}
		if out[i].Name == "" {
			out[i].Name = out[i].Alias
		}
	}
	return out
}

// postRecord creates a record with a client-chosen id in entitySet. A duplicate-key answer to
// a retried request counts as success when landed confirms the earlier attempt made it.
func (c *Client) postRecord(ctx context.Context, op, entitySet string, payload map[string]any, landed func() bool) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("dataverse: %s: encode: %w", op, err)
	}
	resp, err := c.send(ctx, request{op: op, method: http.MethodPost, url: c.api + entitySet, body: body, safe: true})
	if err != nil {
		var de *Error
		if errors.As(err, &de) && de.IsDuplicateKey() && de.Attempts > 1 && landed() {
			return nil
		}
		return err
	}
	resp.Body.Close()
	return nil
}

// patchRecord updates the existing record entitySet(id) (If-Match: *, so a missing record is
// NotFound rather than created).
func (c *Client) patchRecord(ctx context.Context, op, entitySet, id string, payload map[string]any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("dataverse: %s: encode: %w", op, err)
	}
	resp, err := c.send(ctx, request{op: op, method: http.MethodPatch, url: c.api + entitySet + "(" + id + ")",
		body: body, header: map[string]string{"If-Match": "*"}, safe: true})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// deleteRecord deletes entitySet(id); a record a lost earlier attempt already deleted counts
// as deleted.
func (c *Client) deleteRecord(ctx context.Context, op, entitySet, id string) error {
	resp, err := c.send(ctx, request{op: op, method: http.MethodDelete, url: c.api + entitySet + "(" + id + ")", safe: true})
	if err != nil {
		var de *Error
		if errors.As(err, &de) && de.Kind == NotFound && de.Attempts > 1 {
			return nil
		}
		return err
	}
	resp.Body.Close()
	return nil
}

func (c *Client) createImage(ctx context.Context, stepID string, img endpoint.StepImage) error {
	op := "create sdkmessageprocessingstepimage " + img.ID
	gid, err := normalizeGUID(img.ID)
	if err != nil {
		return &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	img.ID = gid
	payload := createPayload(stepImageColumns, &img)
	payload["sdkmessageprocessingstepid@odata.bind"] = "/sdkmessageprocessingsteps(" + stepID + ")"
	return c.postRecord(ctx, op, "sdkmessageprocessingstepimages", payload, func() bool { return true })
}

// UpdateStep writes st over the step as it was read (before): the step's writable columns
// (PATCH with If-Match: *; its state is SetStepState's), then its images brought in line:
// images of before missing from st are deleted, images of st missing from before created
// (with StepImageID when they have no id), and images whose columns differ updated. Images
// are matched by id.
func (c *Client) UpdateStep(ctx context.Context, st, before endpoint.Step) error {
	op := "update sdkmessageprocessingstep " + st.ID
	gid, err := normalizeGUID(st.ID)
	if err != nil {
		return &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	st.ID, before.ID = gid, gid
	if st.EndpointID == "" {
		st.EndpointID = before.EndpointID
	}
	if err := c.patchRecord(ctx, op, "sdkmessageprocessingsteps", gid, updatePayload(stepColumns, &st)); err != nil {
		return err
	}
	want, had := withImageIDs(st), withImageIDs(before)
	for _, h := range had {
		if !slices.ContainsFunc(want, func(w endpoint.StepImage) bool { return strings.EqualFold(w.ID, h.ID) }) {
			if err := c.deleteRecord(ctx, "delete sdkmessageprocessingstepimage "+h.ID, "sdkmessageprocessingstepimages", strings.ToLower(h.ID)); err != nil {
				return afterCreate(err, "the step was saved, but its image "+strconv.Quote(h.Alias)+" could not be removed")
			}
		}
	}
	for _, w := range want {
		i := slices.IndexFunc(had, func(h endpoint.StepImage) bool { return strings.EqualFold(w.ID, h.ID) })
		switch {
		case i < 0:
			err = c.createImage(ctx, gid, w)
		case !sameImage(w, had[i]):
			err = c.patchRecord(ctx, "update sdkmessageprocessingstepimage "+w.ID, "sdkmessageprocessingstepimages", strings.ToLower(w.ID), updatePayload(stepImageColumns, &w))
		}
		if err != nil {
			return afterCreate(err, "the step was saved, but its image "+strconv.Quote(w.Alias)+" was not")
		}
	}
	return nil
}

func sameImage(a, b endpoint.StepImage) bool {
	return a.Type == b.Type && a.Alias == b.Alias && a.Name == b.Name && a.MessageProperty == b.MessageProperty &&
		slices.Equal(a.Attributes, b.Attributes)
}

// SetStepState enables or disables a step by updating its statecode with the statuscode that
// goes with it (Dataverse's documented way; the SetState message is deprecated).
func (c *Client) SetStepState(ctx context.Context, id string, state endpoint.StepState) error {
	op := "set state of sdkmessageprocessingstep " + id + " to " + strings.ToLower(state.Label())
	gid, err := normalizeGUID(id)
	if err != nil {
		return &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	return c.patchRecord(ctx, op, "sdkmessageprocessingsteps", gid,
		map[string]any{"statecode": int(state), "statuscode": state.StatusCode()})
}

// DeleteStep deletes a step; Dataverse deletes its images with it.
func (c *Client) DeleteStep(ctx context.Context, id string) error {
	op := "delete sdkmessageprocessingstep " + id
	gid, err := normalizeGUID(id)
	if err != nil {
		return &Error{Kind: Invalid, Op: op, Message: err.Error()}
	}
	return c.deleteRecord(ctx, op, "sdkmessageprocessingsteps", gid)
}

// User is a systemuser a step can run as.
type User struct {
	ID       string `json:"systemuserid"`
	FullName string `json:"fullname"`
}

// Users lists the enabled users of the environment, by name: whom a step may run as
// (impersonatinguserid). One request per 5,000 users.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	users, err := listRows[User](ctx, c, "list users",
		c.api+"systemusers?$select=systemuserid,fullname&$filter="+queryEscape("isdisabled eq false"))
	if err != nil {
		return nil, err
	}
	for i := range users {
		users[i].ID = strings.ToLower(users[i].ID)
	}
	slices.SortFunc(users, func(a, b User) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.FullName), strings.ToLower(b.FullName)), cmp.Compare(a.ID, b.ID))
	})
	return users, nil
}
