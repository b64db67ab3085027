package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// System job status codes (asyncoperation statuscode) the emulator records for deliveries.
const (
	JobWaiting   = 10 // statecode 1 Suspended: waiting for a retry
	JobSucceeded = 30
	JobFailed    = 31 // statecode 3 Completed
)

// SystemJob is a system job of a step: what Dataverse leaves behind when it posts to a service
// endpoint, kept (by the emulator) for deliveries that failed or wait for a retry.
type SystemJob struct {
	// StepID is the step (sdkmessageprocessingstep) whose delivery this was: the job's
	// owning extension.
	StepID string `json:"stepId"`
	// Status is JobFailed, JobWaiting or JobSucceeded.
	Status int `json:"status"`
	// Message is the error Dataverse recorded (message and friendlymessage).
	Message string `json:"message,omitempty"`
	// Age places the job's createdon this long before now.
	Age time.Duration `json:"age,omitempty"`
}

// RecordSystemJob adds a system job for a step's delivery and returns its id.
func (s *Server) RecordSystemJob(j SystemJob) (string, error) {
	stepID, ok := parseGUID(strings.Trim(j.StepID, "{}"))
	if !ok {
		return "", fmt.Errorf("record system job: %q is not a step id", j.StepID)
	}
	s.store.mu.RLock()
	step, found := s.store.get(stepEntity.set, stepID)
	s.store.mu.RUnlock()
	if !found {
		return "", fmt.Errorf("record system job: no step %s", stepID)
	}
	state := 3
	switch j.Status {
	case JobWaiting:
		state = 1
	case JobFailed, JobSucceeded:
	default:
		return "", fmt.Errorf("record system job: status must be %d (waiting), %d (succeeded) or %d (failed)", JobWaiting, JobSucceeded, JobFailed)
	}
	created := s.now().Add(-j.Age).UTC().Format("2006-01-02T15:04:05Z")
	id := newGUID()
	row := record{asyncOperationEntity.key: id, "name": step["name"], "operationtype": float64(1),
		"statecode": float64(state), "statuscode": float64(j.Status), "message": orNil(j.Message), "friendlymessage": orNil(j.Message),
		"errorcode": nil, "retrycount": float64(0), "_owningextensionid_value": stepID, "createdon": created, "completedon": nil,
		"versionnumber": s.nextVersion()}
	if j.Status != JobWaiting {
		row["completedon"] = created
	}
	if j.Status == JobWaiting {
		row["retrycount"] = float64(1)
	}
	if j.Message != "" {
		row["errorcode"] = float64(-2147204723) // 0x8004f08d, as seen on failed service endpoint posts
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	if err := s.store.put(asyncOperationEntity.set, id, row); err != nil {
		return "", err
	}
	return id, nil
}

// FailDeliveries makes an endpoint's deliveries fail: for each of its steps, failed jobs that
// failed and waiting ones that wait for a retry, with message as the error. It is the dev
// control behind POST /_emulator/deliveries.
func (s *Server) FailDeliveries(endpointID string, failed, waiting int, message string) error {
	id, ok := parseGUID(strings.Trim(endpointID, "{}"))
	if !ok {
		return fmt.Errorf("fail deliveries: %q is not an endpoint id", endpointID)
	}
	s.store.mu.RLock()
	var steps []string
	for _, r := range s.store.all(stepEntity.set) {
		if v, _ := r["_eventhandler_value"].(string); strings.EqualFold(v, id) {
			steps = append(steps, r[stepEntity.key].(string))
		}
	}
	s.store.mu.RUnlock()
	if len(steps) == 0 {
		return fmt.Errorf("fail deliveries: endpoint %s has no steps: register one first", id)
	}
	if message == "" {
		message = "The remote name could not be resolved: the endpoint's namespace did not answer, or its key was refused (401 Unauthorized)."
	}
	for _, st := range steps {
		for range failed {
			if _, err := s.RecordSystemJob(SystemJob{StepID: st, Status: JobFailed, Message: message}); err != nil {
				return err
			}
		}
		for range waiting {
			if _, err := s.RecordSystemJob(SystemJob{StepID: st, Status: JobWaiting, Message: message}); err != nil {
				return err
			}
		}
	}
	return nil
}

// ClearDeliveries forgets every recorded system job.
func (s *Server) ClearDeliveries() {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	for _, r := range s.store.all(asyncOperationEntity.set) {
		_ = s.store.delete(asyncOperationEntity.set, r[asyncOperationEntity.key].(string))
	}
}

// deliveriesRequest is the body of POST /_emulator/deliveries.
type deliveriesRequest struct {
	EndpointID string `json:"endpointId"`
	Failed     int    `json:"failed"`
	Waiting    int    `json:"waiting"`
	Message    string `json:"message"`
}

// serveDeliveriesAdmin is the dev control to make an endpoint's deliveries fail: POST
// {"endpointId":"…","failed":3,"waiting":1} records jobs for each of its steps; DELETE forgets
// them all.
func (s *Server) serveDeliveriesAdmin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		var req deliveriesRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
			http.Error(w, `body must be JSON, e.g. {"endpointId":"…","failed":3,"waiting":1}: `+err.Error(), http.StatusBadRequest)
			return
		}
		if req.Failed < 0 || req.Waiting < 0 || req.Failed+req.Waiting > 1000 {
			http.Error(w, "failed and waiting must be 0 to 1000 together", http.StatusBadRequest)
			return
		}
		if err := s.FailDeliveries(req.EndpointID, req.Failed, req.Waiting, req.Message); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.ClearDeliveries()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "POST, DELETE")
		http.Error(w, "POST to make an endpoint's deliveries fail, DELETE to clear", http.StatusMethodNotAllowed)
	}
}
