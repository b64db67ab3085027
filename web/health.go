package web

import "time"

// RowHealth is what a list line shows of an endpoint's health.
type RowHealth struct {
	// FailingSince is set while the endpoint is failing; Reason says why.
	FailingSince time.Time
	Reason       string
	// Failed and Waiting count its steps' failed deliveries and those waiting for a retry in
	// the last 7 days; Checked says they were read at all.
	Failed, Waiting int
	Checked         bool
}

// HealthView is the endpoint page's Health section.
type HealthView struct {
	FailingSince time.Time
	Reason       string
	// Scheduled says whether scheduled re-validation covers the endpoint (the portal keeps its
	// key) and Proof how it proves it.
	Scheduled bool
	Proof     string
	// Deliveries, read at DeliveriesCheckedAt (zero: not read yet).
	DeliveriesCheckedAt   time.Time
	Failed24h, Waiting24h int
	Failed7d, Waiting7d   int
	LastError             string
	LastErrorAt           time.Time
	// CanCheck offers "Ask Dataverse to check"; Check is its result.
	CanCheck bool
	Check    ProbeView
}

// Notification is one line of the Notifications page.
type Notification struct {
	When        time.Time
	Team        string
	Channel     string
	Target      string // where it goes, without secrets
	Endpoint    string
	EndpointURL string
	Subject     string
	Body        string
	State       string // "sent", "failed, will retry", "pending"
	Attempts    int
	LastError   string
}

// NotificationsPage is the local stack's page of what was (or would have been) sent.
type NotificationsPage struct {
	Rows []Notification
	// Note says where notifications go in this stack, e.g. the stand-in SMTP recipient.
	Note string
}
