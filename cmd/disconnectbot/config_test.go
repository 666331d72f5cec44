package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const fullYAML = `
slack:
  app_token: xapp-file
  bot_token: xoxb-file
genesys:
  region: eu-west-1
  client_id: file-client
  client_secret: file-secret
authz:
  allowed_users: [U0FILE0001, U0FILE0002]
  allowed_usergroups: ["S0FILE0001"]
  group_ttl: 2m
audit:
  channel: C0AUDIT001
http:
  addr: ":9090"
log:
  level: warn
  format: text
shutdown:
  grace: 7s
`

func TestLoadConfigSourcesAndPrecedence(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "config.yaml", fullYAML)
	// view is the part of Config the cases look at.
	type view struct {
		AppToken, BotToken, APIURL  string
		Region, ClientID, Secret    string
		Users, Groups, Channels     []string
		GroupTTL, Grace             time.Duration
		Audit, Addr, Level, Format  string
		GenesysAPIURL, GenesysLogin string
		Endpoints                   string
	}
	fromFile := view{
		AppToken: "xapp-file", BotToken: "xoxb-file", APIURL: "https://slack.com/api/",
		Region: "eu-west-1", ClientID: "file-client", Secret: "file-secret",
		Users: []string{"U0FILE0001", "U0FILE0002"}, Groups: []string{"S0FILE0001"}, Channels: []string{},
		GroupTTL: 2 * time.Minute, Grace: 7 * time.Second,
		Audit: "C0AUDIT001", Addr: ":9090", Level: "warn", Format: "text", Endpoints: "auto",
	}
	defaults := view{
		APIURL: "https://slack.com/api/", Users: []string{}, Groups: []string{}, Channels: []string{},
		GroupTTL: 5 * time.Minute, Grace: 20 * time.Second, Addr: ":8080", Level: "info", Format: "json", Endpoints: "auto",
	}
	with := func(v view, f func(*view)) view {
		v.Users = append([]string{}, v.Users...)
		f(&v)
		return v
	}
	tests := []struct {
		name string
		file string
		env  env
		want view
	}{
		{name: "defaults only", want: defaults},
		{name: "file only", file: file, want: fromFile},
		{
			name: "conventional variables override the file",
			file: file,
			env: env{
				"SLACK_APP_TOKEN": "xapp-conv", "SLACK_BOT_TOKEN": "xoxb-conv", "GENESYSCLOUD_REGION": "us-west-2",
				"GENESYSCLOUD_OAUTHCLIENT_ID": "conv-client", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "conv-secret",
			},
			want: with(fromFile, func(v *view) {
				v.AppToken, v.BotToken, v.Region, v.ClientID, v.Secret = "xapp-conv", "xoxb-conv", "us-west-2", "conv-client", "conv-secret"
			}),
		},
		{
			name: "DISCONNECTBOT_ names win over conventional ones and the file",
			file: file,
			env: env{
				"SLACK_APP_TOKEN": "xapp-conv", "DISCONNECTBOT_SLACK_APP_TOKEN": "xapp-ours",
				"SLACK_BOT_TOKEN": "xoxb-conv", "DISCONNECTBOT_SLACK_BOT_TOKEN": "xoxb-ours",
				"GENESYSCLOUD_REGION": "us-west-2", "DISCONNECTBOT_GENESYS_REGION": "ap-southeast-2",
				"GENESYSCLOUD_OAUTHCLIENT_ID": "conv-client", "DISCONNECTBOT_GENESYS_CLIENT_ID": "our-client",
				"GENESYSCLOUD_OAUTHCLIENT_SECRET": "conv-secret", "DISCONNECTBOT_GENESYS_CLIENT_SECRET": "our-secret",
			},
			want: with(fromFile, func(v *view) {
				v.AppToken, v.BotToken, v.Region, v.ClientID, v.Secret = "xapp-ours", "xoxb-ours", "ap-southeast-2", "our-client", "our-secret"
			}),
		},
		{
			name: "every section from the environment",
			file: file,
			env: env{
				"DISCONNECTBOT_SLACK_API_URL":            "http://127.0.0.1:1/api/",
				"DISCONNECTBOT_GENESYS_API_URL":          "http://127.0.0.1:2",
				"DISCONNECTBOT_GENESYS_LOGIN_URL":        "http://127.0.0.1:3",
				"DISCONNECTBOT_GENESYS_ENDPOINTS":        "calls",
				"DISCONNECTBOT_AUTHZ_ALLOWED_USERS":      "U0ENV00001,U0ENV00002",
				"DISCONNECTBOT_AUTHZ_ALLOWED_USERGROUPS": "S0ENV00001 S0ENV00002",
				"DISCONNECTBOT_AUTHZ_ALLOWED_CHANNELS":   " C0ENV00001 , ,C0ENV00002,",
				"DISCONNECTBOT_AUTHZ_GROUP_TTL":          "90s",
				"DISCONNECTBOT_AUDIT_CHANNEL":            "C0AUDITENV",
				"DISCONNECTBOT_HTTP_ADDR":                "127.0.0.1:0",
				"DISCONNECTBOT_LOG_LEVEL":                "debug",
				"DISCONNECTBOT_LOG_FORMAT":               "json",
				"DISCONNECTBOT_SHUTDOWN_GRACE":           "45s",
			},
			want: with(fromFile, func(v *view) {
				v.APIURL, v.GenesysAPIURL, v.GenesysLogin, v.Endpoints = "http://127.0.0.1:1/api/", "http://127.0.0.1:2", "http://127.0.0.1:3", "calls"
				v.Users = []string{"U0ENV00001", "U0ENV00002"}
				v.Groups = []string{"S0ENV00001", "S0ENV00002"}
				v.Channels = []string{"C0ENV00001", "C0ENV00002"}
				v.GroupTTL, v.Audit, v.Addr, v.Level, v.Format, v.Grace = 90*time.Second, "C0AUDITENV", "127.0.0.1:0", "debug", "json", 45*time.Second
			}),
		},
		{
			name: "lists from a single-id variable",
			env:  env{"DISCONNECTBOT_AUTHZ_ALLOWED_USERS": "U0ONLY0001"},
			want: with(defaults, func(v *view) { v.Users = []string{"U0ONLY0001"} }),
		},
		{
			name: "an empty variable does not clear the file's string value",
			file: file,
			env:  env{"SLACK_BOT_TOKEN": ""},
			want: fromFile,
		},
		{
			// issue 11: DISCONNECTBOT_AUTHZ_ALLOWED_USERS= revokes everyone.
			name: "an empty variable clears the file's list",
			file: file,
			env:  env{"DISCONNECTBOT_AUTHZ_ALLOWED_USERS": ""},
			want: with(fromFile, func(v *view) { v.Users = []string{} }),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadConfig(tc.file, tc.env.lookup)
			if err != nil {
				t.Fatal(err)
			}
			got := view{
				AppToken: cfg.Slack.AppToken, BotToken: cfg.Slack.BotToken, APIURL: cfg.Slack.APIURL,
				Region: cfg.Genesys.Region, ClientID: cfg.Genesys.ClientID, Secret: cfg.Genesys.ClientSecret,
				GenesysAPIURL: cfg.Genesys.APIURL, GenesysLogin: cfg.Genesys.LoginURL, Endpoints: cfg.Genesys.Endpoints,
				Users: cfg.Authz.AllowedUsers, Groups: cfg.Authz.AllowedUsergroups, Channels: cfg.Authz.AllowedChannels,
				GroupTTL: cfg.Authz.GroupTTL, Grace: cfg.Shutdown.Grace,
				Audit: cfg.Audit.Channel, Addr: cfg.HTTP.Addr, Level: cfg.Log.Level, Format: cfg.Log.Format,
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string // "" = no file
		path  string // a file that does not exist
		env   env
		wants []string
	}{
		{
			name:  "unknown key in a known section",
			yaml:  "slack:\n  bot_tokn: xoxb-typo\n",
			wants: []string{"unknown keys", "slack.bot_tokn", "config.yaml.example"},
		},
		{
			name:  "unknown sections, all named, sorted",
			yaml:  "slak:\n  bot_token: x\nmetrics:\n  addr: :9\n",
			wants: []string{"metrics.addr, slak.bot_token"},
		},
		{
			name:  "a map under a leaf key",
			yaml:  "http:\n  addr:\n    port: 8080\n",
			wants: []string{"http.addr.port"},
		},
		{
			name:  "not YAML",
			yaml:  "slack: [unclosed\n",
			wants: []string{"reading config file"},
		},
		{
			name:  "missing file",
			path:  filepath.Join(t.TempDir(), "nope.yaml"),
			wants: []string{"does not exist", "config.yaml.example"},
		},
		{
			name:  "bad duration from the environment",
			env:   env{"DISCONNECTBOT_SHUTDOWN_GRACE": "soon"},
			wants: []string{`shutdown.grace "soon" is not a duration`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := tc.path
			if tc.yaml != "" {
				path = writeFile(t, "config.yaml", tc.yaml)
			}
			e := tc.env
			if e == nil {
				e = env{}
			}
			_, err := loadConfig(path, e.lookup)
			if err == nil {
				t.Fatal("loadConfig accepted it")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateRunNamesEveryProblem(t *testing.T) {
	t.Parallel()
	good := env{
		"SLACK_APP_TOKEN": "xapp-1-A0-x", "SLACK_BOT_TOKEN": "xoxb-1-x",
		"GENESYSCLOUD_REGION": "us-east-1", "GENESYSCLOUD_OAUTHCLIENT_ID": "id", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "secret",
	}
	tests := []struct {
		name   string
		env    env
		wants  []string // each must appear
		nwants int      // number of problems
	}{
		{name: "valid", env: env{}},
		{name: "bot token is an app token", env: env{"SLACK_BOT_TOKEN": "xapp-1-oops"}, wants: []string{"slack.bot_token", "xoxb-"}, nwants: 1},
		{name: "app token is a bot token", env: env{"SLACK_APP_TOKEN": "xoxb-oops"}, wants: []string{"slack.app_token", "xapp-"}, nwants: 1},
		{
			name: "unknown region lists the valid ones", env: env{"GENESYSCLOUD_REGION": "mars-north-1"},
			wants: append([]string{`genesys.region "mars-north-1"`}, genesys.RegionNames()...), nwants: 1,
		},
		{name: "missing client id", env: env{"GENESYSCLOUD_OAUTHCLIENT_ID": "-"}, wants: []string{"genesys.client_id is missing", "GENESYSCLOUD_OAUTHCLIENT_ID"}, nwants: 1},
		{name: "api url alone (login url follows from it)", env: env{"GENESYSCLOUD_REGION": "-", "DISCONNECTBOT_GENESYS_API_URL": "http://127.0.0.1:1"}},
		{name: "login url alone", env: env{"GENESYSCLOUD_REGION": "-", "DISCONNECTBOT_GENESYS_LOGIN_URL": "http://127.0.0.1:1"}, wants: []string{"genesys.api_url is missing"}, nwants: 1},
		{name: "api url that is not a url", env: env{"DISCONNECTBOT_GENESYS_API_URL": "api.example.com"}, wants: []string{"genesys.api_url", "not an http(s) URL"}, nwants: 1},
		{name: "slack api url without slash", env: env{"DISCONNECTBOT_SLACK_API_URL": "http://127.0.0.1:1/api"}, wants: []string{"slack.api_url", "ending in /"}, nwants: 1},
		{name: "audit channel by name", env: env{"DISCONNECTBOT_AUDIT_CHANNEL": "#audit"}, wants: []string{"audit.channel", "channel id"}, nwants: 1},
		{name: "bad level and format", env: env{"DISCONNECTBOT_LOG_LEVEL": "loud", "DISCONNECTBOT_LOG_FORMAT": "xml"}, wants: []string{"log.level", "log.format"}, nwants: 2},
		{name: "endpoints", env: env{"DISCONNECTBOT_GENESYS_ENDPOINTS": "fast"}, wants: []string{"genesys.endpoints"}, nwants: 1},
		{
			name: "approval with its secret", env: env{"DISCONNECTBOT_APPROVAL_REQUIRED_FOR": "customer,sweep", "DISCONNECTBOT_APPROVAL_TTL": "30s",
				"DISCONNECTBOT_APPROVAL_APPROVERS": "U0LEAD0001", "DISCONNECTBOT_APPROVAL_SECRET": "0123456789abcdef0123456789abcdef-approval"},
		},
		{name: "approval without a secret", env: env{"DISCONNECTBOT_APPROVAL_REQUIRED_FOR": "customer"}, wants: []string{"approval.secret", "DISCONNECTBOT_APPROVAL_SECRET", "is required because approval.required_for is set", "missing"}, nwants: 1},
		{name: "approval with a short secret", env: env{"DISCONNECTBOT_APPROVAL_REQUIRED_FOR": "all", "DISCONNECTBOT_APPROVAL_SECRET": "short"}, wants: []string{"approval.secret", "at least 32"}, nwants: 1},
		{name: "approval purpose misspelled", env: env{"DISCONNECTBOT_APPROVAL_REQUIRED_FOR": "customers", "DISCONNECTBOT_APPROVAL_SECRET": "0123456789abcdef0123456789abcdef-approval"}, wants: []string{"approval.required_for[0]", `did you mean "customer"?`}, nwants: 1},
		{name: "approval ttl negative", env: env{"DISCONNECTBOT_APPROVAL_REQUIRED_FOR": "customer", "DISCONNECTBOT_APPROVAL_TTL": "-5m", "DISCONNECTBOT_APPROVAL_SECRET": "0123456789abcdef0123456789abcdef-approval"}, wants: []string{"approval.ttl"}, nwants: 1},
		{name: "approvers without anything to approve", env: env{"DISCONNECTBOT_APPROVAL_APPROVERS": "U0LEAD0001"}, wants: []string{"approval.required_for is empty"}, nwants: 1},
		{
			name:   "everything missing at once",
			env:    env{"SLACK_APP_TOKEN": "-", "SLACK_BOT_TOKEN": "-", "GENESYSCLOUD_REGION": "-", "GENESYSCLOUD_OAUTHCLIENT_ID": "-", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "-"},
			wants:  []string{"slack.app_token is missing", "slack.bot_token is missing", "genesys.region is missing", "genesys.client_id is missing", "genesys.client_secret is missing"},
			nwants: 5,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := env{}
			for k, v := range good {
				e[k] = v
			}
			for k, v := range tc.env {
				if v == "-" {
					v = ""
				}
				e[k] = v
			}
			cfg, err := loadConfig("", e.lookup)
			if err != nil {
				t.Fatal(err)
			}
			var p problems
			cfg.validateRun(&p)
			if len(p) != tc.nwants {
				t.Errorf("%d problems, want %d: %q", len(p), tc.nwants, p)
			}
			msg := ""
			if err := p.err(); err != nil {
				msg = err.Error()
			}
			for _, w := range tc.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("problems %q do not mention %q", msg, w)
				}
			}
			for _, secret := range []string{"xoxb-1-x", "xapp-1-A0-x", "secret"} {
				if strings.Contains(msg, secret) && !strings.Contains(strings.Join(tc.wants, " "), secret) {
					t.Errorf("problems repeat the secret value %q: %s", secret, msg)
				}
			}
		})
	}
}

// TestRunRefusesBadConfigWithoutConnecting runs `disconnectbot run` with a
// bad configuration pointed at a fake Slack: exit code 2, every problem
// named, and not one request to Slack.
func TestRunRefusesBadConfigWithoutConnecting(t *testing.T) {
	t.Parallel()
	sl := slacktest.New(slacktest.Options{})
	t.Cleanup(sl.Close)
	tests := []struct {
		name  string
		env   env
		args  []string
		wants []string
	}{
		{
			name:  "bad tokens, region, missing client id",
			env:   env{"SLACK_APP_TOKEN": "xoxb-wrong", "SLACK_BOT_TOKEN": "xoxp-user-token", "GENESYSCLOUD_REGION": "moon-1", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s"},
			wants: []string{"slack.app_token", "slack.bot_token", "genesys.region", "us-east-1", "genesys.client_id"},
		},
		{
			name: "approval on without its signing secret",
			env: env{"SLACK_APP_TOKEN": sl.AppToken(), "SLACK_BOT_TOKEN": sl.BotToken(), "GENESYSCLOUD_REGION": "us-east-1", "GENESYSCLOUD_OAUTHCLIENT_ID": "i", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s",
				"DISCONNECTBOT_APPROVAL_REQUIRED_FOR": "customer"},
			wants: []string{"approval.secret (or DISCONNECTBOT_APPROVAL_SECRET) is required because approval.required_for is set"},
		},
		{
			name:  "unknown key in the file",
			env:   env{"SLACK_APP_TOKEN": sl.AppToken(), "SLACK_BOT_TOKEN": sl.BotToken(), "GENESYSCLOUD_REGION": "us-east-1", "GENESYSCLOUD_OAUTHCLIENT_ID": "i", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s"},
			args:  []string{"--config", writeFile(t, "c.yaml", "shutdown:\n  grace_period: 5s\n")},
			wants: []string{"shutdown.grace_period"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["DISCONNECTBOT_SLACK_API_URL"] = sl.APIURL()
			var stdout, stderr bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: tc.env.lookup, stdinIsTerminal: func() bool { return false }}
			code := a.execute(context.Background(), append([]string{"run"}, tc.args...))
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
			}
			for _, w := range tc.wants {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not mention %q:\n%s", w, stderr.String())
				}
			}
		})
	}
	if calls := sl.Calls(); len(calls) != 0 {
		t.Errorf("run with a bad config called Slack %d times: %+v", len(calls), calls)
	}
	if st := sl.Stats(); st.Opens+st.OpenFailures+st.Connects != 0 {
		t.Errorf("run with a bad config touched Socket Mode: %+v", st)
	}
}

func TestConfigExampleParses(t *testing.T) {
	t.Parallel()
	if _, err := loadConfig(filepath.Join("..", "..", "config.yaml.example"), env{}.lookup); err != nil {
		t.Fatalf("config.yaml.example: %v", err)
	}
	// With the credentials from the environment, the example is a valid
	// run configuration as shipped.
	e := env{"SLACK_APP_TOKEN": "xapp-1-x", "SLACK_BOT_TOKEN": "xoxb-1-x", "GENESYSCLOUD_OAUTHCLIENT_ID": "i", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s"}
	cfg, err := loadConfig(filepath.Join("..", "..", "config.yaml.example"), e.lookup)
	if err != nil {
		t.Fatal(err)
	}
	var p problems
	cfg.validateRun(&p)
	if err := p.err(); err != nil {
		t.Errorf("config.yaml.example plus credentials is not valid: %v", err)
	}
	// Every key the bot knows is documented in the example.
	raw, err := os.ReadFile(filepath.Join("..", "..", "config.yaml.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range configKeys() {
		key := k.name
		leaf := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(string(raw), leaf+":") {
			t.Errorf("config.yaml.example does not document %s", key)
		}
	}
}

// The keys and their environment names are the public interface: the
// struct tags of Config must keep yielding exactly these.
func TestConfigKeys(t *testing.T) {
	t.Parallel()
	want := map[string]any{
		"slack.app_token": "", "slack.bot_token": "", "slack.api_url": "https://slack.com/api/",
		"genesys.region": "", "genesys.client_id": "", "genesys.client_secret": "", "genesys.api_url": "",
		"genesys.login_url": "", "genesys.endpoints": "auto",
		"authz.allowed_users": []string{}, "authz.allowed_usergroups": []string{}, "authz.allowed_channels": []string{},
		"authz.group_ttl": "5m", "authz.contact": "", "audit.channel": "", "http.addr": ":8080",
		"log.level": "info", "log.format": "json", "shutdown.grace": "20s", "find.default_country": "US",
		"approval.required_for": []string{}, "approval.approvers": []string{}, "approval.approver_usergroups": []string{},
		"approval.ttl": "5m", "approval.secret": "",
		// Sweeps (sweepcmd.go).
		"genesys.requests_per_minute": "240", "genesys.replicas": "1",
		"authz.sweep_users": []string{}, "authz.sweep_usergroups": []string{},
		"sweep.max_age": "7d", "sweep.max_conversations": "1000", "sweep.concurrency": "4",
	}
	conventional := map[string]string{
		"slack.app_token": "SLACK_APP_TOKEN", "slack.bot_token": "SLACK_BOT_TOKEN", "genesys.region": "GENESYSCLOUD_REGION",
		"genesys.client_id": "GENESYSCLOUD_OAUTHCLIENT_ID", "genesys.client_secret": "GENESYSCLOUD_OAUTHCLIENT_SECRET",
	}
	got := map[string]any{}
	for _, k := range configKeys() {
		got[k.name] = k.def
		wantEnv := []string{"DISCONNECTBOT_" + strings.ToUpper(strings.ReplaceAll(k.name, ".", "_"))}
		if c, ok := conventional[k.name]; ok {
			wantEnv = append(wantEnv, c)
		}
		if diff := cmp.Diff(wantEnv, k.env); diff != "" {
			t.Errorf("%s env names (-want +got):\n%s", k.name, diff)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys and defaults (-want +got):\n%s", diff)
	}
}
