package endpoint

import "testing"

func BenchmarkParseConnectionString(b *testing.B) {
	s := "Endpoint=sb://mybus.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + testKey + ";EntityPath=orders"
	for b.Loop() {
		if _, err := ParseConnectionString(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateQueue(b *testing.B) {
	e := validQueue()
	for b.Loop() {
		if p := e.Validate(); p != nil {
			b.Fatal(p)
		}
	}
}

func BenchmarkValidateWebhookHeader(b *testing.B) {
	e := validExamples()["webhook header"]
	for b.Loop() {
		if p := e.Validate(); p != nil {
			b.Fatal(p)
		}
	}
}

func BenchmarkParseSASToken(b *testing.B) {
	for b.Loop() {
		if _, err := ParseSASToken(testToken); err != nil {
			b.Fatal(err)
		}
	}
}
