// Command chartcheck checks that the Helm chart's rendered monitoring
// objects carry exactly the project's dashboard and alert rules:
//
//	chartcheck RENDERED.yaml deploy/prometheus/alerts.yaml deploy/grafana/disconnectbot.json
//
// RENDERED.yaml is `helm template` output with grafanaDashboard.enabled and
// prometheusRule.enabled. The PrometheusRule's spec.groups must equal the
// groups of alerts.yaml and the dashboard ConfigMap's disconnectbot.json
// must equal the dashboard, compared as data (not as text, since Helm
// re-serializes the rules). .ci/lint-deploy.sh runs it.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"go.yaml.in/yaml/v3"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: chartcheck RENDERED.yaml ALERTS.yaml DASHBOARD.json")
		os.Exit(2)
	}
	if err := check(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "chartcheck:", err)
		os.Exit(1)
	}
	fmt.Println("chartcheck: the PrometheusRule and the dashboard ConfigMap match", os.Args[2], "and", os.Args[3])
}

type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec map[string]any    `yaml:"spec"`
	Data map[string]string `yaml:"data"`
}

func check(renderedPath, alertsPath, dashboardPath string) error {
	rendered, err := os.ReadFile(renderedPath)
	if err != nil {
		return err
	}
	var rules []object
	var dashboards []object
	dec := yaml.NewDecoder(bytes.NewReader(rendered))
	for {
		var o object
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("%s: %w", renderedPath, err)
		}
		switch {
		case o.Kind == "PrometheusRule":
			rules = append(rules, o)
		case o.Kind == "ConfigMap" && o.Metadata.Labels["grafana_dashboard"] == "1":
			dashboards = append(dashboards, o)
		}
	}
	if len(rules) != 1 || len(dashboards) != 1 {
		return fmt.Errorf("%s: want 1 PrometheusRule and 1 ConfigMap labelled grafana_dashboard: \"1\", found %d and %d", renderedPath, len(rules), len(dashboards))
	}

	var want map[string]any
	if err := readYAML(alertsPath, &want); err != nil {
		return err
	}
	if !reflect.DeepEqual(rules[0].Spec["groups"], want["groups"]) {
		got, _ := yaml.Marshal(rules[0].Spec["groups"])
		return fmt.Errorf("PrometheusRule %s: spec.groups differ from the groups of %s; rendered:\n%s", rules[0].Metadata.Name, alertsPath, got)
	}
	if len(rules[0].Spec) != 1 {
		return fmt.Errorf("PrometheusRule %s: spec has keys besides groups: %v", rules[0].Metadata.Name, rules[0].Spec)
	}

	text, ok := dashboards[0].Data["disconnectbot.json"]
	if !ok {
		return fmt.Errorf("ConfigMap %s has no disconnectbot.json", dashboards[0].Metadata.Name)
	}
	var got, wantDash any
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		return fmt.Errorf("ConfigMap %s: disconnectbot.json: %w", dashboards[0].Metadata.Name, err)
	}
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &wantDash); err != nil {
		return fmt.Errorf("%s: %w", dashboardPath, err)
	}
	if !reflect.DeepEqual(got, wantDash) {
		return fmt.Errorf("ConfigMap %s: disconnectbot.json differs from %s", dashboards[0].Metadata.Name, dashboardPath)
	}
	return nil
}

func readYAML(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
