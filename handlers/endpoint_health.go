package handlers

import (
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/web"
)

// The list's Health filter.
const (
	healthFailing    = "failing"
	healthDeliveries = "deliveries"
)

func healthFilterOptions(current string) []web.Option {
	opts := []web.Option{{Value: "", Label: "Any"}, {Value: healthFailing, Label: "Failing"},
		{Value: healthDeliveries, Label: "Failed deliveries (7 days)"}}
	for i := range opts {
		opts[i].Selected = opts[i].Value == current
	}
	return opts
}

// matchesHealth applies the list's Health filter to one entry.
func matchesHealth(filter string, e *catalogEntry) bool {
	switch filter {
	case healthFailing:
		return e.Health.Failing()
	case healthDeliveries:
		return e.Health.Deliveries.Any()
	}
	return true
}

// rowHealth is what a list line shows of an entry's health.
func rowHealth(e *catalogEntry) web.RowHealth {
	h := e.Health
	return web.RowHealth{FailingSince: h.FailingSince, Reason: h.FailingReason, Failed: h.Deliveries.Failed7d,
		Waiting: h.Deliveries.Waiting7d, Checked: !h.Deliveries.CheckedAt.IsZero()}
}

// healthView is the endpoint page's Health section for an entry; keyStored says scheduled
// re-validation covers it, canCheck offers "Ask Dataverse to check".
func healthView(c catalogEntry, keyStored, canCheck bool) web.HealthView {
	h := c.Health
	_, proof := endpoint.ScheduledProbe(c.Endpoint.Contract)
	d := h.Deliveries
	return web.HealthView{FailingSince: h.FailingSince, Reason: h.FailingReason, Scheduled: keyStored, Proof: proof,
		DeliveriesCheckedAt: d.CheckedAt, Failed24h: d.Failed24h, Waiting24h: d.Waiting24h, Failed7d: d.Failed7d,
		Waiting7d: d.Waiting7d, LastError: d.LastError, LastErrorAt: d.LastErrorAt, CanCheck: canCheck}
}
