package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/servicebus"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// modeOptions offers the probe modes, current selected (sending by default).
func modeOptions(current endpoint.ProbeMode) []web.Option {
	return []web.Option{
		{Value: string(endpoint.ProbeSend), Label: endpoint.ProbeSend.Label(), Hint: "A small message marked as a portal validation, with a 5-minute time to live.", Selected: current != endpoint.ProbeCheck},
		{Value: string(endpoint.ProbeCheck), Label: endpoint.ProbeCheck.Label(), Hint: "Schedules a message far in the future and cancels it: proves Send, delivers nothing (queues and topics).", Selected: current == endpoint.ProbeCheck},
	}
}

// probe runs a test-send for e and returns the outcome as the pages keep it.
func (s *Server) probe(ctx context.Context, e endpoint.ServiceEndpoint, mode endpoint.ProbeMode, emulator, namespaceWide bool) runRecord {
	m := servicebus.ModeSend
	if mode == endpoint.ProbeCheck {
		m = servicebus.ModeCheck
	}
	res := s.Prober.Probe(ctx, servicebus.Request{Endpoint: e, Mode: m, UseDevelopmentEmulator: emulator, NamespaceWidePolicy: namespaceWide})
	rec := runRecord{Passed: res.Passed, MessageID: res.MessageID, Duration: res.Duration, At: s.now().UTC(),
		Fingerprint: s.fingerprint(e)}
	if res.Passed {
		rec.Title = "Validation passed"
		if mode == endpoint.ProbeCheck {
			rec.Title = "Checked without delivering"
		}
		rec.Detail = res.Proved
	} else {
		rec.Title = "Validation failed"
		rec.Detail = res.Summary
		rec.Fix = res.Fix
		rec.Cause = string(res.Cause)
	}
	for _, w := range res.Warnings {
		rec.Warnings = append(rec.Warnings, w.Message)
	}
	return rec
}

// proveAndRecord runs a test-send of a saved endpoint and records it in its history.
func (s *Server) proveAndRecord(ctx context.Context, id auth.Identity, env string, e endpoint.ServiceEndpoint, emulator bool) (runRecord, error) {
	rec := s.probe(ctx, e, endpoint.ProbeSend, emulator, false)
	return rec, s.recordRun(ctx, id, env, e.ID, e.Name, "", 0, rec)
}

// recordRun stores a validation run for the history and the list's "last validation".
func (s *Server) recordRun(ctx context.Context, id auth.Identity, env, endpointID, endpointName, draftID string, draftVersion int64, rec runRecord) error {
	result := store.ValidationFailed
	if rec.Passed {
		result = store.ValidationPassed
	}
	summary := rec.Title
	if rec.Detail != "" {
		summary += ": " + rec.Detail
	}
	_, err := s.Store.RecordValidationRun(ctx, store.ValidationRun{
		Environment: env, EndpointID: endpointID, DraftID: draftID, DraftVersion: draftVersion,
		RunBy: id.Key, RunByName: id.Name, StartedAt: rec.At, Duration: rec.Duration,
		Result: result, Cause: rec.Cause, Summary: summary, Warnings: rec.Warnings,
	})
	if err != nil {
		return fmt.Errorf("record validation run: %w", err)
	}
	// Every test is an audit entry, passing or failing: it sends a real message with a secret.
	a := store.AuditEntry{ActorKey: id.Key, ActorName: id.Name, Action: "endpoint.test", Environment: env,
		EndpointID: endpointID, EndpointName: endpointName, Outcome: store.AuditSucceeded, Detail: summary, RequestID: RequestID(ctx)}
	if endpointID == "" {
		a.Action, a.Detail = "draft.validate", "Draft "+draftID+": "+summary
	}
	if !rec.Passed {
		a.Outcome = store.AuditFailed
	}
	if _, err := s.Store.AppendAudit(ctx, a); err != nil {
		return fmt.Errorf("audit the test: %w", err)
	}
	if endpointID != "" {
		s.Catalog.FactsChanged(ctx, env, endpointID)
	}
	return nil
}

// view turns a run into what the pages show; stale when the values changed since.
func (rec *runRecord) view(currentFingerprint string) web.ProbeView {
	if rec == nil {
		return web.ProbeView{}
	}
	v := web.ProbeView{Ran: true, Passed: rec.Passed, Title: rec.Title, Detail: rec.Detail, Fix: rec.Fix,
		MessageID: rec.MessageID, Warnings: rec.Warnings, When: rec.At,
		Stale: currentFingerprint != "" && rec.Fingerprint != currentFingerprint}
	if rec.Duration > 0 {
		v.Duration = rec.Duration.Round(time.Millisecond).String()
	}
	return v
}
