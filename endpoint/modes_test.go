package endpoint

import "testing"

func TestKindOf(t *testing.T) {
	for _, c := range append(Contracts, 0, 42) {
		want := KindServiceBus
		if c == ContractWebhook {
			want = KindWebhook
		}
		if got := KindOf(ServiceEndpoint{Contract: c}); got != want {
			t.Errorf("KindOf(contract %d) = %s, want %s", c, got, want)
		}
	}
	// The values travel in forms and stored drafts.
	if KindServiceBus != "servicebus" || KindWebhook != "webhook" {
		t.Fatal("kind values changed")
	}
	for _, k := range Kinds {
		if !k.Valid() || k.Label() == Kind("x").Label() {
			t.Errorf("kind %q", k)
		}
	}
	if Kind("").Valid() || Kind("Webhook").Valid() {
		t.Fatal("an unknown kind is valid")
	}
}

func TestWebhookAuth(t *testing.T) {
	if WebhookAuthKey != "key" || WebhookAuthHeader != "header" || WebhookAuthQuery != "query" {
		t.Fatal("webhook auth values changed")
	}
	for _, w := range WebhookAuths {
		a := w.AuthType()
		if !w.Valid() || !a.IsWebhookAuth() || w.Label() == WebhookAuth("x").Label() {
			t.Errorf("webhook auth %q", w)
		}
		if back, ok := WebhookAuthOf(a); !ok || back != w {
			t.Errorf("WebhookAuthOf(%v) = %q, %v", a, back, ok)
		}
	}
	for _, a := range append(AuthTypes, 0) {
		if w, ok := WebhookAuthOf(a); ok != a.IsWebhookAuth() || ok != w.Valid() {
			t.Errorf("WebhookAuthOf(%v) = %q, %v", a, w, ok)
		}
	}
	if WebhookAuth("").Valid() || WebhookAuth("basic").AuthType() != 0 {
		t.Fatal("an unknown webhook auth is valid")
	}
}

func TestProbeMode(t *testing.T) {
	if ProbeSend != "send" || ProbeCheck != "check" {
		t.Fatal("probe mode values changed")
	}
	for in, want := range map[string]ProbeMode{"send": ProbeSend, "check": ProbeCheck, "": ProbeSend, "CHECK": ProbeSend, "x": ProbeSend} {
		if got := ParseProbeMode(in); got != want {
			t.Errorf("ParseProbeMode(%q) = %q", in, got)
		}
	}
	for _, m := range ProbeModes {
		if !m.Valid() || m.Label() == ProbeMode("x").Label() {
			t.Errorf("mode %q", m)
		}
	}
	if ProbeMode("").Valid() {
		t.Fatal("an empty mode is valid")
	}
}

func TestScheduledProbe(t *testing.T) {
	for c, want := range map[Contract]ProbeMode{ContractQueue: ProbeCheck, ContractTopic: ProbeCheck, ContractEventHub: ProbeCheck,
		ContractWebhook: ProbeSend, ContractOneWay: ProbeSend, ContractTwoWay: ProbeSend, ContractRest: ProbeSend} {
		got, says := ScheduledProbe(c)
		if got != want || says == "" {
			t.Errorf("ScheduledProbe(%v) = %v %q, want %v", c, got, says, want)
		}
	}
}
