package sample

import (
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// Namespaces of the DataContract serialization of a RemoteExecutionContext.
const (
	ContractsNamespace = "http://schemas.microsoft.com/xrm/2011/Contracts"
	GenericNamespace   = "http://schemas.datacontract.org/2004/07/System.Collections.Generic"
	InstanceNamespace  = "http://www.w3.org/2001/XMLSchema-instance"
	SchemaNamespace    = "http://www.w3.org/2001/XMLSchema"
	// SerializationNamespace types Guid values.
	SerializationNamespace = "http://schemas.microsoft.com/2003/10/Serialization/"
)

// NoGUID is Guid.Empty: the id of nothing (a global message's primary record).
const NoGUID = "00000000-0000-0000-0000-000000000000"

// RemoteExecutionContext is Microsoft.Xrm.Sdk.RemoteExecutionContext: what Dataverse posts to a
// service endpoint. Fields are in DataContract order (ordinal by member name), which is the
// order both encodings write them in. Ids are GUID strings; an empty RequestID is null.
type RemoteExecutionContext struct {
	BusinessUnitID                             string
	CorrelationID                              string
	Depth                                      int
	InitiatingUserAgent                        string // null when empty
	InitiatingUserApplicationID                string
	InitiatingUserAzureActiveDirectoryObjectID string
	InitiatingUserID                           string
	InputParameters                            []Parameter
	IsExecutingOffline                         bool
	IsInTransaction                            bool
	IsOfflinePlayback                          bool
	IsPortalsClientCall                        bool
	IsolationMode                              int
	MessageName                                string
	Mode                                       endpoint.ExecutionMode
	OperationCreatedOn                         time.Time
	OperationID                                string
	OrganizationID                             string
	OrganizationName                           string
	OutputParameters                           []Parameter
	OwningExtension                            EntityReference
	// ParentContext is always null in a sample.
	PortalsContactID                 string
	PostEntityImages                 []Image
	PreEntityImages                  []Image
	PrimaryEntityID                  string
	PrimaryEntityName                string
	RequestID                        string // null when empty
	SecondaryEntityName              string
	SharedVariables                  []Parameter
	Stage                            endpoint.Stage
	UserAzureActiveDirectoryObjectID string
	UserID                           string
}

// Parameter is one entry of a ParameterCollection (InputParameters, OutputParameters,
// SharedVariables, an entity's Attributes): a key and a value of any of the types below, or nil.
// Its value carries its type ("__type" in JSON, i:type in XML).
type Parameter struct {
	Key   string
	Value any // string, bool, int, int64, float64, Decimal, time.Time, GUID, Money, OptionSetValue, EntityReference, *Entity or nil
}

// Image is one entry of an EntityImageCollection: the step image's alias and the record's columns.
type Image struct {
	Alias  string
	Entity *Entity
}

// Entity is Microsoft.Xrm.Sdk.Entity as far as a sample needs it.
type Entity struct {
	LogicalName string
	ID          string
	Attributes  []Parameter
}

// EntityReference is Microsoft.Xrm.Sdk.EntityReference. An empty Name is null.
type EntityReference struct {
	ID          string
	LogicalName string
	Name        string
}

// GUID is a Guid value in a parameter (a string elsewhere would be typed as a string).
type GUID string

// Decimal is a decimal value, written as its digits.
type Decimal string

// Money is Microsoft.Xrm.Sdk.Money.
type Money Decimal

// OptionSetValue is Microsoft.Xrm.Sdk.OptionSetValue: a choice column's value.
type OptionSetValue int
