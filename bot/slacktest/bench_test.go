package slacktest

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSlashCommandRoundTrip measures envelope delivery to a real
// socketmode client and back (the ack).
func BenchmarkSlashCommandRoundTrip(b *testing.B) {
	s := New(Options{PingInterval: 100 * time.Millisecond})
	b.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	startBot(b, s, ackAll)
	if err := s.WaitConnections(ctx, 1); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := s.SendSlashCommand(ctx, SlashCommand{ChannelID: "C1", UserID: "U1", Command: "/x"})
		if err != nil {
			b.Fatal(err)
		}
		total += d.AckLatency
		if i%1000 == 999 {
			s.ResetRecordings()
		}
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "ack-µs/op")
}
