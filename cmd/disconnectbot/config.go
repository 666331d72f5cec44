package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot/approval"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// Config is everything the bot and the command line read. Every key can be
// set in the YAML file, as DISCONNECTBOT_<SECTION>_<KEY>, and some by the
// conventional Slack and Genesys variable names.
//
// The struct is the one list of keys: configKeys walks it for the defaults
// (tag default), the conventional environment names (tag env; the
// DISCONNECTBOT_ name wins when both are set) and the unknown-key check.
type Config struct {
	Slack struct {
		AppToken string `mapstructure:"app_token" env:"SLACK_APP_TOKEN"`
		BotToken string `mapstructure:"bot_token" env:"SLACK_BOT_TOKEN"`
		APIURL   string `mapstructure:"api_url" default:"https://slack.com/api/"`
	} `mapstructure:"slack"`
	Genesys struct {
		Region       string `mapstructure:"region" env:"GENESYSCLOUD_REGION"`
		ClientID     string `mapstructure:"client_id" env:"GENESYSCLOUD_OAUTHCLIENT_ID"`
		ClientSecret string `mapstructure:"client_secret" env:"GENESYSCLOUD_OAUTHCLIENT_SECRET"`
		APIURL       string `mapstructure:"api_url"`
		LoginURL     string `mapstructure:"login_url"`
		Endpoints    string `mapstructure:"endpoints" default:"auto"`

		// The OAuth client's request budget, shared by the replicas (sweepcmd.go).
		RequestsPerMinute int `mapstructure:"requests_per_minute" default:"240"`
		Replicas          int `mapstructure:"replicas" default:"1"`
	} `mapstructure:"genesys"`
	Authz struct {
		AllowedUsers      []string      `mapstructure:"allowed_users"`
		AllowedUsergroups []string      `mapstructure:"allowed_usergroups"`
		AllowedChannels   []string      `mapstructure:"allowed_channels"`
		GroupTTL          time.Duration `mapstructure:"group_ttl" default:"5m"`
		Contact           string        `mapstructure:"contact"`
		SweepUsers        []string      `mapstructure:"sweep_users"`
		SweepUsergroups   []string      `mapstructure:"sweep_usergroups"`
	} `mapstructure:"authz"`
	Audit struct {
		Channel string `mapstructure:"channel"`
	} `mapstructure:"audit"`
	HTTP struct {
		Addr string `mapstructure:"addr" default:":8080"`
	} `mapstructure:"http"`
	Log struct {
		Level  string `mapstructure:"level" default:"info"`
		Format string `mapstructure:"format" default:"json"`
	} `mapstructure:"log"`
	Shutdown struct {
		Grace time.Duration `mapstructure:"grace" default:"20s"`
	} `mapstructure:"shutdown"`
	Find struct {
		DefaultCountry string `mapstructure:"default_country" default:"US"`
	} `mapstructure:"find"`
	Approval struct {
		RequiredFor        []string      `mapstructure:"required_for"`
		Approvers          []string      `mapstructure:"approvers"`
		ApproverUsergroups []string      `mapstructure:"approver_usergroups"`
		TTL                time.Duration `mapstructure:"ttl" default:"5m"`
		Secret             string        `mapstructure:"secret"`
	} `mapstructure:"approval"`
	Sweep struct {
		MaxAge           string `mapstructure:"max_age" default:"7d"` // m, h, d units (genesys.ParseAge)
		MaxConversations int    `mapstructure:"max_conversations" default:"1000"`
		Concurrency      int    `mapstructure:"concurrency" default:"4"`
	} `mapstructure:"sweep"`
}

// configKey is one key of Config, as configKeys finds it.
type configKey struct {
	name string   // section.key
	def  any      // the default: a string, or []string{} for lists
	env  []string // environment names, the DISCONNECTBOT_ one first
	list bool     // a list of ids ([]string)
	dur  bool     // a time.Duration
}

// configKeys walks Config once for every key it has.
func configKeys() []configKey {
	var keys []configKey
	sections := reflect.TypeFor[Config]()
	for i := range sections.NumField() {
		sec := sections.Field(i)
		for j := range sec.Type.NumField() {
			f := sec.Type.Field(j)
			k := configKey{name: sec.Tag.Get("mapstructure") + "." + f.Tag.Get("mapstructure")}
			k.env = []string{"DISCONNECTBOT_" + strings.ToUpper(strings.ReplaceAll(k.name, ".", "_"))}
			if conv := f.Tag.Get("env"); conv != "" {
				k.env = append(k.env, conv)
			}
			k.def = f.Tag.Get("default")
			k.dur = f.Type == reflect.TypeFor[time.Duration]()
			if f.Type.Kind() == reflect.Slice {
				k.list, k.def = true, []string{}
			}
			keys = append(keys, k)
		}
	}
	return keys
}

// loadConfig reads the config file (if any) and the environment. It checks
// the shape of values but not which are required: that depends on the
// subcommand (see Config.validate*).
func loadConfig(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	v := viper.New()
	keys := configKeys()
	for _, k := range keys {
		v.SetDefault(k.name, k.def)
	}
	if path != "" {
		v.SetConfigFile(path)
		// Always YAML, whatever the name: viper would otherwise guess from
		// the extension and refuse config.yaml.example or a ConfigMap key
		// without one.
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("config file %s does not exist (copy config.yaml.example to start one)", path)
			}
			return nil, fmt.Errorf("reading config file %s: %w", path, err)
		}
		if unknown := unknownKeys(v, keys); len(unknown) > 0 {
			return nil, fmt.Errorf("config file %s has unknown keys: %s (see config.yaml.example for the valid ones)", path, strings.Join(unknown, ", "))
		}
	}
	// Environment variables are read through lookupEnv (not viper's
	// AutomaticEnv) so tests can pass their own environment. A variable set
	// but empty is ignored, except for a list: there it clears what the file
	// says, so DISCONNECTBOT_AUTHZ_ALLOWED_USERS= revokes everyone.
	var bad []string
	for _, k := range keys {
		for _, name := range k.env {
			if val, ok := lookupEnv(name); ok && (val != "" || k.list) {
				v.Set(k.name, val)
				break
			}
		}
		if k.list {
			v.Set(k.name, splitList(v.Get(k.name)))
		}
		// Durations are checked here so the error names the key and the
		// value (mapstructure's message drops the value).
		if s, ok := v.Get(k.name).(string); ok && k.dur {
			if _, err := time.ParseDuration(strings.TrimSpace(s)); err != nil {
				bad = append(bad, fmt.Sprintf("%s %q is not a duration (write it like 30s, 5m or 1h)", k.name, s))
			}
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("config: %s", strings.Join(bad, "; "))
	}
	var cfg Config
	if err := v.Unmarshal(&cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &cfg, nil
}

func unknownKeys(v *viper.Viper, keys []configKey) []string {
	known := make(map[string]bool, len(keys))
	for _, k := range keys {
		known[k.name] = true
	}
	var unknown []string
	for _, k := range v.AllKeys() {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	return unknown
}

// splitList accepts a YAML list or a string of ids separated by commas or
// spaces (how lists arrive from environment variables).
func splitList(raw any) []string {
	var items []string
	switch val := raw.(type) {
	case string:
		items = strings.FieldsFunc(val, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	case []string:
		items = val
	case []any:
		for _, x := range val {
			items = append(items, fmt.Sprint(x))
		}
	}
	out := []string{}
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// problems collects every bad or missing key so the admin fixes them in one go.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration:\n  - %s", strings.Join(p, "\n  - "))
}

// validateGenesys builds the Genesys client from the configuration, as run
// does, and reports every key it refuses. genesys.New stops at the first
// bad field, so each refused field is given a value it accepts and the
// client is built again, until it builds. The words (which key, which
// environment variable) are this command's; whether a value is good is
// genesys.New's to say.
func (c *Config) validateGenesys(p *problems) {
	// How a typed number is read is the finder's concern, not the client's.
	if _, err := genesys.ParseCountry(c.Find.DefaultCountry); err != nil {
		p.addf("find.default_country %s", genesys.UserMessage(err))
	}
	gcfg := c.genesysConfig()
	for range 8 {
		_, err := genesys.New(context.Background(), gcfg)
		if err == nil {
			return
		}
		inErr, ok := errors.AsType[*genesys.InputError](err)
		if !ok {
			p.addf("%s", genesys.UserMessage(err))
			return
		}
		p.addf("%s", c.genesysProblem(genesysKey(inErr.Field), inErr))
		if !acceptField(&gcfg, inErr.Field) {
			return
		}
	}
}

// genesysKeys names the configuration key behind each genesys.Config
// field that genesys.New may refuse: genesys knows no config file.
var genesysKeys = map[string]string{
	"ClientID": "genesys.client_id", "ClientSecret": "genesys.client_secret",
	"Region": "genesys.region", "APIURL": "genesys.api_url", "LoginURL": "genesys.login_url",
	"Endpoints": "genesys.endpoints", "RetryBudget": "genesys.retry_budget",
	"ConfirmTimeout": "genesys.confirm_timeout", "ConfirmInterval": "genesys.confirm_interval",
	"RequestsPerMinute": "genesys.requests_per_minute", "Replicas": "genesys.replicas",
}

// genesysKey is the configuration key for a genesys.Config field name.
func genesysKey(field string) string {
	if key, ok := genesysKeys[field]; ok {
		return key
	}
	return field
}

// genesysProblem says what is wrong with the key genesys.New refused.
func (c *Config) genesysProblem(key string, err *genesys.InputError) string {
	g := c.Genesys
	switch {
	case key == "genesys.client_id":
		return "genesys.client_id is missing (or set GENESYSCLOUD_OAUTHCLIENT_ID): the id of a Genesys OAuth client with the Client Credentials grant"
	case key == "genesys.client_secret":
		return "genesys.client_secret is missing (or set GENESYSCLOUD_OAUTHCLIENT_SECRET)"
	case key == "genesys.region" && g.Region == "" && g.LoginURL != "":
		return "genesys.api_url is missing: genesys.login_url alone is not enough; set genesys.api_url too, or genesys.region"
	case key == "genesys.region" && g.Region == "":
		return "genesys.region is missing (or set GENESYSCLOUD_REGION): one of " + strings.Join(genesys.RegionNames(), ", ")
	case key == "genesys.region":
		return fmt.Sprintf("genesys.region %q is not a Genesys Cloud region; use one of: %s (or a domain such as mypurecloud.com)", g.Region, strings.Join(genesys.RegionNames(), ", "))
	case key == "genesys.api_url" || key == "genesys.login_url":
		raw := g.APIURL
		if key == "genesys.login_url" {
			raw = g.LoginURL
		}
		return fmt.Sprintf("%s %q is not an http(s) URL the client can use (a base URL like https://api.mypurecloud.com, without user name, query or fragment)", key, raw)
	default:
		return key + ": " + err.Message
	}
}

// acceptField replaces a genesys.Config field genesys.New refused with one it accepts, so
// the next build reaches the next field. It reports false for a field it
// does not know.
func acceptField(g *genesys.Config, key string) bool {
	switch key {
	case "ClientID":
		g.ClientID = "checked"
	case "ClientSecret":
		g.ClientSecret = "checked"
	case "Region", "APIURL":
		g.Region, g.APIURL = "", "https://api.checked.invalid"
	case "LoginURL":
		g.LoginURL = ""
	case "Endpoints":
		g.Endpoints = genesys.FamilyAuto
	case "RequestsPerMinute", "Replicas":
		g.RequestsPerMinute, g.Replicas = 0, 0
	default:
		return false
	}
	return true
}

func (c *Config) validateSlack(p *problems) {
	s := c.Slack
	switch {
	case s.AppToken == "":
		p.addf("slack.app_token is missing (or set SLACK_APP_TOKEN): the app-level token (xapp-…) with connections:write")
	case !strings.HasPrefix(s.AppToken, "xapp-"):
		p.addf("slack.app_token is not an app-level token: it must start with xapp- (Basic Information → App-Level Tokens)")
	}
	switch {
	case s.BotToken == "":
		p.addf("slack.bot_token is missing (or set SLACK_BOT_TOKEN): the bot token (xoxb-…)")
	case !strings.HasPrefix(s.BotToken, "xoxb-"):
		p.addf("slack.bot_token is not a bot token: it must start with xoxb- (OAuth & Permissions → Bot User OAuth Token)")
	}
	if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.HasSuffix(s.APIURL, "/") {
		p.addf("slack.api_url %q must be an http(s) URL ending in / (default https://slack.com/api/)", s.APIURL)
	}
	if c.Audit.Channel != "" && !authz.IsChannelID(c.Audit.Channel) {
		p.addf("audit.channel %q must be a channel id (C…), not a name", c.Audit.Channel)
	}
}

func (c *Config) validateRun(p *problems) {
	c.validateSlack(p)
	c.validateGenesys(p)
	c.validateAuthz(p)
	c.validateApproval(p)
	c.validateSweep(p)         // sweepcmd.go
	if c.Authz.GroupTTL == 0 { // negative: authz.New says so
		p.addf("authz.group_ttl must be a positive duration like 5m")
	}
	if c.Shutdown.Grace <= 0 {
		p.addf("shutdown.grace must be a positive duration like 20s")
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		p.addf("log.level: %v", err)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		p.addf("log.format %q is not json or text", c.Log.Format)
	}
}

// validateAuthz builds the allow-list as run does (the workspace is not
// known yet) and reports every entry it refuses.
func (c *Config) validateAuthz(p *problems) {
	_, err := authz.New(c.authzConfig(), noGroups{}, nil)
	if cfgErr, ok := errors.AsType[*authz.ConfigError](err); ok {
		*p = append(*p, cfgErr.Problems...)
	} else if err != nil {
		p.addf("%v", err)
	}
}

// validateApproval builds the four-eyes policy and, when it requires
// anything, checks the signing secret: approval without a secret is refused
// at start-up, never discovered at the first click.
func (c *Config) validateApproval(p *problems) {
	policy, err := authz.NewApproval(c.approvalConfig(), noGroups{}, nil, "")
	if cfgErr, ok := errors.AsType[*authz.ConfigError](err); ok {
		*p = append(*p, cfgErr.Problems...)
		return
	} else if err != nil {
		p.addf("%v", err)
		return
	}
	if !policy.Enabled() {
		return
	}
	if _, err := approval.NewSigner(c.Approval.Secret); err != nil {
		p.addf("approval.secret (or DISCONNECTBOT_APPROVAL_SECRET) is required because approval.required_for is set: %v", err)
	}
}

func (c *Config) approvalConfig() authz.ApprovalConfig {
	return authz.ApprovalConfig{
		RequiredFor:        c.Approval.RequiredFor,
		Approvers:          c.Approval.Approvers,
		ApproverUsergroups: c.Approval.ApproverUsergroups,
		TTL:                c.Approval.TTL,
		GroupTTL:           c.Authz.GroupTTL,
	}
}

// noGroups stands in for Slack while the allow-list is only checked.
type noGroups struct{}

func (noGroups) UserGroupMembers(context.Context, string) ([]string, error) { return nil, nil }

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

func (c *Config) authzConfig() authz.Config {
	return authz.Config{
		AllowedUsers:      c.Authz.AllowedUsers,
		AllowedUsergroups: c.Authz.AllowedUsergroups,
		AllowedChannels:   c.Authz.AllowedChannels,
		GroupTTL:          c.Authz.GroupTTL,
		Contact:           c.Authz.Contact,
	}
}

func (c *Config) genesysConfig() genesys.Config {
	return genesys.Config{
		Region:       c.Genesys.Region,
		ClientID:     c.Genesys.ClientID,
		ClientSecret: c.Genesys.ClientSecret,
		APIURL:       c.Genesys.APIURL,
		LoginURL:     c.Genesys.LoginURL,
		Endpoints:    genesys.EndpointFamily(c.Genesys.Endpoints),

		RequestsPerMinute: c.Genesys.RequestsPerMinute,
		Replicas:          c.Genesys.Replicas,
	}
}
