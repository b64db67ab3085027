// Package dataverse is the portal's client for the Dataverse (Dynamics 365) Web API, limited to
// what the portal needs: the serviceendpoint table, the steps bound to an endpoint, WhoAmI and
// the TriggerServiceEndpointCheck action. It also holds the configuration of the Dataverse
// environments the portal serves (EnvironmentConfig) and their readiness checks.
//
// One Client talks to one environment (https://<org>.crm[N].dynamics.com) through API v9.2,
// authenticated by an azcore.TokenCredential (azidentity) for the scope "<url>/.default".
// Calls are retried on throttling (429) and gateway failures (502/503/504) honouring
// Retry-After, but only where a retry cannot change the outcome: reads, deletes, updates with
// If-Match: *, and creates with a client-chosen id (a duplicate-key answer to a retried create
// means the first attempt landed). Waits between attempts are bounded by a few seconds
// (RetryPolicy.MaxWait), so a failure is named while a page still waits; failures no retry can
// fix (an untrusted certificate, an unknown host, a refused token, 401/403) end at once. Every
// *Error says its Cause (certificate, DNS, refused, timeout, token with Entra's AADSTS code,
// 401, 403, 429 with Retry-After, 5xx), Explain words it for people and LogValue for logs.
//
// What it must not do: log, print or return secrets (SAS keys, SAS tokens, webhook keys, bearer
// tokens) in errors; send a bearer token to any host other than the environment's own; decide
// whether an endpoint is valid (package endpoint does that; Dataverse has the last word).
package dataverse
