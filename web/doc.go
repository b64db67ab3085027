// Package web holds the portal's templ components: the layout, the pages and their partials.
//
// Components take plain values prepared by the handlers and never reach for data themselves:
// no I/O, no access to the request beyond the context templ passes (for the CSP nonce).
// Secrets never reach a component; they are shown as "set" or "not set".
package web
