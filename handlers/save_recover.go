package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/contoso/sbportal/dataverse"
	"github.com/contoso/sbportal/store"
)

// RecoverOptions tune RecoverSaves.
type RecoverOptions struct {
	// Every is how often the recoverer looks for unfinished work (default 30 s).
	Every time.Duration
	// IntentAge is how old a pending audit intent must be before it is resolved (default two
	// minutes: longer than any request the portal serves).
	IntentAge time.Duration
}

// RecoverSaves finishes, in the background, what requests that died or failed left
// unfinished, until ctx ends: saves whose claim went stale (finished when Dataverse holds the
// record, released otherwise, so the team sees its endpoint even if nobody presses Save
// again), and audit intents without an outcome (resolved by what Dataverse holds). One replica
// at a time does it, holding the store's "save-recoverer" lease.
func (s *Server) RecoverSaves(ctx context.Context, o RecoverOptions) {
	if s.Pages == nil {
		return
	}
	if o.Every <= 0 {
		o.Every = 30 * time.Second
	}
	if o.IntentAge <= 0 {
		o.IntentAge = 2 * time.Minute
	}
	lease := s.Store.Lease("save-recoverer")
	defer lease.Release()
	t := time.NewTicker(o.Every)
	defer t.Stop()
	for {
		if held, err := lease.Hold(ctx); err != nil {
			s.log.WarnContext(ctx, "recoverer: could not take its lease; will retry", "err", err)
		} else if held {
			if err := s.RecoverOnce(ctx, o.IntentAge); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "recoverer: a pass failed; will retry", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RecoverOnce runs one recoverer pass now (RecoverSaves calls it while holding the lease;
// tests call it directly): stale saves first, then intents older than intentAge.
func (s *Server) RecoverOnce(ctx context.Context, intentAge time.Duration) error {
	stale, err := s.Store.StaleDraftSaves(ctx, 100)
	if err != nil {
		return err
	}
	for _, d := range stale {
		if err := s.recoverSave(ctx, d); err != nil {
			s.log.WarnContext(ctx, "recoverer: a save stays unfinished; will retry", "draft", d.ID, "err", err)
		}
	}
	intents, err := s.Store.UnresolvedIntents(ctx, s.now().Add(-intentAge), 100)
	if err != nil {
		return err
	}
	for _, in := range intents {
		if err := s.resolveIntent(ctx, in); err != nil {
			s.log.WarnContext(ctx, "recoverer: an intent stays pending; will retry", "audit_id", in.ID, "err", err)
		}
	}
	return nil
}

func recovererRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "recoverer-" + hex.EncodeToString(b[:])
}

// recoverSave finishes one save whose claim went stale, or gives it up when Dataverse has no
// such record.
func (s *Server) recoverSave(ctx context.Context, d store.Draft) error {
	env, ok := s.Environments.Get(d.Environment)
	if !ok {
		return nil // the environment left the configuration; the draft expires
	}
	claim, err := s.Store.TakeOverDraftSave(ctx, d.ID, d.Owner)
	if errors.Is(err, store.ErrDraftSaved) || errors.Is(err, store.ErrConflict) {
		return nil // finished or released meanwhile
	}
	if err != nil {
		return err
	}
	data, _ := decodeDraftData(d.Data)
	name := data.Author
	if name == "" {
		name = d.Owner
	}
	_, err = s.finishSave(ctx, saveJob{claim: claim, env: env, actorKey: d.Owner, actorName: name,
		requestID: recovererRequestID(), create: false})
	var he *Error
	if errors.Is(err, errSaveLost) || errors.As(err, &he) && he.Status == 409 {
		return nil // finished elsewhere, or given up with its reason in the audit trail
	}
	return err
}

// resolveIntent records the outcome of an intent whose request never did, from what Dataverse
// holds now.
func (s *Server) resolveIntent(ctx context.Context, in store.AuditEntry) error {
	out := in
	out.ID, out.At, out.Before, out.After = 0, time.Time{}, in.Before, in.After
	env, ok := s.Environments.Get(in.Environment)
	if !ok || in.EndpointID == "" {
		out.Outcome, out.Detail = store.AuditFailed, "Unknown: the environment is no longer configured."
		_, err := s.Store.AppendAudit(ctx, out)
		return err
	}
	if strings.HasPrefix(in.Action, "step.") {
		outcome, detail, err := s.resolveStepIntent(ctx, in, env)
		if err != nil {
			return err // Dataverse cannot tell now; try again next pass
		}
		return s.recordResolved(ctx, out, outcome, detail)
	}
	got, err := env.Client.Endpoint(ctx, in.EndpointID)
	exists := err == nil
	if err != nil && !errors.Is(err, dataverse.NotFound) {
		return err // Dataverse cannot tell now; try again next pass
	}
	switch in.Action {
	case "endpoint.delete":
		out.Outcome = map[bool]store.AuditOutcome{true: store.AuditFailed, false: store.AuditSucceeded}[exists]
	case "endpoint.create":
		out.Outcome = store.AuditFailed
		if exists {
			// Created; the portal's side is finished by the stale-save pass, or was by a retry.
			if d, derr := s.Store.FindDraftForEndpoint(ctx, in.Environment, in.EndpointID); derr == nil && d.Status == store.DraftSaving {
				return nil // not finished yet: resolve after the save is
			}
			out.Outcome = store.AuditSucceeded
		}
	default: // updates: succeeded when Dataverse holds the intended values
		out.Outcome = store.AuditFailed
		if exists && sameSnapshot(auditSnapshot(got), in.After) {
			out.Outcome = store.AuditSucceeded
		}
	}
	return s.recordResolved(ctx, out, out.Outcome, "")
}

// recordResolved records the outcome found for an interrupted change; detail, when set, says
// more than the outcome does.
func (s *Server) recordResolved(ctx context.Context, out store.AuditEntry, outcome store.AuditOutcome, detail string) error {
	out.Outcome = outcome
	switch {
	case detail != "":
		out.Detail = detail
	case outcome == store.AuditSucceeded:
		out.Detail = "Recorded after the request that made the change was interrupted."
	default:
		out.Detail = "The request was interrupted and Dataverse does not hold the change."
	}
	_, err := s.Store.AppendAudit(ctx, out)
	return err
}

// sameSnapshot compares two audit snapshots' non-secret values, ignoring the "is set" flags
// (a secret's change cannot be read back).
func sameSnapshot(a, b json.RawMessage) bool {
	var ma, mb map[string]any
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return false
	}
	for _, m := range []map[string]any{ma, mb} {
		for k := range m {
			if len(k) > 5 && k[:2] == "is" && k[len(k)-3:] == "set" {
				delete(m, k)
			}
		}
	}
	ja, _ := json.Marshal(ma)
	jb, _ := json.Marshal(mb)
	return string(ja) == string(jb)
}
