// Package plan is the engine behind "plan and apply a file": an environment's (or a team's)
// service endpoints and their steps as a YAML or JSON document without secrets (Export,
// Encode), read back with line numbers for every problem (Parse), compared with an environment
// field by field (Make: create, update, delete or unchanged per endpoint and step), and carried
// out (Apply): every endpoint that needs it is proved before anything is written, a failure
// stops cleanly and says what was done and what was not, and applying the same file twice
// changes nothing.
//
// A secret in a file is a reference such as env:ORDERS_SAS_KEY, resolved where the file is
// applied (Secrets: the pipeline's environment, or what a person types into the page); the
// value is read as a key, a whole connection string or a SAS token by endpoint.ParseCredential.
//
// The engine reads an environment through Environment and writes through Writer. The portal
// implements both with the same validation, proof, audit and catalog path as its pages
// (handlers.Server.PlanTarget); the pages, the API and the CLI call Make and Apply.
//
// What it must not do: reach Dataverse or Service Bus itself, put a secret into a document, a
// plan, a result or an error, or decide who may do what (Environment.Authorize does).
package plan
