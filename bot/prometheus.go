package bot

import (
	"runtime"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// Prometheus is the Metrics implementation the bot serves on /metrics.
// Labels are bounded sets (outcomes, reasons, operations, status classes):
// never a user, conversation or participant id.
type Prometheus struct {
	commands        *prometheus.CounterVec
	disconnects     *prometheus.CounterVec
	clicks          *prometheus.CounterVec
	denials         *prometheus.CounterVec
	genesysDuration *prometheus.HistogramVec
	genesysLimited  *prometheus.CounterVec
	genesysWait     *prometheus.HistogramVec
	socketUp        prometheus.Gauge
	reconnects      prometheus.Counter
}

// NewPrometheus registers the bot's metrics on reg.
func NewPrometheus(reg prometheus.Registerer, version, commit string) *Prometheus {
	m := &Prometheus{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "disconnectbot_commands_total",
			Help: "/disconnect commands handled, by outcome (picker_shown, denied, bad_input, genesys_error, …).",
		}, []string{"outcome"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "disconnectbot_disconnects_total",
			Help: "Disconnect button clicks handled, by outcome (confirmed, unconfirmed, already_gone, failed, denied, stale, …).",
		}, []string{"outcome"}),
		clicks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "disconnectbot_clicks_total",
			Help: "Button clicks handled, by action (disconnect, cancel, conversation, unknown) and outcome.",
		}, []string{"action", "outcome"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "disconnectbot_authz_denials_total",
			Help: "Commands and clicks refused by the allow-list, by reason.",
		}, []string{"reason"}),
		genesysDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "disconnectbot_genesys_request_duration_seconds",
			Help:    "Genesys Cloud HTTP requests (each attempt), by operation and status class (2xx, 4xx, 5xx, error).",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}, []string{"operation", "status_class"}),
		genesysLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "disconnectbot_genesys_rate_limited_total",
			Help: "Genesys Cloud answers with HTTP 429, by operation.",
		}, []string{"operation"}),
		genesysWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "disconnectbot_genesys_retry_wait_seconds",
			Help:    "Waits before retrying a Genesys Cloud request (Retry-After on a 429, backoff on a 5xx, 409 or transport error), by operation.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
		}, []string{"operation"}),
		socketUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "disconnectbot_slack_socket_connected",
			Help: "1 while the Slack Socket Mode connection is up.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "disconnectbot_slack_reconnects_total",
			Help: "Slack Socket Mode reconnects (after a disconnect message, a dropped socket or a ping timeout).",
		}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "disconnectbot_build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "goversion": runtime.Version()},
	})
	build.Set(1)
	reg.MustRegister(m.commands, m.disconnects, m.clicks, m.denials, m.genesysDuration, m.genesysLimited, m.genesysWait, m.socketUp, m.reconnects, build)
	return m
}

// Command implements Metrics.
func (m *Prometheus) Command(outcome string) { m.commands.WithLabelValues(outcome).Inc() }

// Disconnect implements Metrics.
func (m *Prometheus) Disconnect(outcome string) { m.disconnects.WithLabelValues(outcome).Inc() }

// Click implements Metrics.
func (m *Prometheus) Click(action, outcome string) { m.clicks.WithLabelValues(action, outcome).Inc() }

// Denied implements Metrics.
func (m *Prometheus) Denied(reason string) { m.denials.WithLabelValues(reason).Inc() }

// SocketConnected implements Metrics.
func (m *Prometheus) SocketConnected(up bool) {
	if up {
		m.socketUp.Set(1)
	} else {
		m.socketUp.Set(0)
	}
}

// Reconnect implements Metrics.
func (m *Prometheus) Reconnect() { m.reconnects.Inc() }

// ObserveGenesys records one Genesys HTTP attempt; pass it as genesys.Config.Observer.
func (m *Prometheus) ObserveGenesys(ev genesys.RequestEvent) {
	op := ev.Operation
	if ev.TokenRequest {
		op = "token"
	}
	m.genesysDuration.WithLabelValues(op, statusClass(ev.Status)).Observe(ev.Duration.Seconds())
	if ev.Status == 429 {
		m.genesysLimited.WithLabelValues(op).Inc()
	}
	if ev.Wait > 0 {
		m.genesysWait.WithLabelValues(op).Observe(ev.Wait.Seconds())
	}
}

// RegisterReadiness registers disconnectbot_ready on reg: 1 when ready
// reports true (when /readyz answers 200), read at every scrape so that the
// gauge and the probe cannot disagree.
func RegisterReadiness(reg prometheus.Registerer, ready func() bool) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "disconnectbot_ready",
		Help: "1 while the bot can serve commands (/readyz answers 200): Slack socket up, last Genesys token fetch succeeded, not shutting down.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	}))
}

func statusClass(status int) string {
	if status <= 0 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}
