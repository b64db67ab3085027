// Package api is the portal's JSON API as its callers see it: the resources and requests of
// /api/v1 (built from the domain's types, so an endpoint and a step have one shape), RFC 9457
// problem details, the interface of the plan/apply engine the API serves, and a small client
// (the CLI's). It holds no handler and does no I/O besides the client's HTTP requests; the
// handlers live in package handlers (api_*.go), beside the pages they share every write with.
package api
