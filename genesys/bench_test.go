package genesys

import (
	"context"
	"testing"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// BenchmarkIdentifyAndDisconnect measures the bot's whole Genesys path for
// one disconnect: read the conversation, identify the external party by
// purpose, PATCH it, confirm it dropped. Each iteration uses a fresh
// conversation. It reports how many API requests one disconnect costs and
// how many token requests 1000 disconnects cost (the token must be reused).
func BenchmarkIdentifyAndDisconnect(b *testing.B) {
	srv := genesystest.New(genesystest.WithDisconnectDelay(0))
	defer srv.Close()
	c := newClient(b, srv, nil)
	ctx := context.Background()
	sel, err := ParseSelector(SelectPurpose, "external")
	if err != nil {
		b.Fatal(err)
	}
	convs := make([]string, b.N)
	for i := range convs {
		convs[i] = srv.ThreePartyConference().ID
	}
	before := c.Stats()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		conv, err := c.GetConversation(ctx, convs[i])
		if err != nil {
			b.Fatal(err)
		}
		ps, err := c.Identify(ctx, conv, sel)
		if err != nil || len(ps) != 1 {
			b.Fatalf("identify: %v, %v", ps, err)
		}
		if _, err := c.DisconnectParticipant(ctx, conv.ID, ps[0].ID); err != nil {
			b.Fatal(err)
		}
		conf, err := c.ConfirmDisconnect(ctx, conv.ID, ps[0].ID)
		if err != nil || !conf.Confirmed {
			b.Fatalf("confirm: %+v, %v", conf, err)
		}
	}
	b.StopTimer()
	after := c.Stats()
	b.ReportMetric(float64(after.Requests-before.Requests)/float64(b.N), "genesys-requests/disconnect")
	b.ReportMetric(float64(after.TokenRequests)*1000/float64(b.N), "token-requests/1000-disconnects")
}
