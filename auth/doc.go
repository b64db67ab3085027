// Package auth signs people in through OpenID Connect (Microsoft Entra ID or any standard
// provider), keeps their sessions server-side, turns ID token claims into an Identity (user,
// tenant, roles, teams), and decides in one place, the Policy, who may do what.
//
// It must not know which provider it talks to beyond what configuration says (the local
// provider in auth/devidp goes through exactly the same code as Entra ID), must not import the
// portal's store (sessions go through the SessionStore interface), and must never put tokens,
// client secrets or session ids in logs, errors, pages or URLs. The one exception is the
// provider's own end-session URL, which carries the sign-in's ID token as id_token_hint as
// OpenID Connect RP-Initiated Logout asks (kept until then in a sealed cookie, never in the
// session). Names come from the ID token, then from the provider's userinfo endpoint; roles,
// groups and the identity only from the verified ID token. Handlers ask the Policy; they
// never compare role strings themselves.
package auth
