package bot

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// SweepPrometheus is the SweepMetrics implementation, plus the gauges of
// the Genesys request budget.
type SweepPrometheus struct {
	started       prometheus.Counter
	conversations *prometheus.CounterVec
}

// NewSweepPrometheus registers the sweep and budget metrics on reg. budget
// reads the Genesys client's budget (genesys.Client.Budget).
func NewSweepPrometheus(reg prometheus.Registerer, budget func() genesys.BudgetStats) *SweepPrometheus {
	m := &SweepPrometheus{
		started: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "disconnectbot_sweeps_started_total",
			Help: "Sweeps of stuck interactions started (Disconnect all, or Tear down).",
		}),
		conversations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "disconnectbot_sweep_conversations_total",
			Help: "Conversations a sweep processed, by result (cleared, torn_down, already_ended, still_open, failed, skipped).",
		}, []string{"result"}),
	}
	inUse := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "disconnectbot_genesys_budget_in_use",
		Help: "Share of this replica's Genesys request budget used over the last minute (0 to 1; above 1 when interactive requests alone exceed it).",
	}, func() float64 { return budget().InUse })
	perMinute := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "disconnectbot_genesys_budget_requests_per_minute",
		Help: "This replica's share of the Genesys request budget, in requests per minute (genesys.requests_per_minute / genesys.replicas, lowered when Genesys's rate-limit headers say so).",
	}, func() float64 { return budget().RequestsPerMinute })
	reg.MustRegister(m.started, m.conversations, inUse, perMinute)
	return m
}

// SweepStarted implements SweepMetrics.
func (m *SweepPrometheus) SweepStarted() { m.started.Inc() }

// SweepConversation implements SweepMetrics.
func (m *SweepPrometheus) SweepConversation(result string) {
	m.conversations.WithLabelValues(result).Inc()
}
