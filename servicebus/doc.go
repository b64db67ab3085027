// Package servicebus proves that a Dataverse service endpoint works before it is saved: it
// sends a small, clearly marked test message (or checks without delivering) to the endpoint's
// queue or topic (azservicebus), event hub (azeventhubs), relay (HTTPS) or webhook (HTTP), and
// answers with a Result a person can act on: what was proved, or the Cause of the failure and
// how to fix it, plus warnings about over-broad or expiring credentials.
//
// A probe dials only what its Policy allows: Service Bus hosts under the cloud suffixes, and
// webhooks on public addresses, checked again at dial time after DNS resolution so a name that
// later resolves to a private or metadata address cannot be used to reach it. A refusal names
// the configuration setting that would allow the host (SettingServiceBusSuffixes,
// SettingAllowPrivateServiceBus). Where port 5671 cannot be reached, a Service Bus probe falls
// back to AMQP over WebSockets on port 443 and its Result says which Transport it used.
//
// It must not: retry (a person is waiting; one overall timeout; the WebSocket fallback is the
// one second attempt, over another port), follow redirects, keep
// connections between probes, or let a key, token or webhook secret reach a Result, a log
// line or an error text. It does not save anything; callers decide what to do with a Result.
package servicebus
