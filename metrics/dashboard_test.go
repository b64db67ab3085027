package metrics_test

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/metrics"
	"github.com/contoso/sbportal/servicebus"
)

const dashboardFile = "../deploy/grafana/portal-dashboard.json"

// dashboard is what the test reads of a Grafana dashboard.
type dashboard struct {
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// seriesName finds the metric names in a PromQL expression (the portal's, Go's and the process
// collector's; label names and functions do not start with these prefixes).
var seriesName = regexp.MustCompile(`\b(?:portal|go|process)_[a-z0-9_]+`)

// TestDashboardQueriesExposedSeries: the dashboard's queries name only series the registry
// exposes, every portal series has a panel, and panels use the data source variable.
func TestDashboardQueriesExposedSeries(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s is not JSON: %v", dashboardFile, err)
	}
	hasDatasourceVar := false
	var queries []string
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Query == "prometheus" {
			hasDatasourceVar = v.Name == "datasource"
		}
		if q, ok := v.Query.(map[string]any); ok {
			s, _ := q["query"].(string)
			queries = append(queries, s)
		}
	}
	if !hasDatasourceVar {
		t.Error("the dashboard has no Prometheus data source variable named datasource")
	}
	panels := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		panels++
		if p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: data source %+v, %d queries; want the ${datasource} variable and a query", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			queries = append(queries, tg.Expr)
		}
	}
	if panels < 10 {
		t.Errorf("%d panels", panels)
	}

	exposed := exposedSeries(t)
	used := map[string]bool{}
	for _, q := range queries {
		names := seriesName.FindAllString(q, -1)
		if len(names) == 0 {
			t.Errorf("query names no series: %s", q)
		}
		for _, n := range names {
			family, ok := exposed[n]
			if !ok {
				t.Errorf("query uses %s, which the registry does not expose: %s", n, q)
			}
			used[family] = true
		}
	}
	for _, family := range exposed {
		if strings.HasPrefix(family, "portal_") && !used[family] {
			t.Errorf("no panel shows %s", family)
		}
	}
}

// exposedSeries feeds every portal series once and returns the sample names the registry
// then exposes (a histogram's _bucket, _sum and _count), each with its family's name.
func exposedSeries(t *testing.T) map[string]string {
	t.Helper()
	m := metrics.New()
	_, envs := dataverseStack(t, m)
	cat := watchedCatalog(t, m, envs)
	if err := cat.Refresh(context.Background(), "contoso-dev"); err != nil { // also a Dataverse request
		t.Fatal(err)
	}
	m.ObserveRequest("GET", "/endpoints/{env}/{id}", 200, time.Millisecond)
	m.ObserveProbe(servicebus.Request{Endpoint: endpoint.ServiceEndpoint{Contract: endpoint.ContractTopic}},
		servicebus.Result{Cause: servicebus.CauseWrongKey, Duration: time.Second})
	m.ObserveDataverse("contoso-dev", dataverse.Attempt{Method: "GET", Status: 429, Duration: time.Millisecond})
	m.SetRevalidationLag("contoso-dev", time.Minute)
	m.NotificationSent("email", "sent")

	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range fams {
		name := f.GetName()
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				out[name+suffix] = name
			}
		case dto.MetricType_SUMMARY:
			out[name+"_sum"], out[name+"_count"] = name, name
			out[name] = name
		default:
			out[name] = name
		}
	}
	for _, want := range []string{"portal_catalog_age_seconds", "portal_dataverse_throttled_total", "portal_probes_total"} {
		if _, ok := out[want]; !ok {
			t.Fatalf("%s not exposed after feeding it", want)
		}
	}
	return out
}
