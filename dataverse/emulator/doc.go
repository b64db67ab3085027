// Package emulator is a local stand-in for Dataverse's Web API, for tests and `portal dev`:
// it serves the serviceendpoint, sdkmessageprocessingstep and sdkmessageprocessingstepimage
// tables, seeded messages, message filters, custom APIs, users and table columns
// (EntityDefinitions(LogicalName='account')/Attributes), WhoAmI and
// TriggerServiceEndpointCheck with Dataverse's OData shapes (@odata.context, value,
// @odata.nextLink, @odata.etag), query options ($select, $expand with a nested $select, a
// $filter subset, $orderby, Prefer: odata.maxpagesize with an opaque $skiptoken), If-Match
// semantics, Dataverse-shaped errors, its own copy of the column rules (lengths, choices, the
// 44-character SAS key, ...) and of the step rules (stages, modes, images per message),
// write-only secrets, organization-wide privileges, and fault injection (throttling, 503,
// latency, responses lost after the change was committed). Tests can set its clock
// (Options.Clock) to place changes at known times for modifiedon delta queries, and count the
// requests that reached it (Server.RequestCount).
//
// It also holds TokenIssuer, a local Entra-compatible token endpoint over https that
// azidentity talks to through the same code path as production; the emulator accepts only
// tokens it signed for the emulator's own URL.
//
// Its rules are written from Dataverse's documentation, independently of package endpoint and
// of the client in package dataverse (it imports neither), so that it checks the portal rather
// than agreeing with it by construction. It must not be used
// as a real Dataverse or hold production secrets: data sits in memory or in a plain SQLite
// file, and the token issuer's keys are created at start.
package emulator
