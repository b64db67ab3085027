package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/contoso/sbportal/dataverse"
	dvemulator "github.com/contoso/sbportal/dataverse/emulator"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/plan"
	sbemulator "github.com/contoso/sbportal/servicebus/emulator"
	"github.com/contoso/sbportal/store"
)

// importedQueue plays a solution import into Contoso Test of an endpoint on the test Service
// Bus's queue: it arrives without its key (issaskeyset false). It returns the endpoint's page.
func importedQueue(t *testing.T, w *world, name string, managed bool) string {
	t.Helper()
	ids, err := w.dv.Environments[1].ImportSolution(dvemulator.Solution{UniqueName: "Imported" + strings.ReplaceAll(name, " ", ""), Managed: managed}, map[string]any{
		"serviceendpointid": dataverse.NewGUID(), "name": name,
		"solutionnamespace": "127.0.0.1", "namespaceaddress": "sb://" + w.sbAddr + "/", "path": "dataverse-queue",
		"contract": 2, "connectionmode": 1, "userclaim": 1, "messageformat": 2, "namespaceformat": 2, "authtype": 2,
		"saskeyname": "QueueSend",
	})
	if err != nil {
		t.Fatal(err)
	}
	w.refresh(t)
	return "/endpoints/contoso-test/" + ids[0]
}

func (c *formClient) get(path string) answer { return c.send(http.MethodGet, path, nil) }

// withKey is the queue's QueueSend connection string with its key replaced by another valid one.
func wrongKey(cs string) string {
	return regexp.MustCompile(`SharedAccessKey=[^;]+`).ReplaceAllString(cs, "SharedAccessKey=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
}

func TestSetKeyAfterImport(t *testing.T) {
	w := newWorld(t)
	st, _ := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	page := importedQueue(t, w, "Imported orders", false)
	admin := w.formsFor(t, "admin")

	list := admin.get("/endpoints?status=needs-key")
	if !strings.Contains(list.body, "Imported orders") || !strings.Contains(list.body, "Key not set") || strings.Contains(list.body, "Orders queue (payments)") {
		t.Fatalf("the Needs a key filter lists %s", list.mainText())
	}
	show := admin.get(page)
	if !strings.Contains(show.body, "Key not set — typical after a solution import") || !strings.Contains(show.body, "ImportedImportedorders") {
		t.Fatalf("the endpoint page does not flag the missing key or name its solution: %s", show.mainText())
	}
	// Another policy's connection string: refused, naming the policy to copy.
	other := strings.Replace(w.queueSend, "SharedAccessKeyName=QueueSend", "SharedAccessKeyName=SendOnly", 1)
	a := admin.send(http.MethodPost, page+"/setkey", url.Values{"connectionstring": {other}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "signs with the policy QueueSend") {
		t.Fatalf("another policy's connection string: %d %s", a.status, a.mainText())
	}
	// A wrong key fails its test: Dataverse is not touched.
	a = admin.send(http.MethodPost, page+"/setkey", url.Values{"connectionstring": {wrongKey(w.queueSend)}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "did not pass the test") {
		t.Fatalf("a wrong key: %d %s", a.status, a.mainText())
	}
	id := strings.TrimPrefix(page, "/endpoints/contoso-test/")
	if got, _ := w.envs.List()[1].Client.Endpoint(w.ctx, id); got.IsSASKeySet {
		t.Fatal("a key that failed its test was written")
	}
	// The whole connection string: the key is taken from it, proved, and set.
	a = admin.send(http.MethodPost, page+"/setkey", url.Values{"connectionstring": {w.queueSend}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("set key: %d %s", a.status, a.mainText())
	}
	if got, _ := w.envs.List()[1].Client.Endpoint(w.ctx, id); !got.IsSASKeySet {
		t.Fatal("Dataverse still has no key")
	}
	entries, _ := st.ListAudit(w.ctx, store.AuditFilter{Environment: "contoso-test", EndpointID: id, Limit: 20})
	var setkey []store.AuditOutcome
	for _, e := range entries.Entries {
		if e.Action == "endpoint.setkey" {
			setkey = append(setkey, e.Outcome)
		}
		if strings.Contains(string(e.After), "SharedAccessKey") {
			t.Fatal("an audit entry holds the key")
		}
	}
	if len(setkey) != 2 {
		t.Fatalf("set key audit entries: %v, want an intent and its outcome", setkey)
	}
}

func TestManagedEndpointsAreReadOnly(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	page := importedQueue(t, w, "Partner queue", true)
	admin := w.formsFor(t, "admin")
	show := admin.get(page)
	if !strings.Contains(show.body, "Read-only in the portal") || !strings.Contains(show.body, "(managed)") || strings.Contains(show.body, page+"/edit\"") {
		t.Fatalf("a managed endpoint's page: %s", show.mainText())
	}
	if a := admin.send(http.MethodPost, page+"/delete", url.Values{"confirm": {"Partner queue"}}); a.status != http.StatusConflict {
		t.Fatalf("deleting a managed endpoint: %d", a.status)
	}
	// Re-key (by its address: the page offers no link) cannot move it to another policy.
	other := regexp.MustCompile(`SharedAccessKeyName=[^;]+;SharedAccessKey=[^;]+`).ReplaceAllString(w.queueSend,
		"SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey="+sbemulator.DefaultManagePrimaryKey)
	if a := admin.send(http.MethodPost, page+"/rekey", url.Values{"connectionstring": {other}}); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "managed solution") {
		t.Fatalf("re-keying a managed endpoint to another policy: %d %s", a.status, a.mainText())
	}
	// Its key may still be set: no solution carries keys.
	if a := admin.send(http.MethodPost, page+"/setkey", url.Values{"connectionstring": {w.queueSend}}); a.status != http.StatusSeeOther {
		t.Fatalf("set the key of a managed endpoint: %d %s", a.status, a.mainText())
	}
}

func TestAdoptAssignsATeam(t *testing.T) {
	w := newWorld(t)
	st, _ := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	rita := w.formsFor(t, "integration-registrar")
	if a := rita.get("/endpoints/adopt"); a.status != http.StatusForbidden {
		t.Fatalf("a Registrar opens the adopt page: %d", a.status)
	}
	if strings.Contains(rita.get("/endpoints").body, "Account changes topic") {
		t.Fatal("a Registrar sees an endpoint not registered through the portal")
	}
	admin := w.formsFor(t, "admin")
	page := admin.get("/endpoints/adopt?env=contoso-dev&q=account")
	values := regexp.MustCompile(`name="endpoint" value="([^"]+)"`).FindAllStringSubmatch(page.body, -1)
	if len(values) != 1 {
		t.Fatalf("the filter offers %d endpoints: %s", len(values), page.mainText())
	}
	all := admin.get("/endpoints/adopt?env=contoso-dev")
	var chosen []string
	for _, m := range regexp.MustCompile(`name="endpoint" value="([^"]+)"`).FindAllStringSubmatch(all.body, -1) {
		chosen = append(chosen, m[1])
	}
	if a := admin.send(http.MethodPost, "/endpoints/adopt", url.Values{"endpoint": chosen}); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Choose the team") {
		t.Fatalf("adopt without a team: %d", a.status)
	}
	if a := admin.send(http.MethodPost, "/endpoints/adopt", url.Values{"endpoint": chosen, "team": {"Integration"}}); a.status != http.StatusSeeOther {
		t.Fatalf("adopt: %d %s", a.status, a.mainText())
	}
	list := rita.get("/endpoints?env=contoso-dev")
	if !strings.Contains(list.body, "Account changes topic") || !strings.Contains(list.body, "Invoice webhook") {
		t.Fatalf("the team does not see what it adopted: %s", list.mainText())
	}
	entries, _ := st.ListAudit(w.ctx, store.AuditFilter{Action: "endpoint.adopt", Limit: 20})
	if len(entries.Entries) != len(chosen) {
		t.Fatalf("%d adopt audit entries for %d endpoints", len(entries.Entries), len(chosen))
	}
}

// upload posts a file to the plan page.
func (c *formClient) upload(env string, file []byte) answer {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("env", env)
	fw, _ := mw.CreateFormFile("file", "endpoints.yaml")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.w.front.URL+"/environments/plan", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.forms.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return answer{status: resp.StatusCode, body: b.String()}
}

// applyForm is the Apply form of a plan page, with values for its secrets.
func applyForm(t *testing.T, page string, secrets map[string]string) url.Values {
	t.Helper()
	v := url.Values{"nav": {"apply"}}
	for _, name := range []string{"env", "digest", "document"} {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the plan page has no %s field", name)
		}
		v.Set(name, htmlUnescape(m[1]))
	}
	for k, s := range secrets {
		v.Set("secret."+k, s)
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`, "&amp;", "&").Replace(s)
}

func TestPlanAndApplyAFile(t *testing.T) {
	w := newWorld(t)
	st, _ := w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	rita := w.formsFor(t, "integration-registrar")
	rita.savedEndpoint("Orders to promote")
	export := rita.get("/environments/export?env=contoso-dev&team=Integration&format=yaml")
	if export.status != http.StatusOK || !strings.Contains(export.body, "secret: env:ORDERS_TO_PROMOTE_SAS_KEY") {
		t.Fatalf("export: %d %s", export.status, export.body)
	}
	key := regexp.MustCompile(`SharedAccessKey=([^;]+)`).FindStringSubmatch(w.queueSend)[1]
	if strings.Contains(export.body, key) {
		t.Fatal("the exported file holds the key")
	}
	before := w.dv.Environments[1].Count("serviceendpoints")
	planned := rita.upload("contoso-test", []byte(export.body))
	if planned.status != http.StatusUnprocessableEntity || !strings.Contains(planned.body, "1 to create") || !strings.Contains(planned.body, "Supply the value of env:ORDERS_TO_PROMOTE_SAS_KEY") {
		t.Fatalf("plan without the secret: %d %s", planned.status, planned.mainText())
	}
	// A wrong key: nothing is written, and the result names the endpoint and why.
	a := rita.send(http.MethodPost, "/environments/apply", applyForm(t, planned.body, map[string]string{"ORDERS_TO_PROMOTE_SAS_KEY": wrongKey(w.queueSend)}))
	if !strings.Contains(a.body, "The apply stopped") || !strings.Contains(a.body, "Orders to promote") || !strings.Contains(a.body, "Nothing was written") {
		t.Fatalf("apply with a wrong key: %s", a.mainText())
	}
	if got := w.dv.Environments[1].Count("serviceendpoints"); got != before {
		t.Fatalf("a failed apply wrote %d endpoints", got-before)
	}
	// The right key: created, with its steps; every entry of the apply shares one change set.
	a = rita.send(http.MethodPost, "/environments/apply", applyForm(t, planned.body, map[string]string{"ORDERS_TO_PROMOTE_SAS_KEY": w.queueSend}))
	if !strings.Contains(a.body, "was applied") || !strings.Contains(a.body, "create endpoint “Orders to promote”") {
		t.Fatalf("apply: %s", a.mainText())
	}
	if got := w.dv.Environments[1].Count("serviceendpoints"); got != before+1 {
		t.Fatalf("apply created %d endpoints, want 1", got-before)
	}
	changeSet := regexp.MustCompile(`change set (apply-[^)]+)\)`).FindStringSubmatch(a.body)[1]
	entries, _ := st.ListAudit(w.ctx, store.AuditFilter{Environment: "contoso-test", Limit: 100})
	n := 0
	for _, e := range entries.Entries {
		if e.RequestID == changeSet && e.Action == "endpoint.create" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d endpoint.create entries in change set %s, want intent and outcome", n, changeSet)
	}
	// The same file again changes nothing.
	again := rita.upload("contoso-test", []byte(export.body))
	if !strings.Contains(again.body, "0 to create, 0 to update, 0 to delete, 1 unchanged") {
		t.Fatalf("plan after apply: %s", again.mainText())
	}
	a = rita.send(http.MethodPost, "/environments/apply", applyForm(t, again.body, map[string]string{"ORDERS_TO_PROMOTE_SAS_KEY": w.queueSend}))
	if !strings.Contains(a.body, "Nothing was changed") {
		t.Fatalf("applying the same file twice changed something: %s", a.mainText())
	}
	// A file with a mistake: the line and field, and what to fix.
	bad := rita.upload("contoso-test", []byte("version: 1\nendpoints:\n  - name: x\n    type: Queue\n    colour: blue\n"))
	if !strings.Contains(bad.body, "line 5") || !strings.Contains(bad.body, "Unknown field colour") {
		t.Fatalf("a file with an unknown field: %s", bad.mainText())
	}
}

// TestExportApplyExportRoundTrip: for random documents, export → apply to an environment
// holding none of the team's endpoints (Contoso Dev has none of Finance's) → export gives the same file; an empty document for the
// team then deletes them all again.
func TestExportApplyExportRoundTrip(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	fiona := w.formsFor(t, "finance-registrar")
	formats := []string{"JSON", "XML", ".NET Binary"}
	claims := []string{"None", "User ID", "User info"}
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	for round := range rounds {
		r := rand.New(rand.NewPCG(uint64(round), 12))
		doc := plan.Document{Version: plan.FormatVersion, Teams: []string{"Finance"}, Endpoints: []plan.Endpoint{}}
		secrets := map[string]string{}
		for i := range 1 + r.IntN(3) {
			e := plan.Endpoint{ID: strings.ToLower(dataverse.NewGUID()), Name: fmt.Sprintf("Finance %d-%d %x", round, i, r.Uint32()), Team: "Finance",
				Type: "Queue", Namespace: "sb://" + w.sbAddr + "/", Path: "dataverse-queue", Auth: "SAS key", Policy: "QueueSend",
				MessageFormat: formats[r.IntN(3)], UserInformation: claims[r.IntN(3)]}
			e.Secret = plan.SecretRefFor(endpoint.ServiceEndpoint{Name: e.Name, AuthType: endpoint.AuthTypeSASKey})
			secrets[strings.TrimPrefix(e.Secret, "env:")] = w.queueSend
			if r.IntN(2) == 0 {
				e.Description = fmt.Sprintf("Random description %d", r.IntN(1000))
			}
			for j := range r.IntN(3) {
				st := plan.Step{ID: strings.ToLower(dataverse.NewGUID()), Name: fmt.Sprintf("step %d", j), Message: "Create", Table: "account",
					Stage: "Post-operation", Mode: "Asynchronous", Rank: 1 + r.IntN(5)}
				if r.IntN(2) == 0 {
					st.Message, st.Table, st.FilteringAttributes = "Update", "account", []string{"name"}
				}
				e.Steps = append(e.Steps, st)
			}
			doc.Endpoints = append(doc.Endpoints, e)
		}
		want, err := plan.Encode(doc, plan.YAML)
		if err != nil {
			t.Fatal(err)
		}
		planned := fiona.upload("contoso-dev", want)
		a := fiona.send(http.MethodPost, "/environments/apply", applyForm(t, planned.body, secrets))
		if !strings.Contains(a.body, "was applied") {
			t.Fatalf("round %d: apply: %s\nfile:\n%s", round, a.mainText(), want)
		}
		got := fiona.get("/environments/export?env=contoso-dev&team=Finance&format=yaml")
		if got.body != string(want) {
			t.Fatalf("round %d: export after apply differs\nwant:\n%s\ngot:\n%s", round, want, got.body)
		}
		empty, _ := plan.Encode(plan.Document{Version: plan.FormatVersion, Teams: []string{"Finance"}, Endpoints: []plan.Endpoint{}}, plan.YAML)
		planned = fiona.upload("contoso-dev", empty)
		a = fiona.send(http.MethodPost, "/environments/apply", applyForm(t, planned.body, nil))
		if !strings.Contains(a.body, "was applied") {
			t.Fatalf("round %d: deleting: %s", round, a.mainText())
		}
	}
}

func TestCopyToEnvironment(t *testing.T) {
	w := newWorld(t)
	w.addPortal(t, filepath.Join(t.TempDir(), "portal.db"))
	rita := w.formsFor(t, "integration-registrar")
	src := rita.savedEndpoint("Orders to copy")
	form := rita.get(src + "/copy")
	if form.status != http.StatusOK || !strings.Contains(form.body, `value="contoso-test"`) || !strings.Contains(form.body, `value="dataverse-queue"`) {
		t.Fatalf("copy form: %d %s", form.status, form.mainText())
	}
	v := url.Values{"target": {"contoso-test"}, "name": {"Orders to copy (test)"}, "namespace": {"sb://" + w.sbAddr + "/"},
		"path": {"dataverse-queue"}, "policy": {"QueueSend"}, "steps": {"1"}, "nav": {"compare"}}
	if a := rita.send(http.MethodPost, src+"/copy", v); a.status != http.StatusOK || !strings.Contains(a.body, "What will be created") || !strings.Contains(a.body, "<strong>Orders to copy (test)</strong>") {
		t.Fatalf("side by side: %d %s", a.status, a.mainText())
	}
	v.Set("nav", "copy")
	if a := rita.send(http.MethodPost, src+"/copy", v); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "proved by a test message") {
		t.Fatalf("copy without the target's key: %d %s", a.status, a.mainText())
	}
	before := w.dv.Environments[1].Count("serviceendpoints")
	v.Set("connectionstring", wrongKey(w.queueSend))
	if a := rita.send(http.MethodPost, src+"/copy", v); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Nothing was copied") {
		t.Fatalf("copy with a wrong key: %d %s", a.status, a.mainText())
	}
	if w.dv.Environments[1].Count("serviceendpoints") != before {
		t.Fatal("a copy whose key failed its test was created")
	}
	v.Set("connectionstring", w.queueSend)
	a := rita.send(http.MethodPost, src+"/copy", v)
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/endpoints/contoso-test/") {
		t.Fatalf("copy: %d %s", a.status, a.mainText())
	}
	if !strings.Contains(rita.get(a.location).body, `href="`+src+`"`) || !strings.Contains(rita.get(src).body, `href="`+a.location+`"`) {
		t.Fatal("the endpoint and its copy do not link to each other")
	}
}
