package monitoring_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	dashboardPath = "../grafana/disconnectbot.json"
	alertsPath    = "../prometheus/alerts.yaml"
)

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	SchemaVersion int      `json:"schemaVersion"`
	Tags          []string `json:"tags"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		Expr    string `json:"expr"`
		RefID   string `json:"refId"`
		Instant bool   `json:"instant"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // collapsed rows
}

// query is one PromQL expression from the dashboard or the rules.
type query struct {
	where string // for messages: panel title and refId, or alert name
	expr  string
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	return d
}

// dashboardQueries returns every panel query, rows' panels included.
func dashboardQueries(d dashboard) []query {
	var out []query
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, query{where: fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), expr: tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	b, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatalf("%s: %v", alertsPath, err)
	}
	return rf
}

func alertQueries(rf ruleFile) []query {
	var out []query
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			out = append(out, query{where: "alert " + r.Alert, expr: r.Expr})
		}
	}
	return out
}

// Grafana's variables, replaced by what Grafana would send for a 5 minute
// range scraped every second. $job and $instance are multi-value variables
// whose "All" is the regex .+.
var grafanaVars = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "15s",
	"__range":         "5m",
	"job":             ".+",
	"instance":        ".+",
}

var varRef = regexp.MustCompile(`\$\{?(\w+)\}?`)

// expand replaces Grafana variables; it fails on one it does not know, so
// that a query using an undefined variable is caught.
func expand(expr string) (string, error) {
	var bad []string
	out := varRef.ReplaceAllStringFunc(expr, func(m string) string {
		name := varRef.FindStringSubmatch(m)[1]
		v, ok := grafanaVars[name]
		if !ok {
			bad = append(bad, m)
		}
		return v
	})
	if bad != nil {
		return "", fmt.Errorf("unknown variables %v", bad)
	}
	return out, nil
}

var metricName = regexp.MustCompile(`\bdisconnectbot_[a-zA-Z0-9_:]+`)

// TestDashboardShape checks what Grafana needs to import the dashboard and
// what the live test cannot see: the datasource variable, unique panel ids,
// panels inside the 24-column grid, and a datasource on every panel.
func TestDashboardShape(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || len(d.Tags) == 0 {
		t.Errorf("uid %q, title %q, tags %v: all must be set", d.UID, d.Title, d.Tags)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d: want a current Grafana schema (>= 36)", d.SchemaVersion)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Name == "datasource" && (v.Type != "datasource" || v.Query != "prometheus") {
			t.Errorf("variable datasource: type %q query %v, want a prometheus datasource variable", v.Type, v.Query)
		}
	}
	for _, name := range []string{"datasource", "job", "instance"} {
		if !vars[name] {
			t.Errorf("no template variable %q", name)
		}
	}
	ids := map[int]string{}
	for _, p := range d.Panels {
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", p.Title, other, p.ID)
		}
		ids[p.ID] = p.Title
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v is outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want uid ${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
	for _, q := range dashboardQueries(d) {
		if _, err := expand(q.expr); err != nil {
			t.Errorf("%s: %v", q.where, err)
		}
		if !metricName.MatchString(q.expr) {
			t.Errorf("%s uses no disconnectbot metric: %s", q.where, q.expr)
		}
	}
}

// TestAlertRulesShape checks that every alert tells the operator what to do.
func TestAlertRulesShape(t *testing.T) {
	t.Parallel()
	rf := loadRules(t)
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a rule without alert name (recording rules belong elsewhere)", g.Name)
				continue
			}
			if seen[r.Alert] {
				t.Errorf("alert %s defined twice", r.Alert)
			}
			seen[r.Alert] = true
			for _, a := range []string{"summary", "description", "runbook"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s has no %s annotation", r.Alert, a)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("alert %s: severity %q, want critical or warning", r.Alert, s)
			}
			if r.For == "" {
				t.Errorf("alert %s has no for: a single bad scrape would page", r.Alert)
			}
			if !metricName.MatchString(r.Expr) {
				t.Errorf("alert %s uses no disconnectbot metric: %s", r.Alert, r.Expr)
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("no alerts")
	}
}
