// Package endpoint is the portal's domain: a Dataverse service endpoint (the serviceendpoint
// table's writable columns), its choices with their Dataverse integer codes and labels, the
// rules a registration must satisfy, Azure Service Bus connection strings, SAS tokens, and the
// cloud host suffixes.
//
// It is pure: no I/O, no clocks read behind the caller's back (times are passed in), and it
// imports nothing else of this module. Every other package speaks its types.
package endpoint
