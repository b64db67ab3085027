package servicebus

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/contoso/sbportal/endpoint"
	"github.com/contoso/sbportal/sample"
	"github.com/contoso/sbportal/servicebus/emulator"
)

const sampleUser = "75c2dd85-e89e-e711-8122-000d3aa2331c"

// updateSample is a sample of an Update step on account with a pre-image, for e.
func updateSample(e endpoint.ServiceEndpoint) *sample.Message {
	m := sample.Build(sample.Input{
		Endpoint: e,
		Step: endpoint.Step{ID: "8a9b7c6d-1111-4222-8333-944455556666", Name: "account update", Message: "Update", Table: "account",
			Stage: endpoint.StagePostOperation, Mode: endpoint.ModeAsynchronous, FilteringAttributes: []string{"name"},
			Images: []endpoint.StepImage{{Type: endpoint.ImagePre, Alias: "before", Attributes: []string{"name"}}}},
		Columns:          []endpoint.Column{{LogicalName: "name", Type: "String"}},
		OrganizationName: "contoso", OrganizationURL: "https://contoso.crm.dynamics.com",
		UserID: sampleUser,
	})
	return &m
}

// sampleRequest sends the Update sample to the emulator's entity with the send policy and the
// user id claim.
func sampleRequest(addr string, contract endpoint.Contract, path string) Request {
	e := sbEndpoint(addr, contract, path, emulator.DefaultSendPolicy, emulator.DefaultSendPrimaryKey)
	e.UserClaim = endpoint.UserClaimUserID
	req := emulatorRequest(e, ModeSend)
	req.Sample = updateSample(e)
	return req
}

// checkSampleBody checks a received JSON body is the sample's Update context.
func checkSampleBody(t *testing.T, body []byte) {
	t.Helper()
	var c struct {
		MessageName, PrimaryEntityName string
		PreEntityImages                []struct {
			Key string `json:"key"`
		}
		SharedVariables []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		}
	}
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("body: %v\n%s", err, body)
	}
	if c.MessageName != "Update" || c.PrimaryEntityName != "account" || len(c.PreEntityImages) != 1 || c.PreEntityImages[0].Key != "before" ||
		len(c.SharedVariables) != 1 || c.SharedVariables[0].Key != sample.SampleProperty {
		t.Errorf("body is not the sample: %s", body)
	}
}

// receiveOne takes the one message of a queue or subscription with azservicebus.
func receiveOne(t *testing.T, c *azservicebus.Client, queue, topic, sub string) *azservicebus.ReceivedMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := newReceiver(t, c, queue, topic, sub)
	defer r.Close(ctx)
	msgs, err := r.ReceiveMessages(ctx, 1, nil)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %v (%d messages)", err, len(msgs))
	}
	if err := r.CompleteMessage(ctx, msgs[0], nil); err != nil {
		t.Fatalf("complete: %v", err)
	}
	return msgs[0]
}

func checkSampleMessage(t *testing.T, got *azservicebus.ReceivedMessage, want *sample.Message) {
	t.Helper()
	if got.MessageID != want.ID || got.CorrelationID == nil || *got.CorrelationID != want.CorrelationID {
		t.Errorf("ids %q %v, want %q %q", got.MessageID, got.CorrelationID, want.ID, want.CorrelationID)
	}
	if got.ContentType == nil || *got.ContentType != "application/json" || got.Subject == nil || *got.Subject != want.Subject {
		t.Errorf("content type %v subject %v", got.ContentType, got.Subject)
	}
	if got.TimeToLive == nil || *got.TimeToLive != SampleTimeToLive {
		t.Errorf("time to live %v, want %v", got.TimeToLive, SampleTimeToLive)
	}
	p := got.ApplicationProperties
	if p[sample.SampleProperty] != true || p[ValidationProperty] != nil ||
		p[ClaimsPrefix+"Organization"] != "contoso.crm.dynamics.com" || p[ClaimsPrefix+"EntityLogicalName"] != "account" ||
		p[ClaimsPrefix+"RequestName"] != "Update" || p[ClaimsPrefix+"User"] != sampleUser || p[ClaimsPrefix+"InitiatingUser"] != sampleUser {
		t.Errorf("application properties: %v", p)
	}
	checkSampleBody(t, got.Body)
}

func TestSampleToQueueAndTopic(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	c := manageClient(t, addr)
	for _, tc := range []struct {
		contract           endpoint.Contract
		path, topic, sub   string
		queueForReceiving  string
		wantProvedContains string
	}{
		{endpoint.ContractQueue, emulator.DefaultQueue, "", "", emulator.DefaultQueue, "queue '" + emulator.DefaultQueue + "'"},
		{endpoint.ContractTopic, emulator.DefaultTopic, emulator.DefaultTopic, emulator.DefaultSubscription, "", "topic '" + emulator.DefaultTopic + "'"},
	} {
		t.Run(tc.contract.Label(), func(t *testing.T) {
			req := sampleRequest(addr, tc.contract, tc.path)
			r := devProber().Probe(context.Background(), req)
			wantPass(t, r)
			assertNoSecret(t, r, emulator.DefaultSendPrimaryKey)
			if !strings.HasPrefix(r.Proved, "Sent a sample message "+req.Sample.ID) || !strings.Contains(r.Proved, tc.wantProvedContains) {
				t.Errorf("Proved = %q", r.Proved)
			}
			checkSampleMessage(t, receiveOne(t, c, tc.queueForReceiving, tc.topic, tc.sub), req.Sample)
		})
	}
}

func TestSampleToEventHub(t *testing.T) {
	_, addr := startEmulator(t, testConfig(), emulator.Options{})
	req := sampleRequest(addr, endpoint.ContractEventHub, emulator.DefaultEventHub)
	r := devProber().Probe(context.Background(), req)
	wantPass(t, r)
	if !strings.HasPrefix(r.Proved, "Sent a sample event ") {
		t.Errorf("Proved = %q", r.Proved)
	}
	evs := hubEvents(t, addr)
	if len(evs) != 1 {
		t.Fatalf("hub holds %d events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.MessageID == nil || *ev.MessageID != req.Sample.ID || ev.ContentType == nil || *ev.ContentType != "application/json" ||
		ev.Properties[sample.SampleProperty] != true || ev.Properties[ClaimsPrefix+"RequestName"] != "Update" || ev.Properties[ClaimsPrefix+"User"] != sampleUser {
		t.Errorf("event is not the sample: %+v", ev)
	}
	checkSampleBody(t, ev.Body)
}

func TestSampleInCheckModeIsRefused(t *testing.T) {
	req := sampleRequest("127.0.0.1:1", endpoint.ContractQueue, "q")
	req.Mode = ModeCheck
	r := devProber().Probe(context.Background(), req)
	wantCause(t, r, CauseModeUnsupported)
	if r.Transport != "" {
		t.Errorf("a refused sample should not connect: %+v", r)
	}
}

func TestSampleToWebhook(t *testing.T) {
	hook := &recordingHook{}
	srv := httptest.NewTLSServer(hook.handler(func(r *http.Request) bool { return r.URL.Query().Get("code") == hookKey }))
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	e := webhookEndpoint(srv.URL+"/api/dataverse", endpoint.AuthTypeWebhookKey, hookKey)
	e.MessageFormat = endpoint.MessageFormatTextXML // webhooks get JSON whatever the setting
	e.UserClaim = endpoint.UserClaimUserID
	req := Request{Endpoint: e, Sample: updateSample(e)}
	r := NewProber(Options{Policy: DevelopmentPolicy(), TLSConfig: &tls.Config{RootCAs: pool}}).Probe(context.Background(), req)
	wantPass(t, r)
	assertNoSecret(t, r, hookKey)
	if !strings.HasPrefix(r.Proved, "Sent a sample request") {
		t.Errorf("Proved = %q", r.Proved)
	}
	if hook.calls.Load() != 1 {
		t.Fatalf("webhook called %d times", hook.calls.Load())
	}
	h := hook.lastHdr.Load().(http.Header)
	ctx := req.Sample.Context
	want := map[string]string{
		"Content-Type":                "application/json",
		"x-ms-dynamics-organization":  "contoso.crm.dynamics.com",
		"x-ms-dynamics-entity-name":   "account",
		"x-ms-dynamics-request-name":  "Update",
		"x-ms-correlation-request-id": ctx.CorrelationID,
		"x-request-id":                ctx.RequestID,
		sample.SampleProperty:         "true",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if h.Get(ValidationProperty) != "" {
		t.Error("a sample is not marked as a validation message")
	}
	checkSampleBody(t, hook.lastBody.Load().([]byte))
}
