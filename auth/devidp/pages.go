package devidp

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"slices"
)

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Local identity provider</title>
<style nonce="{{.Nonce}}">
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;line-height:1.5}
h1{font-size:1.4rem}.note{color:#555}
fieldset{border:1px solid #ccd;border-radius:8px;padding:1rem}
.persona{display:block;width:100%;text-align:left;margin:.4rem 0;padding:.6rem .8rem;border:1px solid #99a;border-radius:6px;background:#f7f9fc;font:inherit;cursor:pointer}
.persona:hover,.persona:focus{background:#e6efff;outline:2px solid #2f74dc}
.persona span{display:block;color:#444;font-size:.9rem}
.cancel{margin-top:1rem;font:inherit;padding:.4rem .8rem}
</style></head><body><main>{{end}}
{{define "picker"}}{{template "head" .}}
<h1>Sign in to {{.AppName}}</h1>
<p class="note">Local identity provider of the portal's dev stack: choose who you are. No password; never use this outside your computer.</p>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<fieldset><legend>People in tenant {{.Tenant}}</legend>
{{range .Personas}}<button class="persona" type="submit" name="persona" value="{{.ID}}" id="persona-{{.ID}}"><strong>{{.Name}}</strong><span>{{.Username}} · {{.Description}}</span></button>
{{end}}</fieldset>
<button class="cancel" type="submit" name="cancel" value="1">Cancel sign-in</button>
</form></main></body></html>{{end}}
{{define "message"}}{{template "head" .}}<h1>{{.Title}}</h1><p>{{.Message}}</p></main></body></html>{{end}}
`))

// writePage renders a page under a strict Content-Security-Policy: nothing but its own nonce'd
// style, and forms that may only post here and continue to the client's registered addresses.
func (p *Provider) writePage(w http.ResponseWriter, status int, name string, data map[string]any, formTargets []string) {
	nonce := randomString()
	data["Nonce"] = nonce
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "page could not be rendered", http.StatusInternalServerError)
		return
	}
	formAction := "'self'"
	for _, t := range formTargets {
		formAction += " " + t
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; form-action "+formAction+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *Provider) pickerPage(w http.ResponseWriter, seg string, req authRequest, c Client) {
	hidden := map[string]string{"client_id": req.ClientID, "redirect_uri": req.RedirectURI, "response_type": req.ResponseType,
		"scope": req.Scope, "state": req.State, "nonce": req.Nonce, "code_challenge": req.Challenge,
		"code_challenge_method": req.ChallengeMethod}
	// The form's redirect continues to the client: browsers apply form-action to it.
	var origins []string
	for _, r := range c.RedirectURIs {
		if u, err := url.Parse(r); err == nil && !slices.Contains(origins, u.Scheme+"://"+u.Host) {
			origins = append(origins, u.Scheme+"://"+u.Host)
		}
	}
	tenant := seg
	if isMultiTenant(seg) {
		tenant = seg + " (any tenant)"
	}
	name := c.Name
	if name == "" {
		name = c.ID
	}
	p.writePage(w, http.StatusOK, "picker", map[string]any{"Title": "Sign in", "AppName": name,
		"Action": "/" + seg + "/oauth2/v2.0/authorize", "Hidden": hidden, "Personas": p.personas, "Tenant": tenant}, origins)
}

func (p *Provider) errorPage(w http.ResponseWriter, status int, message string) {
	p.messagePage(w, status, "Sign-in request refused", message)
}

func (p *Provider) messagePage(w http.ResponseWriter, status int, title, message string) {
	p.writePage(w, status, "message", map[string]any{"Title": title, "Message": message}, nil)
}
