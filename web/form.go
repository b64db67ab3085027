package web

import (
	"slices"
	"strings"

	"github.com/a-h/templ"
)

// inputAttrs links a control to its hint and error texts and marks it invalid when it has a
// problem, so screen readers announce both.
func inputAttrs(name string, hasHint bool, errs FieldErrors) templ.Attributes {
	var ids []string
	if hasHint {
		ids = append(ids, name+"-hint")
	}
	a := templ.Attributes{}
	if errs.Has(name) {
		ids = append(ids, name+"-error")
		a["aria-invalid"] = "true"
	}
	if len(ids) > 0 {
		a["aria-describedby"] = strings.Join(ids, " ")
	}
	return a
}

// radioAttrs ties each radio of a group to the group's error.
func radioAttrs(name string, errs FieldErrors) templ.Attributes {
	if !errs.Has(name) {
		return nil
	}
	return templ.Attributes{"aria-describedby": name + "-error"}
}

// fieldsNeedAttention is the error summary of a form whose problems are beside its fields.
const fieldsNeedAttention = "Some fields need your attention: see the messages next to them."

// summaryOf is what a form's error summary says: the form's own message, else a pointer to
// the messages beside its fields, else nothing (no summary).
func summaryOf(message string, errs FieldErrors) string {
	switch {
	case message != "":
		return message
	case len(errs) > 0:
		return fieldsNeedAttention
	}
	return ""
}

func stepState(w Wizard, s WizardStep) string {
	switch {
	case s == w.Current:
		return "current"
	case s < w.Current || s <= w.Reached:
		return "done"
	}
	return "todo"
}

func stepAttrs(w Wizard, s WizardStep) templ.Attributes {
	if s == w.Current {
		return templ.Attributes{"aria-current": "step"}
	}
	return nil
}

func stepLinkable(w Wizard, s WizardStep) bool {
	return w.DraftID != "" && s != w.Current && s <= w.Reached
}

// confirmErrors is a deletion form's errors: why the typed confirmation was not taken.
func confirmErrors(problem string) FieldErrors {
	if problem == "" {
		return nil
	}
	return FieldErrors{"confirm": {problem}}
}

// Offers reports whether the form has an input for field (an endpoint.Field* name).
func (f DetailsForm) Offers(field string) bool { return slices.Contains(f.Fields, field) }
