package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot"
	"github.com/disconnectbot/disconnectbot/bot/slacktest"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// New refuses what it cannot run with, before anything connects.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	sl := slacktest.New(slacktest.Options{})
	defer sl.Close()
	gc, err := genesys.New(context.Background(), genesys.Config{APIURL: "http://127.0.0.1:1", ClientID: "i", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	good := bot.Config{BotToken: sl.BotToken(), AppToken: sl.AppToken(), APIURL: sl.APIURL(), Genesys: gc,
		Authz: authz.Config{AllowedUsers: []string{supervisor}}}
	tests := []struct {
		name  string
		edit  func(*bot.Config)
		check func(error) bool
	}{
		{"no Genesys client", func(c *bot.Config) { c.Genesys = nil }, func(err error) bool { return strings.Contains(err.Error(), "Genesys") }},
		{"bot token refused", func(c *bot.Config) { c.BotToken = "xoxb-wrong" }, func(err error) bool { return strings.Contains(err.Error(), "auth.test") }},
		{"bad allow-list", func(c *bot.Config) { c.Authz.AllowedUsers = []string{"#ops"} }, func(err error) bool {
			_, ok := errors.AsType[*authz.ConfigError](err)
			return ok
		}},
	}
	for _, tt := range tests {
		cfg := good
		tt.edit(&cfg)
		_, err := bot.New(context.Background(), cfg)
		if err == nil || !tt.check(err) {
			t.Errorf("%s: New = %v", tt.name, err)
		}
	}
	app, err := bot.New(context.Background(), good)
	if err != nil || app.Connected() || app.Policy().Empty() {
		t.Errorf("New(good) = %v, %v", app, err)
	}
}
