package emulator

import (
	"testing"
	"time"

	"github.com/contoso/sbportal/endpoint"
)

// Tokens the portal signs (endpoint.SignSAS) are judged by the emulator like the SDK's own.
func TestAcceptsTokensSignedByEndpointPackage(t *testing.T) {
	_, addr := startServer(t, DefaultConfig(), Options{})
	sas := func(resource, policy, key string, expiry time.Time) string {
		tok := endpoint.SignSAS(resource, policy, endpoint.NewSecret(key), expiry)
		return "Endpoint=sb://" + addr + ";SharedAccessSignature=" + tok.Reveal() + ";UseDevelopmentEmulator=true"
	}
	if err := sendOnce(t, sas("amqp://"+addr+"/"+DefaultQueue, DefaultQueueSendPolicy, DefaultQueueSendPrimaryKey, time.Now().Add(time.Hour)), DefaultQueue, []byte("x")); err != nil {
		t.Fatalf("endpoint-signed token refused: %v", err)
	}
	if err := sendOnce(t, sas("amqp://"+addr+"/"+DefaultQueue, DefaultQueueSendPolicy, DefaultSendPrimaryKey, time.Now().Add(time.Hour)), DefaultQueue, []byte("x")); err == nil {
		t.Fatal("endpoint-signed token with the wrong key accepted")
	}
}
