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

// TestConfigFileExposure: a config file that holds a secret warns when its
// group or others may read it, and only then.
func TestConfigFileExposure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secrets := "slack:\n  bot_token: xoxb-1-secret\ngenesys:\n  client_secret: s3cret\n"
	noSecrets := "genesys:\n  region: us-east-1\nauthz:\n  allowed_users: [U0SUPER001]\n"
	tests := []struct {
		name, body string
		mode       os.FileMode
		readers    string
	}{
		{"world.yaml", secrets, 0o644, "group and others"},
		{"group.yaml", secrets, 0o640, "group"},
		{"others.yaml", secrets, 0o604, "others"},
		{"private.yaml", secrets, 0o600, ""},
		{"owner-only-exec.yaml", secrets, 0o700, ""},
		{"configmap.yaml", noSecrets, 0o644, ""},
	}
	for _, tt := range tests {
		p := configFileExposure(write(tt.name, tt.body, tt.mode))
		switch {
		case tt.readers == "" && p != nil:
			t.Errorf("%s (%04o): unexpected warning %s", tt.name, tt.mode, p)
		case tt.readers != "" && p == nil:
			t.Errorf("%s (%04o): no warning", tt.name, tt.mode)
		case p != nil:
			if p.Readers != tt.readers || !strings.Contains(p.String(), "chmod 600") || strings.Contains(p.String(), "s3cret") {
				t.Errorf("%s: %+v: %s", tt.name, p, p)
			}
			if strings.Join(p.Keys, ",") != "slack.bot_token,genesys.client_secret" {
				t.Errorf("%s: keys %v", tt.name, p.Keys)
			}
		}
	}
	if configFileExposure("") != nil || configFileExposure(filepath.Join(dir, "missing.yaml")) != nil {
		t.Error("warning for no file")
	}
}

// TestRunWarnsAboutReadableSecrets: `disconnectbot run --config f` with a
// world-readable f holding the tokens logs the warning at start-up (and
// keeps running).
func TestRunWarnsAboutReadableSecrets(t *testing.T) {
	t.Parallel()
	f := newFakes(t, slacktest.Options{})
	e := f.env()
	path := filepath.Join(t.TempDir(), "config.yaml")
	body := "slack:\n  app_token: " + e["SLACK_APP_TOKEN"] + "\n  bot_token: " + e["SLACK_BOT_TOKEN"] + "\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	delete(e, "SLACK_APP_TOKEN")
	delete(e, "SLACK_BOT_TOKEN")
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
	eventually(t, "the start-up warning", func() bool {
		return len(stderr.Lines("config file with secrets is readable by other users")) == 1
	})
	l := stderr.Lines("config file with secrets is readable by other users")[0]
	if l["level"] != "WARN" || l["mode"] != "0644" || l["readable_by"] != "group and others" {
		t.Errorf("warning line %v", l)
	}
	if strings.Contains(stderr.String(), "fake-0000000000-bot-token") {
		t.Error("the warning leaks the token")
	}
}
