package sample

import "time"

// member is one DataContract member of a context, entity or reference, in writing order. Its
// value's declared type is its own, so neither encoding adds a type hint to it (values inside
// a Parameter get one).
type member struct {
	name  string
	value any // string, int, bool, time.Time, nil, []Parameter, []Image, EntityReference, *Entity, emptyList
}

// emptyList is a collection that is always empty in a sample (KeyAttributes, FormattedValues,
// RelatedEntities): [] in JSON, an empty element in XML.
type emptyList struct{ itemNamespace string }

// nullable is s, or nil when s is empty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (c *RemoteExecutionContext) members() []member {
	return []member{
		{"BusinessUnitId", c.BusinessUnitID},
		{"CorrelationId", c.CorrelationID},
		{"Depth", c.Depth},
		{"InitiatingUserAgent", nullable(c.InitiatingUserAgent)},
		{"InitiatingUserApplicationId", orNoGUID(c.InitiatingUserApplicationID)},
		{"InitiatingUserAzureActiveDirectoryObjectId", orNoGUID(c.InitiatingUserAzureActiveDirectoryObjectID)},
		{"InitiatingUserId", orNoGUID(c.InitiatingUserID)},
		{"InputParameters", params(c.InputParameters)},
		{"IsExecutingOffline", c.IsExecutingOffline},
		{"IsInTransaction", c.IsInTransaction},
		{"IsOfflinePlayback", c.IsOfflinePlayback},
		{"IsPortalsClientCall", c.IsPortalsClientCall},
		{"IsolationMode", c.IsolationMode},
		{"MessageName", c.MessageName},
		{"Mode", int(c.Mode)},
		{"OperationCreatedOn", c.OperationCreatedOn.UTC()},
		{"OperationId", orNoGUID(c.OperationID)},
		{"OrganizationId", orNoGUID(c.OrganizationID)},
		{"OrganizationName", c.OrganizationName},
		{"OutputParameters", params(c.OutputParameters)},
		{"OwningExtension", c.OwningExtension},
		{"ParentContext", nil},
		{"PortalsContactId", orNoGUID(c.PortalsContactID)},
		{"PostEntityImages", images(c.PostEntityImages)},
		{"PreEntityImages", images(c.PreEntityImages)},
		{"PrimaryEntityId", orNoGUID(c.PrimaryEntityID)},
		{"PrimaryEntityName", c.PrimaryEntityName},
		{"RequestId", nullable(c.RequestID)},
		{"SecondaryEntityName", c.SecondaryEntityName},
		{"SharedVariables", params(c.SharedVariables)},
		{"Stage", int(c.Stage)},
		{"UserAzureActiveDirectoryObjectId", orNoGUID(c.UserAzureActiveDirectoryObjectID)},
		{"UserId", orNoGUID(c.UserID)},
	}
}

func orNoGUID(id string) string {
	if id == "" {
		return NoGUID
	}
	return id
}

// params and images keep a nil collection an empty one: Dataverse writes [] and never null.
func params(p []Parameter) []Parameter {
	if p == nil {
		return []Parameter{}
	}
	return p
}

func images(i []Image) []Image {
	if i == nil {
		return []Image{}
	}
	return i
}

func (e *Entity) members() []member {
	return []member{
		{"Attributes", params(e.Attributes)},
		{"EntityState", nil},
		{"FormattedValues", emptyList{GenericNamespace}},
		{"Id", orNoGUID(e.ID)},
		{"KeyAttributes", emptyList{GenericNamespace}},
		{"LogicalName", e.LogicalName},
		{"RelatedEntities", emptyList{GenericNamespace}},
		{"RowVersion", nil},
	}
}

func (r EntityReference) members() []member {
	return []member{
		{"Id", orNoGUID(r.ID)},
		{"KeyAttributes", emptyList{GenericNamespace}},
		{"LogicalName", r.LogicalName},
		{"Name", nullable(r.Name)},
		{"RowVersion", nil},
	}
}

// formatDate writes a DateTime as DataContract XML does for a UTC value.
func formatDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.9999999Z") }
