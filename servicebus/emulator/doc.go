// Package emulator is a local stand-in for Azure Service Bus and Event Hubs that speaks
// AMQP 1.0 on the wire and judges SAS tokens the way the service does, so the portal's probes
// and tests can run the unmodified azservicebus and azeventhubs SDKs against it over real TCP.
//
// What it does: SASL ANONYMOUS, $cbs put-token (signature against the named policy's primary
// or secondary key, sr covering the audience, expiry, namespace- or entity-level policy scope,
// DisableLocalAuth), attach authorization (Send for senders, Listen for receivers, Manage
// implies both), queues (peek-lock and receive-and-delete, complete/abandon/dead-letter,
// bounded size), topics copying to every subscription, event hubs with partitions and
// consumer groups, and the $management operations peek, schedule, cancel-scheduled,
// renew-lock and the Event Hubs READ of hub and partition properties. Plain AMQP (what
// UseDevelopmentEmulator=true connection strings dial) or TLS (Options.TLS, SelfSignedTLS),
// and AMQP over WebSockets as Azure serves it on port 443 (ServeWebSocket).
//
// Configuration is Microsoft's Service Bus emulator Config.json format extended with
// Policies, EventHubs, DisableLocalAuth and Tier; see example-config.json and README.md.
// DefaultConfig documents the configuration used without a file and its well-known keys.
//
// What it must not do: it is not a durable broker (messages live in memory, bounded by
// Limits), it keeps no secret out of memory and never logs tokens or keys, it serves only
// the addresses it is given to listen on, and it must never be exposed beyond a development
// machine: its default keys are public.
package emulator
