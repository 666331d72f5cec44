// Package monitoring holds the checks of the operator's view of the bot:
// the Grafana dashboard (deploy/grafana/disconnectbot.json) and the
// Prometheus alert rules (deploy/prometheus/alerts.yaml).
//
// Its tests run the real bot against the fake Slack and Genesys, scrape it
// with a real Prometheus and evaluate every dashboard query and every alert
// expression, so that a renamed metric or a broken query fails CI. They need
// the prometheus binary (Debian package prometheus); without it they are
// skipped unless CI is set. chartcheck compares the Helm chart's rendered
// copies with the sources.
package monitoring
