// Package endpoint is the portal's domain: a Dataverse service endpoint (the serviceendpoint
// table's writable columns), its choices with their Dataverse integer codes and labels, the
// rules a registration must satisfy (Validate, ValidateFor), Azure Service Bus connection
// strings (ParseConnectionString, which accepts exactly what azservicebus accepts), SAS tokens
// (SignSAS, ParseSASToken), webhook authentication settings, and the cloud host suffixes.
//
// ParseCredential is the one reader of pasted credentials (connection strings, bare keys, SAS
// tokens, webhook keys, header/query settings) for every page that takes one. SecretPurpose
// names the write-only column a secret belongs to; Kind, WebhookAuth and ProbeMode are the
// modes forms choose between, with their wire values.
//
// Steps (sdkmessageprocessingsteps) registered against an endpoint are Step, with their images;
// Step.Validate checks one against the rules in StepRules (each with its Microsoft source),
// given a StepContext that says what Dataverse offers (the message's tables, the table's
// columns). AllowedModes, AllowedStages, ImageSupport and FilteringAttributesAllowed tell a form
// what to offer.
//
// It is pure: no I/O, no clocks read behind the caller's back (times are passed in), and it
// imports nothing else of this module. Every other package speaks its types.
//
// Secrets (SAS keys, SAS tokens, webhook values) travel as Secret, which prints as a mask.
// Nothing here may put a secret into an error or a validation message: errors name what is
// wrong and where to find the right value, and never quote the input that held the secret.
package endpoint
