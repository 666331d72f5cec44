package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

// TestEmptyEnvClearsList: a list set in the file is cleared by its
// environment variable set to "", so DISCONNECTBOT_AUTHZ_ALLOWED_USERS=
// revokes everyone; an unset variable leaves the file alone; an empty
// variable for a string key is ignored as before.
func TestEmptyEnvClearsList(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	body := "authz:\n  allowed_users: [U0SUPER001, U0SUPER002]\n  allowed_channels: [C0SUPPORT1]\nhttp:\n  addr: \":9090\"\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(path, env{}.lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Authz.AllowedUsers) != 2 || len(cfg.Authz.AllowedChannels) != 1 {
		t.Fatalf("file not read: %+v", cfg.Authz)
	}
	cfg, err = loadConfig(path, env{"DISCONNECTBOT_AUTHZ_ALLOWED_USERS": "", "DISCONNECTBOT_AUTHZ_ALLOWED_CHANNELS": " ", "DISCONNECTBOT_HTTP_ADDR": ""}.lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Authz.AllowedUsers) != 0 || len(cfg.Authz.AllowedChannels) != 0 {
		t.Errorf("empty variables did not clear the lists: users %v, channels %v", cfg.Authz.AllowedUsers, cfg.Authz.AllowedChannels)
	}
	if cfg.HTTP.Addr != ":9090" {
		t.Errorf("an empty string variable changed http.addr to %q", cfg.HTTP.Addr)
	}
}

// TestEmptyAllowedUsersRevokesEveryone: the bot run with a config file
// that allows the supervisor, and DISCONNECTBOT_AUTHZ_ALLOWED_USERS= in the
// environment, lets nobody act: the supervisor's command, through the real
// socket client, is refused because the allow-list is empty.
func TestEmptyAllowedUsersRevokesEveryone(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{})
	e := f.env()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("authz:\n  allowed_users: ["+supervisor+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e["DISCONNECTBOT_AUTHZ_ALLOWED_USERS"] = ""
	var stdout, stderr syncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: e.lookup, stdinIsTerminal: func() bool { return false }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- a.execute(ctx, []string{"run", "--config", path}) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Error("run did not stop")
		}
	}()
	if err := f.slack.WaitConnections(waitCtx(t), 1); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	conv := f.genesys.ThreePartyConference()
	msg := f.slash(t, supervisor, conv.ID, 0)
	if out := f.slack.Render(msg); !strings.Contains(out, "Ask a disconnectbot admin") || len(f.slack.Buttons(msg)) != 0 {
		t.Errorf("the supervisor was not refused:\n%s", out)
	}
	eventually(t, "the denial's audit line", func() bool {
		for _, l := range stderr.Lines("audit") {
			if l["outcome"] == "denied" && l["reason"] == "allow_list_empty" {
				return true
			}
		}
		return false
	})
}
