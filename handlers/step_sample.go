package handlers

import (
	"net/http"
	"time"

	"github.com/contoso/sbportal/auth"
	"github.com/contoso/sbportal/servicebus"
	"github.com/contoso/sbportal/store"
	"github.com/contoso/sbportal/web"
)

// stepSampleSend sends a sample of what the step sends, through the endpoint with its stored
// key, and shows what happened. Every sample is an audit entry: it sends a real message.
func (s *Server) stepSampleSend(w http.ResponseWriter, r *http.Request) error {
	id, c, v, st, err := s.loadStep(r, auth.ActionTest)
	if err != nil {
		return err
	}
	ctx := r.Context()
	e, emulator, stored, err := s.withStoredSecret(ctx, c)
	if err != nil {
		return err
	}
	var view web.ProbeView
	if !stored {
		view = web.ProbeView{Ran: true, Title: "No key to send with",
			Detail: "The portal keeps no key for " + c.Endpoint.Name + ", so it cannot send a sample.",
			Fix:    "Re-key the endpoint: the key is proved, then stored encrypted for tests and samples."}
	} else {
		if refused, err := s.refuseTest(w, r, id, c.Env.ID+"/"+c.Endpoint.ID); refused {
			return err
		}
		msg := s.sampleOf(r, id, c, st)
		res := s.Prober.Probe(ctx, servicebus.Request{Endpoint: e, Mode: servicebus.ModeSend, UseDevelopmentEmulator: emulator, Sample: &msg})
		view = web.ProbeView{Ran: true, Passed: res.Passed, MessageID: res.MessageID, When: s.now().UTC()}
		if res.Duration > 0 {
			view.Duration = res.Duration.Round(time.Millisecond).String()
		}
		if res.Passed {
			view.Title, view.Detail = "Sample sent", res.Proved
		} else {
			view.Title, view.Detail, view.Fix = "The sample was not sent", res.Summary, res.Fix
		}
		for _, w := range res.Warnings {
			view.Warnings = append(view.Warnings, w.Message)
		}
		a := store.AuditEntry{ActorKey: id.Key, ActorName: id.Name, Action: "step.sample", Environment: c.Env.ID,
			EndpointID: c.Endpoint.ID, EndpointName: c.Endpoint.Name, Outcome: store.AuditSucceeded,
			Detail: "Step “" + st.Name + "”: " + view.Title + ": " + view.Detail, RequestID: RequestID(ctx)}
		if !res.Passed {
			a.Outcome = store.AuditFailed
		}
		if _, err := s.Store.AppendAudit(ctx, a); err != nil {
			return err
		}
	}
	if isHTMX(r) {
		s.render(w, r, http.StatusOK, web.ProbeOutcome(view))
		return nil
	}
	sv := s.stepView(r, id, c, v, st)
	sv.Result = view
	s.render(w, r, http.StatusOK, web.StepPage(s.page(w, r, st.Name, web.NavEndpoints), sv))
	return nil
}
