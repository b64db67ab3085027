package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

func joinComma(s []string) string { return strings.Join(s, ", ") }

// Ago says how long before now t was, in rounded words ("3 minutes ago").
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return Plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return Plural(int(d/time.Hour), "hour") + " ago"
	case d < 60*24*time.Hour:
		return Plural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return t.UTC().Format("2 Jan 2006")
}

// Plural counts: "1 step", "3 steps".
func Plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// DateTime formats a time for tables, in UTC so every reader sees the same value.
func DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// clock is a time of day for "as of" notes, in UTC like every time the portal shows.
func clock(t time.Time) string { return t.UTC().Format("15:04:05 UTC") }

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// EndpointURL is the address of an endpoint's page.
func EndpointURL(environment, id string) string {
	return "/endpoints/" + url.PathEscape(environment) + "/" + url.PathEscape(id)
}

func itoa(n int) string { return strconv.Itoa(n) }
