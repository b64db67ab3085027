// Package devidp is a small local OpenID Connect provider for `portal dev` and tests. It answers
// like Microsoft Entra ID v2.0 (discovery under /<tenant>/v2.0, authorize and token under
// /<tenant>/oauth2/v2.0, keys, end-session, userinfo) and issues ID tokens shaped like Entra
// ID's (iss with the tenant id, tid, oid, roles, groups, name, preferred_username, nonce), for
// personas picked on a page instead of a password. Its end-session endpoint, like real
// providers, returns only to a registered post_logout_redirect_uri of a named application
// (client_id or id_token_hint); Options.ProfileOnlyInUserInfo makes it keep names out of ID
// tokens, as many generic providers do.
//
// It is for loopback use only: it authenticates nobody. It must not be reachable from other
// machines, and nothing in the portal's auth package may know it is talking to it. Tests may
// change the next tokens' claims (SetTokenHook) to check how the portal refuses bad tokens.
package devidp
