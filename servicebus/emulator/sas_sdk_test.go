package emulator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/go-amqp"
)

// sendOnce sends one small message with retries off and returns the SDK's error.
func sendOnce(t *testing.T, cs, entity string, body []byte) error {
	t.Helper()
	client, err := azservicebus.NewClientFromConnectionString(cs, noRetry())
	if err != nil {
		t.Fatalf("NewClientFromConnectionString: %v", err)
	}
	defer client.Close(context.Background())
	sender, err := client.NewSender(entity, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return sender.SendMessage(ctx, &azservicebus.Message{Body: body}, nil)
}

func twoQueueConfig() Config {
	cfg := DefaultConfig()
	cfg.UserConfig.Namespaces[0].Queues = append(cfg.UserConfig.Namespaces[0].Queues, QueueConfig{Name: "sibling"})
	return cfg
}

func TestSASFailuresAsTheSDKSeesThem(t *testing.T) {
	srv, addr := startServer(t, twoQueueConfig(), Options{})
	emu := func(policy, key string) string {
		return "Endpoint=sb://" + addr + ";SharedAccessKeyName=" + policy + ";SharedAccessKey=" + key + ";UseDevelopmentEmulator=true"
	}
	sasString := func(token string) string {
		return "Endpoint=sb://" + addr + ";SharedAccessSignature=" + token + ";UseDevelopmentEmulator=true"
	}
	audience := "amqp://" + addr + "/"
	cases := []struct {
		name     string
		cs       string
		entity   string
		wantCode azservicebus.Code
		wantText string
	}{
		{"wrong key", emu(DefaultSendPolicy, DefaultListenPrimaryKey), DefaultQueue, azservicebus.CodeUnauthorizedAccess, "InvalidSignature"},
		{"unknown policy", emu("NoSuchPolicy", DefaultSendPrimaryKey), DefaultQueue, azservicebus.CodeUnauthorizedAccess, "no shared access policy named 'NoSuchPolicy'"},
		{"listen-only policy sends", emu(DefaultListenPolicy, DefaultListenPrimaryKey), DefaultQueue, azservicebus.CodeUnauthorizedAccess,
			"Unauthorized access. 'Send' claim(s) are required to perform this operation. Resource: 'sb://" + addr + "/dataverse-queue'"},
		{"expired token", sasString(SignSAS(audience+DefaultQueue, DefaultSendPolicy, DefaultSendPrimaryKey, time.Unix(1578099723, 0))), DefaultQueue, azservicebus.CodeUnauthorizedAccess, "ExpiredToken: The token is expired"},
		{"token for a sibling entity", sasString(SignSAS(audience+"sibling", DefaultSendPolicy, DefaultSendPrimaryKey, time.Now().Add(time.Hour))), DefaultQueue, azservicebus.CodeUnauthorizedAccess, "InvalidAudience"},
		{"token for a name prefix is not a parent", sasString(SignSAS(audience+"dataverse", DefaultSendPolicy, DefaultSendPrimaryKey, time.Now().Add(time.Hour))), DefaultQueue, azservicebus.CodeUnauthorizedAccess, "InvalidAudience"},
		{"entity-scoped policy on another entity", emu(DefaultQueueSendPolicy, DefaultQueueSendPrimaryKey), "sibling", azservicebus.CodeUnauthorizedAccess, "no shared access policy named 'QueueSend'"},
		{"unknown entity", emu(DefaultSendPolicy, DefaultSendPrimaryKey), "no-such-queue", azservicebus.CodeNotFound, "could not be found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := sendOnce(t, tc.cs, tc.entity, []byte("probe"))
			if err == nil {
				t.Fatal("send succeeded, want an error")
			}
			if got := sbCode(err); got != tc.wantCode {
				t.Errorf("code = %q, want %q (error %v)", got, tc.wantCode, err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not contain %q", err, tc.wantText)
			}
		})
	}
	if n := srv.queueLen(DefaultNamespace, DefaultQueue) + srv.queueLen(DefaultNamespace, "sibling"); n != 0 {
		t.Errorf("refused sends left %d messages", n)
	}

	t.Run("valid tokens succeed", func(t *testing.T) {
		for _, cs := range []string{
			emu(DefaultSendPolicy, DefaultSendPrimaryKey),
			emu(DefaultSendPolicy, DefaultSendSecondaryKey),
			emu(DefaultQueueSendPolicy, DefaultQueueSendSecondaryKey),
			sasString(SignSAS(audience+DefaultQueue, DefaultSendPolicy, DefaultSendPrimaryKey, time.Now().Add(time.Hour))),
			sasString(SignSAS("sb://"+addr+"/", DefaultSendPolicy, DefaultSendPrimaryKey, time.Now().Add(time.Hour))),
		} {
			if err := sendOnce(t, cs, DefaultQueue, []byte("ok")); err != nil {
				t.Errorf("send with %s failed: %v", cs[strings.Index(cs, ";")+1:strings.Index(cs, ";")+30], err)
			}
		}
		if n := srv.queueLen(DefaultNamespace, DefaultQueue); n != 5 {
			t.Errorf("queue holds %d, want 5", n)
		}
	})

	t.Run("listen-only policy cannot peek without Listen on send-only", func(t *testing.T) {
		client := newSBClient(t, emu(DefaultSendPolicy, DefaultSendPrimaryKey))
		r, err := client.NewReceiverForQueue(DefaultQueue, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.ReceiveMessages(testCtx(t), 1, nil)
		if sbCode(err) != azservicebus.CodeUnauthorizedAccess || !strings.Contains(err.Error(), "'Listen' claim(s) are required") {
			t.Errorf("receive with a send-only policy: %v", err)
		}
	})
}

func TestDisableLocalAuth(t *testing.T) {
	cfg := DefaultConfig()
	cfg.UserConfig.Namespaces[0].DisableLocalAuth = true
	srv, addr := startServer(t, cfg, Options{})
	err := sendOnce(t, connString(t, srv, addr, DefaultManagePolicy, ""), DefaultQueue, []byte("x"))
	if sbCode(err) != azservicebus.CodeUnauthorizedAccess || !strings.Contains(err.Error(), "LocalAuthDisabled") {
		t.Fatalf("send to a namespace with local auth disabled: %v", err)
	}
}

func TestOversizeMessage(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	cs := connString(t, srv, addr, DefaultSendPolicy, "")
	err := sendOnce(t, cs, DefaultQueue, make([]byte, 300*1024))
	// The emulator announces the tier's limit as the link's max-message-size, as the service
	// does; the SDK turns amqp:link:message-size-exceeded into ErrMessageTooLarge.
	if !errors.Is(err, azservicebus.ErrMessageTooLarge) {
		t.Fatalf("oversize send: %v, want ErrMessageTooLarge", err)
	}
	// Just under the Standard limit passes (the encoded message adds a few bytes).
	if err := sendOnce(t, cs, DefaultQueue, make([]byte, 255*1024)); err != nil {
		t.Fatalf("send of 255 KB: %v", err)
	}
	cfg := DefaultConfig()
	cfg.UserConfig.Namespaces[0].Tier = "Premium"
	srvP, addrP := startServer(t, cfg, Options{})
	if err := sendOnce(t, connString(t, srvP, addrP, DefaultSendPolicy, ""), DefaultQueue, make([]byte, 300*1024)); err != nil {
		t.Fatalf("300 KB send to Premium: %v", err)
	}
}

func TestQueueFull(t *testing.T) {
	cfg := DefaultConfig()
	cfg.UserConfig.Namespaces[0].Queues[0].Properties.MaxMessageCount = 2
	srv, addr := startServer(t, cfg, Options{})
	cs := connString(t, srv, addr, DefaultSendPolicy, "")
	for i := range 2 {
		if err := sendOnce(t, cs, DefaultQueue, []byte("x")); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	err := sendOnce(t, cs, DefaultQueue, []byte("x"))
	var amqpErr *amqp.Error
	if !errors.As(err, &amqpErr) || amqpErr.Condition != amqp.ErrCondResourceLimitExceeded || !strings.Contains(err.Error(), "QuotaExceeded") {
		t.Fatalf("send to a full queue: %v", err)
	}
}

func TestStoppedEmulator(t *testing.T) {
	srv, addr := startServer(t, DefaultConfig(), Options{})
	cs := connString(t, srv, addr, DefaultSendPolicy, "")
	srv.Close()
	err := sendOnce(t, cs, DefaultQueue, []byte("x"))
	if sbCode(err) != azservicebus.CodeConnectionLost {
		t.Fatalf("send to a stopped emulator: %v (code %q), want connlost", err, sbCode(err))
	}
}
