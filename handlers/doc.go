// Package handlers is the portal's HTTP layer: the chi router (every route in routes.go),
// middleware, and one small file per action, each action a method of Server with separate
// functions for GET (the form) and POST (the submission). Handlers are thin: decode the request,
// ask the domain and the services, render a web component. Endpoints are read from the catalog,
// never from Dataverse per view. They return errors; errors.go maps every error (the store's and
// Dataverse's included) to a status and a page in one place.
//
// Handlers never compare role strings (they ask the auth policy), never log or render secrets,
// and never change state on GET.
package handlers
