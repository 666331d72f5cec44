package bot

// Metrics receives the events that the bot counts. The Prometheus
// implementation is in prometheus.go; nil means none.
type Metrics interface {
	// Command counts a /disconnect command by outcome.
	Command(outcome string)
	// Disconnect counts a click on a disconnect button (or an unknown
	// button) by outcome (confirmed, unconfirmed, failed, …).
	Disconnect(outcome string)
	// Click counts every click by action (disconnect, cancel, conversation,
	// unknown) and outcome.
	Click(action, outcome string)
	// Denied counts an authorization denial by reason.
	Denied(reason string)
	// SocketConnected reports the Socket Mode connection state.
	SocketConnected(up bool)
	// Reconnect counts a Socket Mode reconnect.
	Reconnect()
}

type nopMetrics struct{}

func (nopMetrics) Command(string)       {}
func (nopMetrics) Disconnect(string)    {}
func (nopMetrics) Click(string, string) {}
func (nopMetrics) Denied(string)        {}
func (nopMetrics) SocketConnected(bool) {}
func (nopMetrics) Reconnect()           {}
