// Package notify tells a team when one of its endpoints starts or stops failing: through the
// team's incoming webhook (Teams, Slack) and/or by e-mail over SMTP, as configured per team in
// PORTAL_CONFIG.
//
// Notifications are written to the store's outbox in the same transaction as the change of
// health they tell of (Compose builds them; store.SetFailing queues them), so one change is one
// notification per channel however many checks see it, across restarts and replicas. SendDue
// sends what is due; the replica holding the health lease calls it. A failed send is retried
// later, with a growing delay, and counted.
//
// What it must not do: decide whether an endpoint is failing (package health does), or let a
// webhook URL or SMTP password reach a log, an error, a page or the store: targets are
// endpoint.Secret values looked up at send time, and errors are stripped of addresses.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/store"
)

// The channels a notification goes out on (the metrics' channel label).
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
)

// The events a notification tells of.
const (
	EventFailing   = "failing"
	EventRecovered = "recovered"
)

// Target is where one team is told: an incoming-webhook URL (a secret: it carries the key that
// lets anyone post) and/or e-mail addresses.
type Target struct {
	WebhookURL endpoint.Secret
	Email      []string
}

// SMTP is the mail server e-mail notifications go through. Without a password no AUTH is
// sent; with one, net/smtp's PLAIN auth, which it sends only over TLS or to localhost.
type SMTP struct {
	Addr     string // host:port, e.g. smtp.contoso.com:587
	From     string
	Username string
	Password endpoint.Secret
}

// Options configure a Notifier.
type Options struct {
	Store *store.Store
	// Targets are the teams' targets, by team name; a team without one is not told.
	Targets map[string]Target
	SMTP    SMTP
	// PortalURL is the portal's base URL, for links in the messages ("" leaves them out).
	PortalURL string
	// HTTPClient posts to webhooks (default: a client with a 15 s timeout).
	HTTPClient *http.Client
	// Observe is told of every send tried: channel and "sent" or "failed" (metrics).
	Observe func(channel, outcome string)
	Now     func() time.Time
	Logger  *slog.Logger
}

// Notifier composes and sends notifications.
type Notifier struct{ opts Options }

// New builds a Notifier.
func New(o Options) *Notifier {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Observe == nil {
		o.Observe = func(string, string) {}
	}
	return &Notifier{opts: o}
}

// Event is a change of an endpoint's health.
type Event struct {
	Team            string
	Environment     string
	EnvironmentName string
	EndpointID      string
	EndpointName    string
	Failing         bool   // started failing (true) or stopped (false)
	Reason          string // why it fails, or what passed; never a secret
	At              time.Time
}

// Compose returns the notifications of ev, one per channel of its team's target (none for a
// team without one).
func (n *Notifier) Compose(ev Event) []store.Notification {
	if n == nil {
		return nil
	}
	t, ok := n.opts.Targets[ev.Team]
	if !ok || ev.Team == "" {
		return nil
	}
	event, subject := EventRecovered, fmt.Sprintf("Recovered: %s in %s works again", ev.EndpointName, ev.EnvironmentName)
	if ev.Failing {
		event, subject = EventFailing, fmt.Sprintf("Failing: %s in %s", ev.EndpointName, ev.EnvironmentName)
	}
	var b strings.Builder
	if ev.Failing {
		fmt.Fprintf(&b, "The service endpoint %s in %s (team %s) is failing since %s.\n%s\n",
			ev.EndpointName, ev.EnvironmentName, ev.Team, ev.At.UTC().Format("2006-01-02 15:04 UTC"), ev.Reason)
	} else {
		fmt.Fprintf(&b, "The service endpoint %s in %s (team %s) works again since %s.\n%s\n",
			ev.EndpointName, ev.EnvironmentName, ev.Team, ev.At.UTC().Format("2006-01-02 15:04 UTC"), ev.Reason)
	}
	if n.opts.PortalURL != "" {
		fmt.Fprintf(&b, "Open it in the portal: %s/endpoints/%s/%s\n", strings.TrimSuffix(n.opts.PortalURL, "/"),
			url.PathEscape(ev.Environment), url.PathEscape(ev.EndpointID))
	}
	base := store.Notification{CreatedAt: ev.At, Team: ev.Team, Environment: ev.Environment, EndpointID: ev.EndpointID,
		EndpointName: ev.EndpointName, Event: event, Subject: subject, Body: b.String()}
	var out []store.Notification
	if t.WebhookURL.IsSet() {
		nt := base
		nt.Channel = ChannelWebhook
		out = append(out, nt)
	}
	if len(t.Email) > 0 {
		nt := base
		nt.Channel = ChannelEmail
		out = append(out, nt)
	}
	return out
}

// Describe says where a team's notifications on a channel go, without the secret part: the
// webhook's host only, the e-mail addresses in full.
func (n *Notifier) Describe(team, channel string) string {
	if n == nil {
		return "not configured"
	}
	t, ok := n.opts.Targets[team]
	switch {
	case !ok:
		return "no target configured for team " + team
	case channel == ChannelWebhook && t.WebhookURL.IsSet():
		return "incoming webhook at " + MaskURL(t.WebhookURL)
	case channel == ChannelEmail && len(t.Email) > 0:
		return "e-mail to " + strings.Join(t.Email, ", ")
	}
	return "not configured"
}

// MaskURL shows a webhook URL's scheme and host only: its path and query carry the key.
func MaskURL(u endpoint.Secret) string {
	p, err := url.Parse(u.Reveal())
	if err != nil || p.Host == "" {
		return "(an address that is not a URL)"
	}
	return p.Scheme + "://" + p.Host + "/…"
}

// Retry delays: the first retry after a minute, doubling up to an hour.
const (
	firstRetry = time.Minute
	lastRetry  = time.Hour
)

func retryDelay(attempts int) time.Duration {
	d := firstRetry
	for range attempts {
		d *= 2
		if d >= lastRetry {
			return lastRetry
		}
	}
	return d
}

// SendDue sends every notification due now (at most 100 a call) and records each outcome;
// it returns how many were sent and how many failed.
func (n *Notifier) SendDue(ctx context.Context) (sent, failed int, err error) {
	now := n.opts.Now()
	due, err := n.opts.Store.DueNotifications(ctx, now, 100)
	if err != nil {
		return 0, 0, err
	}
	for _, nt := range due {
		if serr := n.send(ctx, nt); serr != nil {
			failed++
			n.opts.Observe(nt.Channel, "failed")
			n.opts.Logger.WarnContext(ctx, "notify: a send failed; will retry", "notification", nt.ID, "channel", nt.Channel,
				"team", nt.Team, "attempts", nt.Attempts+1, "err", serr)
			if err := n.opts.Store.NotificationFailed(ctx, nt.ID, serr.Error(), now.Add(retryDelay(nt.Attempts))); err != nil {
				return sent, failed, err
			}
			continue
		}
		sent++
		n.opts.Observe(nt.Channel, "sent")
		if err := n.opts.Store.NotificationSent(ctx, nt.ID, n.opts.Now()); err != nil {
			return sent, failed, err
		}
	}
	return sent, failed, nil
}

// errNoTarget: the team's target for the channel left the configuration.
var errNoTarget = errors.New("the team has no target for this channel in PORTAL_CONFIG any more")

func (n *Notifier) send(ctx context.Context, nt store.Notification) error {
	t, ok := n.opts.Targets[nt.Team]
	if !ok {
		return errNoTarget
	}
	switch nt.Channel {
	case ChannelWebhook:
		if !t.WebhookURL.IsSet() {
			return errNoTarget
		}
		return n.postWebhook(ctx, t.WebhookURL, nt)
	case ChannelEmail:
		if len(t.Email) == 0 {
			return errNoTarget
		}
		return n.sendMail(nt, t.Email)
	}
	return fmt.Errorf("unknown channel %q", nt.Channel)
}

// postWebhook posts {"text": …}, which Slack and Teams incoming webhooks both accept. Errors
// never carry the URL.
func (n *Notifier) postWebhook(ctx context.Context, u endpoint.Secret, nt store.Notification) error {
	body, _ := json.Marshal(map[string]string{"text": nt.Subject + "\n\n" + nt.Body})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.Reveal(), bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.opts.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, key and all
		}
		return fmt.Errorf("post to the webhook at %s: %w", MaskURL(u), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the webhook at %s answered %d", MaskURL(u), resp.StatusCode)
	}
	return nil
}

// sendMail sends the notification as a plain-text e-mail through the configured server.
func (n *Notifier) sendMail(nt store.Notification, to []string) error {
	s := n.opts.SMTP
	if s.Addr == "" || s.From == "" {
		return errors.New("no SMTP server is configured (notifications.smtp in PORTAL_CONFIG)")
	}
	var auth smtp.Auth
	if s.Password.IsSet() {
		host, _, _ := net.SplitHostPort(s.Addr)
		auth = smtp.PlainAuth("", s.Username, s.Password.Reveal(), host)
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		s.From, strings.Join(to, ", "), headerSafe(nt.Subject), n.opts.Now().UTC().Format(time.RFC1123Z))
	msg.WriteString(strings.ReplaceAll(nt.Body, "\n", "\r\n"))
	if err := smtp.SendMail(s.Addr, auth, s.From, slices.Clone(to), msg.Bytes()); err != nil {
		return fmt.Errorf("send e-mail through %s: %w", s.Addr, err)
	}
	return nil
}

// headerSafe keeps a header value on one line.
func headerSafe(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
