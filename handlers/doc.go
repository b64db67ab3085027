// Package handlers is the portal's HTTP layer: the chi router, middleware, and one small file
// per action. Handlers are thin: decode the request, ask the domain and the services, render a
// web component. They return errors; errors.go maps every error to a status and a page in one
// place.
//
// Handlers never compare role strings (they ask the auth policy), never log or render secrets,
// and never change state on GET.
package handlers
