// Package metrics is the portal's Prometheus instrumentation: one registry of its own (with
// the Go runtime and process collectors) holding every series the portal exports, the
// observers the other packages are given (HTTP requests, probes, Dataverse requests), a
// collector reading the catalog's freshness, and the /metrics handler.
//
// Every label value comes from a small fixed set or from the portal's configuration (route
// patterns, environment ids, probe causes): never from a raw path, a record id, a name or
// anything a client chooses, which would let the series multiply without bound and could
// carry ids into the monitoring system.
//
// What it must not do: register with Prometheus's global registry, serve anything but the
// metrics, or decide anything (it only counts what the portal did).
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/contoso/sbportal/catalog"
	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/servicebus"
)

// Path is where the metrics are served: on the dev address in `portal dev`, and on the
// separate PORTAL_METRICS_LISTEN address in `portal serve`.
const Path = "/metrics"

// UnmatchedRoute labels requests no route matched: unknown paths (404) and known paths asked
// with a method they do not take (405). Their raw paths are never labels.
const UnmatchedRoute = "unmatched"

// Histogram buckets, in seconds. Pages answer in milliseconds; probes and Dataverse calls take
// up to their timeouts (15s, and Dataverse's retries within a few seconds).
var (
	httpBuckets      = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	probeBuckets     = []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30}
	dataverseBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

// Metrics holds the portal's registry and series. Build it once (New) and hand it to what
// reports into it; its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	probes        *prometheus.CounterVec
	probeDuration *prometheus.HistogramVec

	dataverseRequests  *prometheus.CounterVec
	dataverseThrottled *prometheus.CounterVec
	dataverseDuration  *prometheus.HistogramVec

	revalidationLag *prometheus.GaugeVec
	notifications   *prometheus.CounterVec

	now func() time.Time
}

// New builds the registry with every series of the portal, and the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		now: time.Now,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total",
			Help: "HTTP requests answered by the portal, by route pattern (\"unmatched\" when no route matched), method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portal_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: httpBuckets,
		}, []string{"route", "method"}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_probes_total",
			Help: "Endpoint probes (test messages) run, by kind (queue, topic, eventhub, relay, webhook, other) and cause (\"passed\", or why it failed).",
		}, []string{"kind", "cause"}),
		probeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portal_probe_duration_seconds",
			Help:    "Time a probe took, DNS to answer, by kind.",
			Buckets: probeBuckets,
		}, []string{"kind"}),
		dataverseRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_dataverse_requests_total",
			Help: "HTTP requests sent to the Dataverse Web API (each attempt of a retried call), by environment, method and status class (2xx, 3xx, 4xx, 5xx, or error when no answer came).",
		}, []string{"environment", "method", "status_class"}),
		dataverseThrottled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_dataverse_throttled_total",
			Help: "Dataverse answers 429 (service protection limits), by environment.",
		}, []string{"environment"}),
		dataverseDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portal_dataverse_request_duration_seconds",
			Help:    "Time until Dataverse's answer headers arrived (or the request failed), by environment.",
			Buckets: dataverseBuckets,
		}, []string{"environment"}),
		revalidationLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portal_revalidation_lag_seconds",
			Help: "How far scheduled re-validation is behind its schedule, by environment: the age of the most overdue endpoint's last validation beyond the interval.",
		}, []string{"environment"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_notifications_total",
			Help: "Notifications the portal tried to send, by channel and outcome (sent or failed).",
		}, []string{"channel", "outcome"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration,
		m.probes, m.probeDuration,
		m.dataverseRequests, m.dataverseThrottled, m.dataverseDuration,
		m.revalidationLag, m.notifications,
	)
	return m
}

// Registry is the portal's registry, for tests and for registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest counts one answered HTTP request. route is the chi route pattern that served
// it ("" when none matched), never the raw path.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	if route == "" {
		route = UnmatchedRoute
	}
	method = methodLabel(method)
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// methodLabel keeps the method label to the methods HTTP defines: a client can send any token.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// ObserveProbe counts one probe; it has the signature of servicebus.Options.Observe.
func (m *Metrics) ObserveProbe(req servicebus.Request, res servicebus.Result) {
	kind := probeKind(req.Endpoint.Contract)
	cause := string(res.Cause)
	if res.Passed || cause == "" {
		cause = "passed"
	}
	m.probes.WithLabelValues(kind, cause).Inc()
	m.probeDuration.WithLabelValues(kind).Observe(res.Duration.Seconds())
}

// probeKind is the kind label of an endpoint's contract.
func probeKind(c endpoint.Contract) string {
	switch {
	case c == endpoint.ContractQueue || c == endpoint.ContractPersistentQueue:
		return "queue"
	case c == endpoint.ContractTopic:
		return "topic"
	case c == endpoint.ContractEventHub:
		return "eventhub"
	case c.IsRelay():
		return "relay"
	case c == endpoint.ContractWebhook:
		return "webhook"
	}
	return "other"
}

// ObserveDataverse counts one Web API request of an environment; it has the signature of
// dataverse.EnvironmentsOptions.Observe.
func (m *Metrics) ObserveDataverse(envID string, a dataverse.Attempt) {
	m.dataverseRequests.WithLabelValues(envID, methodLabel(a.Method), statusClass(a.Status)).Inc()
	if a.Status == http.StatusTooManyRequests {
		m.dataverseThrottled.WithLabelValues(envID).Inc()
	}
	m.dataverseDuration.WithLabelValues(envID).Observe(a.Duration.Seconds())
}

// statusClass is "2xx" for 200-299 and so on; "error" when no answer came.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}

// SetRevalidationLag records how far scheduled re-validation of an environment is behind.
// Registered for the health scheduler, which does not exist yet.
func (m *Metrics) SetRevalidationLag(envID string, lag time.Duration) {
	m.revalidationLag.WithLabelValues(envID).Set(max(lag, 0).Seconds())
}

// NotificationSent counts one notification the portal tried to send on a channel (e.g.
// "email", "teams"), with its outcome ("sent" or "failed"). Registered for the notifier, which
// does not exist yet.
func (m *Metrics) NotificationSent(channel, outcome string) {
	m.notifications.WithLabelValues(channel, outcome).Inc()
}

// WatchCatalog exports each environment's catalog freshness, read from cat at every scrape:
// portal_catalog_age_seconds (since the last successful refresh; absent until the first) and
// portal_catalog_endpoints. Call it once per catalog.
func (m *Metrics) WatchCatalog(cat *catalog.Catalog, envs *dataverse.Environments) {
	m.reg.MustRegister(&catalogCollector{cat: cat, envs: envs, now: m.now})
}

var (
	catalogAgeDesc = prometheus.NewDesc("portal_catalog_age_seconds",
		"Seconds since the catalog of an environment last matched Dataverse (its last successful refresh); absent until the first load.",
		[]string{"environment"}, nil)
	catalogEndpointsDesc = prometheus.NewDesc("portal_catalog_endpoints",
		"Service endpoints in the catalog of an environment.",
		[]string{"environment"}, nil)
)

// catalogCollector reads the catalog's views at scrape time: no goroutine keeps gauges current.
type catalogCollector struct {
	cat  *catalog.Catalog
	envs *dataverse.Environments
	now  func() time.Time
}

func (c *catalogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- catalogAgeDesc
	ch <- catalogEndpointsDesc
}

func (c *catalogCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	for _, env := range c.envs.List() {
		v, ok := c.cat.View(env.ID)
		if !ok || !v.Status.Loaded {
			continue
		}
		ch <- prometheus.MustNewConstMetric(catalogAgeDesc, prometheus.GaugeValue, max(now.Sub(v.Status.AsOf), 0).Seconds(), env.ID)
		ch <- prometheus.MustNewConstMetric(catalogEndpointsDesc, prometheus.GaugeValue, float64(len(v.Entries)), env.ID)
	}
}
