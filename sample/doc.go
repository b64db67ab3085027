// Package sample builds the message Dataverse would send to a service endpoint for a step,
// marked as a sample: a RemoteExecutionContext for the step's message, table, stage, mode and
// images, in the endpoint's message format (JSON, Text XML or .NET Binary XML), with the
// Service Bus application properties and webhook headers Dataverse sets. A listener can be
// tried on it before any real record changes, and can tell it from Dataverse's own posts by
// SampleProperty, the Subject and the SharedVariables entry of the same name.
//
// The shape follows Microsoft's documentation ("Use webhooks", "Write a listener for an Azure
// solution", the RemoteExecutionContext reference): members in DataContract order, key/value
// lists, "/Date(…)/" dates and "__type" hints in JSON, the Contracts namespace with i:type and
// i:nil in XML. The XML's namespace prefixes are this package's own choice; DataContract
// readers go by namespaces, not prefixes. Values are made up: ids are random, attribute values
// are typed from the column's AttributeType.
//
// It must not: send anything, read anything from Dataverse, or hold a secret. It builds bytes
// and says what they are; package servicebus delivers them.
package sample
