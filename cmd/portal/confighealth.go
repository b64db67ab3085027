package main

import (
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/health"
	"github.com/contoso/sbportal/notify"
)

// healthConfig tunes scheduled re-validation and the reading of failed deliveries.
type healthConfig struct {
	// Interval is how often each endpoint with a stored key is re-validated (default 6h).
	Interval string `json:"interval,omitempty"`
	// Concurrency bounds the re-validations in flight (default 4).
	Concurrency int `json:"concurrency,omitempty"`
	// Deliveries is how often failed deliveries are read from Dataverse (default 15m).
	Deliveries string `json:"deliveries,omitempty"`
}

// notificationsConfig says how teams are told that their endpoints start or stop failing.
// Secrets stay out of the file: a webhook URL (it carries its key) and the SMTP password are
// read from the environment variables named here.
type notificationsConfig struct {
	SMTP  smtpConfig                  `json:"smtp"`
	Teams map[string]teamTargetConfig `json:"teams"`
}

type smtpConfig struct {
	Addr        string `json:"addr,omitempty"` // host:port
	From        string `json:"from,omitempty"`
	Username    string `json:"username,omitempty"`
	PasswordEnv string `json:"passwordEnv,omitempty"`
}

type teamTargetConfig struct {
	WebhookURLEnv string   `json:"webhookUrlEnv,omitempty"`
	Email         []string `json:"email,omitempty"`
}

// healthOptions are the scheduler's settings from the file (zero: the defaults); checked by
// checkHealthConfig.
func (fc fileConfig) healthOptions() health.Options {
	var o health.Options
	o.Interval, _ = time.ParseDuration(fc.Health.Interval)
	o.DeliveryEvery, _ = time.ParseDuration(fc.Health.Deliveries)
	o.Concurrency = fc.Health.Concurrency
	return o
}

// notifyOptions are the teams' targets and the SMTP server, with the secrets read from the
// environment variables the file names.
func (fc fileConfig) notifyOptions(getenv func(string) string) notify.Options {
	n := fc.Notifications
	o := notify.Options{Targets: map[string]notify.Target{},
		SMTP: notify.SMTP{Addr: n.SMTP.Addr, From: n.SMTP.From, Username: n.SMTP.Username}}
	if n.SMTP.PasswordEnv != "" {
		o.SMTP.Password = endpoint.NewSecret(getenv(n.SMTP.PasswordEnv))
	}
	for team, t := range n.Teams {
		target := notify.Target{Email: slices.Clone(t.Email)}
		if t.WebhookURLEnv != "" {
			target.WebhookURL = endpoint.NewSecret(getenv(t.WebhookURLEnv))
		}
		o.Targets[team] = target
	}
	return o
}

// checkHealthConfig lists what is wrong with the health and notifications settings. It never
// quotes a secret's value.
func checkHealthConfig(fc fileConfig) []string {
	var problems []string
	problems = append(problems, checkInterval("health.interval", fc.Health.Interval, time.Minute)...)
	problems = append(problems, checkInterval("health.deliveries", fc.Health.Deliveries, time.Minute)...)
	if c := fc.Health.Concurrency; c < 0 || c > 64 {
		problems = append(problems, fmt.Sprintf("health.concurrency is %d: write a number from 1 to 64, or leave it out for the default (4)", c))
	}
	n := fc.Notifications
	needSMTP := false
	for team, t := range n.Teams {
		if t.WebhookURLEnv == "" && len(t.Email) == 0 {
			problems = append(problems, fmt.Sprintf("notifications.teams.%s: give webhookUrlEnv and/or email", team))
		}
		if t.WebhookURLEnv != "" {
			v := os.Getenv(t.WebhookURLEnv)
			if u, err := url.Parse(v); v == "" || err != nil || u.Scheme != "https" || u.Host == "" {
				problems = append(problems, fmt.Sprintf("notifications.teams.%s.webhookUrlEnv names %s, which must hold the team's incoming-webhook URL (https://…)", team, t.WebhookURLEnv))
			}
		}
		for _, a := range t.Email {
			if _, err := mail.ParseAddress(a); err != nil {
				problems = append(problems, fmt.Sprintf("notifications.teams.%s.email: %q is not an e-mail address", team, a))
			}
		}
		needSMTP = needSMTP || len(t.Email) > 0
	}
	if needSMTP && (n.SMTP.Addr == "" || n.SMTP.From == "") {
		problems = append(problems, `notifications.smtp needs "addr" (host:port, e.g. "smtp.contoso.com:587") and "from" when a team has e-mail addresses`)
	}
	if n.SMTP.PasswordEnv != "" && os.Getenv(n.SMTP.PasswordEnv) == "" {
		problems = append(problems, fmt.Sprintf("notifications.smtp.passwordEnv names %s, which is not set", n.SMTP.PasswordEnv))
	}
	return problems
}
