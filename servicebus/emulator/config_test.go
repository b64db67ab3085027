package emulator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := LoadConfig("example-config.json")
	if err != nil {
		t.Fatalf("LoadConfig(example-config.json): %v", err)
	}
	if len(cfg.UserConfig.Namespaces) != 2 || !cfg.UserConfig.Namespaces[1].DisableLocalAuth {
		t.Fatalf("example config = %+v", cfg.UserConfig.Namespaces)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig is invalid: %v", err)
	}
	for _, p := range DefaultConfig().UserConfig.Namespaces[0].Policies {
		if len(p.PrimaryKey) != 44 || len(p.SecondaryKey) != 44 {
			t.Errorf("default policy %s keys are not 44 characters", p.Name)
		}
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"UserConfig":{"Namespaces":[]}}`, "UserConfig.Namespaces: at least one"},
		{`{"UserConfig":{"Namespaces":[{"Name":"ns1","Queuez":[]}]}}`, `unknown field "Queuez"`},
		{`{"UserConfig":{"Namespaces":[{"Name":"ns1","Tier":"Gold"}]}}`, "UserConfig.Namespaces[0].Tier"},
		{`{"UserConfig":{"Namespaces":[{"Name":"ns1","Queues":[{"Name":"q","Properties":{"LockDuration":"1m"}}]}]}}`, "UserConfig.Namespaces[0].Queues[0].Properties.LockDuration"},
		{`{"UserConfig":{"Namespaces":[{"Name":"ns1","Queues":[{"Name":"q"}],"Topics":[{"Name":"Q"}]}]}}`, "UserConfig.Namespaces[0].Topics[0].Name"},
		{`{"UserConfig":{"Namespaces":[{"Name":"ns1","Policies":[{"Name":"p","PrimaryKey":"short","Rights":["Send"]}]}]}}`, "Policies[0].PrimaryKey"},
		{`{"UserConfig":{"Namespaces":[{"Name":"ns1","Policies":[{"Name":"p","PrimaryKey":"0123456789abcdef0123","Rights":["Write"]}]}]}}`, `unknown right "Write"`},
		{`{"UserConfig":{"Namespaces":[{"Name":"ns1","EventHubs":[{"Name":"h","PartitionCount":0}]}]}}`, "EventHubs[0].PartitionCount"},
		{`{"UserConfig":`, "invalid"},
	} {
		_, err := ParseConfig([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%s) = %v, want an error containing %q", tc.json, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(path, []byte(`{"UserConfig":{"Namespaces":[{"Name":"x"}]}}`), 0o600)
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadConfig error %v does not name the file", err)
	}
}

func TestConnectionStringsCoverEveryPolicy(t *testing.T) {
	srv, err := New(DefaultConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	css := srv.ConnectionStrings("127.0.0.1:5672")
	if len(css) != 4 {
		t.Fatalf("got %d connection strings, want 4", len(css))
	}
	want := "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=QueueSend;SharedAccessKey=" + DefaultQueueSendPrimaryKey + ";EntityPath=dataverse-queue;UseDevelopmentEmulator=true"
	if css[3].Value != want || css[3].Entity != DefaultQueue {
		t.Errorf("entity policy connection string = %q", css[3].Value)
	}
}

// With several namespaces the open frame's hostname picks one: 127.0.0.1 reaches the first,
// <name>.localhost reaches the one of that name.
func TestNamespaceChosenByHostname(t *testing.T) {
	cfg, err := LoadConfig("example-config.json")
	if err != nil {
		t.Fatal(err)
	}
	srv, addr := startServer(t, cfg, Options{})
	for _, cs := range srv.ConnectionStrings(addr) {
		if cs.Namespace == "lockedns" {
			t.Fatalf("lockedns has no policies, yet got %q", cs.Value)
		}
	}
	_, port, _ := strings.Cut(addr, ":")
	lockedCS := "Endpoint=sb://lockedns.localhost:" + port + ";SharedAccessKeyName=" + DefaultSendPolicy + ";SharedAccessKey=" + DefaultSendPrimaryKey + ";UseDevelopmentEmulator=true"
	client, err := azservicebus.NewClientFromConnectionString(lockedCS, &azservicebus.ClientOptions{CustomEndpoint: addr, RetryOptions: azservicebus.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())
	sender, _ := client.NewSender("orders", nil)
	err = sender.SendMessage(testCtx(t), &azservicebus.Message{Body: []byte("x")}, nil)
	if err == nil || !strings.Contains(err.Error(), "LocalAuthDisabled") || !strings.Contains(err.Error(), "lockedns") {
		t.Fatalf("send to lockedns: %v, want LocalAuthDisabled", err)
	}
	if err := sendOnce(t, connString(t, srv, addr, DefaultSendPolicy, ""), DefaultQueue, []byte("x")); err != nil {
		t.Fatalf("send to the first namespace: %v", err)
	}
}
