package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// Config is everything the bot and the command line read. Every key can be
// set in the YAML file, as DISCONNECTBOT_<SECTION>_<KEY>, and some by the
// conventional Slack and Genesys variable names.
type Config struct {
	Slack struct {
		AppToken string `mapstructure:"app_token"`
		BotToken string `mapstructure:"bot_token"`
		APIURL   string `mapstructure:"api_url"`
	} `mapstructure:"slack"`
	Genesys struct {
		Region       string `mapstructure:"region"`
		ClientID     string `mapstructure:"client_id"`
		ClientSecret string `mapstructure:"client_secret"`
		APIURL       string `mapstructure:"api_url"`
		LoginURL     string `mapstructure:"login_url"`
		Endpoints    string `mapstructure:"endpoints"`
	} `mapstructure:"genesys"`
	Authz struct {
		AllowedUsers      []string      `mapstructure:"allowed_users"`
		AllowedUsergroups []string      `mapstructure:"allowed_usergroups"`
		AllowedChannels   []string      `mapstructure:"allowed_channels"`
		GroupTTL          time.Duration `mapstructure:"group_ttl"`
		Contact           string        `mapstructure:"contact"`
	} `mapstructure:"authz"`
	Audit struct {
		Channel string `mapstructure:"channel"`
	} `mapstructure:"audit"`
	HTTP struct {
		Addr string `mapstructure:"addr"`
	} `mapstructure:"http"`
	Log struct {
		Level  string `mapstructure:"level"`
		Format string `mapstructure:"format"`
	} `mapstructure:"log"`
	Shutdown struct {
		Grace time.Duration `mapstructure:"grace"`
	} `mapstructure:"shutdown"`
	Find struct {
		DefaultCountry string `mapstructure:"default_country"`
	} `mapstructure:"find"`
}

// defaults lists every key with its default; it is also the list of keys
// viper binds to environment variables.
var configDefaults = map[string]any{
	"slack.app_token":          "",
	"slack.bot_token":          "",
	"slack.api_url":            "https://slack.com/api/",
	"genesys.region":           "",
	"genesys.client_id":        "",
	"genesys.client_secret":    "",
	"genesys.api_url":          "",
	"genesys.login_url":        "",
	"genesys.endpoints":        "auto",
	"authz.allowed_users":      []string{},
	"authz.allowed_usergroups": []string{},
	"authz.allowed_channels":   []string{},
	"authz.group_ttl":          "5m",
	"authz.contact":            "",
	"audit.channel":            "",
	"http.addr":                ":8080",
	"log.level":                "info",
	"log.format":               "json",
	"shutdown.grace":           "20s",
	"find.default_country":     "US",
}

// conventionalEnv are the names Slack's and Genesys's own tools use. The
// DISCONNECTBOT_ name wins when both are set.
var conventionalEnv = map[string]string{
	"slack.app_token":       "SLACK_APP_TOKEN",
	"slack.bot_token":       "SLACK_BOT_TOKEN",
	"genesys.region":        "GENESYSCLOUD_REGION",
	"genesys.client_id":     "GENESYSCLOUD_OAUTHCLIENT_ID",
	"genesys.client_secret": "GENESYSCLOUD_OAUTHCLIENT_SECRET",
}

// loadConfig reads the config file (if any) and the environment. It checks
// the shape of values but not which are required: that depends on the
// subcommand (see Config.validate*).
func loadConfig(path string, getenv func(string) string) (*Config, error) {
	v := viper.New()
	for key, def := range configDefaults {
		v.SetDefault(key, def)
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
		if unknown := unknownKeys(v); len(unknown) > 0 {
			return nil, fmt.Errorf("config file %s has unknown keys: %s (see config.yaml.example for the valid ones)", path, strings.Join(unknown, ", "))
		}
	}
	// Environment variables are read through getenv (not viper's
	// AutomaticEnv) so tests can pass their own environment.
	for key := range configDefaults {
		names := []string{"DISCONNECTBOT_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))}
		if conv, ok := conventionalEnv[key]; ok {
			names = append(names, conv)
		}
		for _, name := range names {
			if val := getenv(name); val != "" {
				v.Set(key, val)
				break
			}
		}
	}
	for _, key := range []string{"authz.allowed_users", "authz.allowed_usergroups", "authz.allowed_channels"} {
		v.Set(key, splitList(v.Get(key)))
	}
	// Durations are checked here so the error names the key and the value
	// (mapstructure's message drops the value).
	var bad []string
	for _, key := range []string{"authz.group_ttl", "shutdown.grace"} {
		if s, ok := v.Get(key).(string); ok {
			if _, err := time.ParseDuration(strings.TrimSpace(s)); err != nil {
				bad = append(bad, fmt.Sprintf("%s %q is not a duration (write it like 30s, 5m or 1h)", key, s))
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

func unknownKeys(v *viper.Viper) []string {
	var unknown []string
	for _, k := range v.AllKeys() {
		if _, ok := configDefaults[k]; !ok {
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

func (c *Config) validateGenesys(p *problems) {
	g := c.Genesys
	if g.ClientID == "" {
		p.addf("genesys.client_id is missing (or set GENESYSCLOUD_OAUTHCLIENT_ID): the id of a Genesys OAuth client with the Client Credentials grant")
	}
	if g.ClientSecret == "" {
		p.addf("genesys.client_secret is missing (or set GENESYSCLOUD_OAUTHCLIENT_SECRET)")
	}
	switch {
	case g.APIURL != "":
		// The login URL follows from the API URL (api.x → login.x, else the
		// same URL) unless genesys.login_url says otherwise.
		for key, raw := range map[string]string{"genesys.api_url": g.APIURL, "genesys.login_url": g.LoginURL} {
			if raw == "" {
				continue
			}
			if u, err := url.Parse(raw); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				p.addf("%s %q is not an http(s) URL", key, raw)
			}
		}
	case g.Region == "" && g.LoginURL != "":
		p.addf("genesys.api_url is missing: genesys.login_url alone is not enough; set genesys.api_url too, or genesys.region")
	case g.Region == "":
		p.addf("genesys.region is missing (or set GENESYSCLOUD_REGION): one of %s", strings.Join(genesys.RegionNames(), ", "))
	default:
		if _, _, err := genesys.ResolveRegion(g.Region); err != nil {
			p.addf("%s", genesys.UserMessage(err)) // it names genesys.region and the valid regions
		}
	}
	if _, err := genesys.ParseCountry(c.Find.DefaultCountry); err != nil {
		p.addf("%s", genesys.UserMessage(err))
	}
	switch genesys.EndpointFamily(g.Endpoints) {
	case "", genesys.FamilyAuto, genesys.FamilyGeneric, genesys.FamilyCalls:
	default:
		p.addf("genesys.endpoints %q is not one of auto, generic, calls", g.Endpoints)
	}
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
	if c.Authz.GroupTTL <= 0 {
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
		// The country of numbers typed without a country code (find).
		DefaultCountry: c.Find.DefaultCountry,
	}
}
