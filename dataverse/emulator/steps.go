package emulator

import (
	"slices"
	"strings"
)

// This file holds what the emulator knows about steps: the rules Dataverse applies when a
// step (sdkmessageprocessingstep) or one of its images is created or updated, and the seeded
// messages, filters, custom APIs and users steps refer to. The rules follow Microsoft's
// documentation of step registration (stages, modes, images per message); the codes are
// Dataverse's general ones (0x80040203 invalid argument, 0x80040217 not found), as the
// documentation names no codes of their own for these checks.

// imageMessage says which images a message supports: the request property the image is of,
// and whether a pre and a post image exist for it.
type imageMessage struct {
	properties []string
	pre, post  bool
}

// imageMessages are the messages that support images (all others do not).
var imageMessages = map[string]imageMessage{
	"Assign":                {properties: []string{"Target"}, pre: true, post: true},
	"Create":                {properties: []string{"id"}, post: true},
	"Delete":                {properties: []string{"Target"}, pre: true},
	"DeliverIncoming":       {properties: []string{"emailid"}, pre: true, post: true},
	"DeliverPromote":        {properties: []string{"emailid"}, pre: true, post: true},
	"Merge":                 {properties: []string{"Target", "SubordinateId"}, pre: true, post: true},
	"Route":                 {properties: []string{"Target"}, pre: true, post: true},
	"Send":                  {properties: []string{"emailid"}, pre: true, post: true},
	"SetState":              {properties: []string{"EntityMoniker"}, pre: true, post: true},
	"SetStateDynamicEntity": {properties: []string{"EntityMoniker"}, pre: true, post: true},
	"Update":                {properties: []string{"Target"}, pre: true, post: true},
}

func invalid(format string, a ...any) *apiError { return badRequest(codeInvalidArgument, format, a...) }

// stepRules checks a step as it would be stored; set holds the columns the request sets. The
// caller holds the store's write lock. It completes statuscode when only statecode was set.
func (s *Server) stepRules(full, set record) *apiError {
	epID := str(full, "_eventhandler_value")
	if epID == "" {
		return invalid("The step needs an event handler: bind eventhandler_serviceendpoint@odata.bind to \"/serviceendpoints(<id>)\".")
	}
	ep, ok := s.store.get(serviceEndpointEntity.set, epID)
	if !ok {
		return notFound(serviceEndpointEntity, epID)
	}
	msgID := str(full, "_sdkmessageid_value")
	if msgID == "" {
		return invalid("The step needs a message: bind sdkmessageid@odata.bind to \"/sdkmessages(<id>)\".")
	}
	msg, ok := s.store.get(messageEntity.set, msgID)
	if !ok {
		return notFound(messageEntity, msgID)
	}
	message := str(msg, "name")
	table := ""
	if fID := str(full, "_sdkmessagefilterid_value"); fID != "" {
		f, ok := s.store.get(filterEntity.set, fID)
		if !ok {
			return notFound(filterEntity, fID)
		}
		if str(f, "_sdkmessageid_value") != msgID {
			return invalid("The message filter %s (table '%s') does not belong to the message '%s': pick a filter of that message.", fID, str(f, "primaryobjecttypecode"), message)
		}
		if b, _ := f["iscustomprocessingstepallowed"].(bool); !b {
			return invalid("Custom steps are not allowed on the message '%s' for the table '%s'.", message, str(f, "primaryobjecttypecode"))
		}
		if t := str(f, "primaryobjecttypecode"); t != "none" {
			table = t
		}
	} else if s.messageNeedsTable(msgID) {
		return invalid("The message '%s' is registered per table: bind sdkmessagefilterid@odata.bind to the filter of the table.", message)
	}
	if uid := str(full, "_impersonatinguserid_value"); uid != "" {
		if _, ok := s.store.get(systemUserEntity.set, uid); !ok {
			return notFound(systemUserEntity, uid)
		}
	}
	stage, mode := num(full, "stage"), num(full, "mode")
	if mode == 1 && stage != 40 {
		return invalid("Asynchronous steps must be registered in the post-operation stage (40).")
	}
	if c := num(ep, "contract"); c != 8 && c != 9 && mode != 1 {
		return invalid("Steps for a Service Bus or Event Hub endpoint must be asynchronous (mode 1); only webhooks and Event Grid may be synchronous.")
	}
	if b, _ := full["asyncautodelete"].(bool); b && mode != 1 {
		return invalid("Delete AsyncOperation if StatusCode = Successful (asyncautodelete) applies only to asynchronous steps.")
	}
	if api := s.customAPIOf(msgID); api != nil {
		switch num(api, "allowedcustomprocessingsteptype") {
		case 0:
			return invalid("The custom API '%s' allows no custom processing steps.", str(api, "uniquename"))
		case 1:
			if mode != 1 {
				return invalid("The custom API '%s' allows only asynchronous custom processing steps.", str(api, "uniquename"))
			}
		}
	}
	if _, ok := set["statecode"]; ok {
		if _, ok := set["statuscode"]; !ok {
			full["statuscode"] = float64(num(full, "statecode") + 1)
		}
	}
	if state, status := num(full, "statecode"), num(full, "statuscode"); status != state+1 {
		return invalid("%d is not a valid status code for state code %d of sdkmessageprocessingstep: use statuscode %d.", status, state, state+1)
	}
	if err := s.checkAttributeNames(table, str(full, "filteringattributes"), "filteringattributes"); err != nil {
		return err
	}
	id := str(full, stepEntity.key)
	for _, img := range s.store.all(imageEntity.set) {
		if id != "" && str(img, "_sdkmessageprocessingstepid_value") == id {
			if err := s.imageFits(img, message, stage, table); err != nil {
				return err
			}
		}
	}
	return nil
}

// messageNeedsTable reports whether a message has only table-bound filters, so a step on it
// must name one.
func (s *Server) messageNeedsTable(msgID string) bool {
	bound := false
	for _, f := range s.store.all(filterEntity.set) {
		if str(f, "_sdkmessageid_value") == msgID {
			if str(f, "primaryobjecttypecode") == "none" {
				return false
			}
			bound = true
		}
	}
	return bound
}

func (s *Server) customAPIOf(msgID string) record {
	for _, a := range s.store.all(customAPIEntity.set) {
		if str(a, "_sdkmessageid_value") == msgID {
			return a
		}
	}
	return nil
}

// checkAttributeNames checks that a comma-separated list names columns of table (when the
// emulator knows the table's columns).
func (s *Server) checkAttributeNames(table, list, what string) *apiError {
	attrs, known := tableAttributes[table]
	if list == "" || !known {
		return nil
	}
	for part := range strings.SplitSeq(list, ",") {
		name := strings.TrimSpace(part)
		if name == "" {
			continue
		}
		if !slices.ContainsFunc(attrs, func(a attribute) bool { return a.logical == name }) {
			return invalid("'%s' in %s is not a column of the table '%s'.", name, what, table)
		}
	}
	return nil
}

// imageRules checks an image as it would be stored; the caller holds the store's write lock.
func (s *Server) imageRules(full record) *apiError {
	stepID := str(full, "_sdkmessageprocessingstepid_value")
	if stepID == "" {
		return invalid("The image needs a step: bind sdkmessageprocessingstepid@odata.bind to \"/sdkmessageprocessingsteps(<id>)\".")
	}
	step, ok := s.store.get(stepEntity.set, stepID)
	if !ok {
		return notFound(stepEntity, stepID)
	}
	msg, _ := s.store.get(messageEntity.set, str(step, "_sdkmessageid_value"))
	table := ""
	if f, ok := s.store.get(filterEntity.set, str(step, "_sdkmessagefilterid_value")); ok && str(f, "primaryobjecttypecode") != "none" {
		table = str(f, "primaryobjecttypecode")
	}
	return s.imageFits(full, str(msg, "name"), num(step, "stage"), table)
}

// imageFits checks an image against its step's message, stage and table.
func (s *Server) imageFits(img record, message string, stage int, table string) *apiError {
	if strings.TrimSpace(str(img, "entityalias")) == "" {
		return invalid("The image needs an alias (entityalias): the name the handler finds it under in PreEntityImages or PostEntityImages.")
	}
	im, ok := imageMessages[message]
	if !ok {
		return invalid("The message '%s' does not support images.", message)
	}
	t := num(img, "imagetype")
	if (t == 0 || t == 2) && !im.pre {
		return invalid("The message '%s' has no pre image.", message)
	}
	if t == 1 || t == 2 {
		if !im.post {
			return invalid("The message '%s' has no post image.", message)
		}
		if stage != 40 {
			return invalid("A post image is available only in the post-operation stage (40); this step is in stage %d.", stage)
		}
	}
	if p := str(img, "messagepropertyname"); !slices.Contains(im.properties, p) {
		return invalid("'%s' is not a property of the message '%s' an image can be taken of; use %s.", p, message, strings.Join(im.properties, " or "))
	}
	return s.checkAttributeNames(table, str(img, "attributes"), "the image's attributes")
}

// deleteStepLocked deletes a step and its images; the caller holds the store's write lock.
func (s *Server) deleteStepLocked(id string) error {
	for _, img := range s.store.all(imageEntity.set) {
		if str(img, "_sdkmessageprocessingstepid_value") == id {
			if err := s.store.delete(imageEntity.set, str(img, imageEntity.key)); err != nil {
				return err
			}
		}
	}
	return s.store.delete(stepEntity.set, id)
}

// MessageID is the emulator's fixed sdkmessageid for a message name such as "Create".
func MessageID(name string) string { return derivedGUID("sdkmessage:" + name) }

// FilterID is the emulator's fixed sdkmessagefilterid of a message on a table ("none" for a
// message bound to no table).
func FilterID(message, table string) string {
	return derivedGUID("sdkmessagefilter:" + message + ":" + table)
}

// SystemUserID is the emulator's fixed systemuserid of a seeded user, by full name (see
// SeededUsers).
func SystemUserID(fullName string) string { return derivedGUID("systemuser:" + fullName) }

// SeededUsers are the full names of the users every organization has, for steps to run as.
var SeededUsers = []string{"SYSTEM", "Rita Integration", "Sam Service"}

// seededTables are the tables with columns (see tableAttributes) and step messages.
var seededTables = []string{"account", "contact", "incident", "contoso_shipment"}

// seededFilters says, per message, the tables its filters are for and whether custom steps
// are allowed on each.
var seededFilters = []struct {
	message string
	tables  []string
	allowed bool
}{
	{"Create", seededTables, true},
	{"Update", seededTables, true},
	{"Delete", seededTables, true},
	{"Assign", seededTables, true},
	{"SetState", seededTables, true},
	{"SetStateDynamicEntity", seededTables, true},
	{"Retrieve", seededTables, true},
	{"RetrieveMultiple", seededTables, true},
	{"Merge", []string{"account", "contact", "incident"}, true},
	{"Associate", []string{"none"}, true},
	{"Disassociate", []string{"none"}, true},
	{"WhoAmI", []string{"none"}, true},
	// Plug-in registration tables do not take custom steps.
	{"Create", []string{"sdkmessageprocessingstep"}, false},
	{"Update", []string{"sdkmessageprocessingstep"}, false},
	// A message whose every filter refuses custom steps.
	{"RetrieveEntity", []string{"none"}, false},
	// The bound custom API's filter.
	{"contoso_ApproveShipment", []string{"contoso_shipment"}, true},
}

// seededCustomAPIs are custom APIs: one bound to a table, one unbound (global, no filter).
var seededCustomAPIs = []struct {
	uniqueName, boundTo string
	allowed             int
}{
	{"contoso_ApproveShipment", "contoso_shipment", 2},
	{"contoso_RecalculateRoutes", "", 1},
}

// seedMessages adds the messages, filters, custom APIs and users steps refer to (fixed ids;
// not persisted).
func (s *Server) seedMessages() {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	v := float64(0)
	put := func(e *entity, id string, r record) {
		v++
		r[e.key], r["versionnumber"] = id, v
		s.store.table(e.set)[id] = r
	}
	for _, f := range seededFilters {
		put(messageEntity, MessageID(f.message), record{"name": f.message, "isprivate": false})
		for _, t := range f.tables {
			put(filterEntity, FilterID(f.message, t), record{"_sdkmessageid_value": MessageID(f.message),
				"primaryobjecttypecode": t, "secondaryobjecttypecode": "none",
				"iscustomprocessingstepallowed": f.allowed, "isvisible": true})
		}
	}
	for _, a := range seededCustomAPIs {
		put(messageEntity, MessageID(a.uniqueName), record{"name": a.uniqueName, "isprivate": false})
		binding := float64(0)
		if a.boundTo != "" {
			binding = 1
		}
		put(customAPIEntity, derivedGUID("customapi:"+a.uniqueName), record{"uniquename": a.uniqueName, "name": a.uniqueName,
			"bindingtype": binding, "boundentitylogicalname": orNil(a.boundTo), "allowedcustomprocessingsteptype": float64(a.allowed),
			"isfunction": false, "_sdkmessageid_value": MessageID(a.uniqueName)})
	}
	for _, name := range SeededUsers {
		put(systemUserEntity, SystemUserID(name), record{"fullname": name, "isdisabled": false})
	}
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
