package main

import (
	"os"
	"strings"
	"testing"
)

func TestCheckShippedManifest(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, problems := check(data); len(problems) > 0 {
		t.Fatalf("shipped manifest has problems:\n%s", strings.Join(problems, "\n"))
	}
}

func TestCheckRejects(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := string(data)
	tests := []struct {
		name    string
		old     string // replaced in the shipped manifest
		new     string
		wantSub string // expected in one of the problems
	}{
		{"unknown key", "  socket_mode_enabled: true", "  socket_mode_enabled: true\n  sockett_mode: true", "not found in type"},
		{"socket mode off", "socket_mode_enabled: true", "socket_mode_enabled: false", "socket_mode_enabled"},
		{"missing scope", "      - users:read.email\n", "", "users:read.email is missing"},
		{"long name", "  name: disconnectbot\n", "  name: " + strings.Repeat("x", 36) + "\n", "display_information.name"},
		{"command without slash", "command: /disconnect", "command: disconnect", "must start with /"},
		{"request url", "    is_enabled: true", "    is_enabled: true\n    request_url: https://example.com/x", "request_url"},
		{"two documents", "token_rotation_enabled: false", "token_rotation_enabled: false\n---\na: 1", "more than one YAML document"},
		{"not yaml", "_metadata:", "_metadata: [", "YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(good, tt.old) {
				t.Fatalf("test setup: %q not in shipped manifest", tt.old)
			}
			_, problems := check([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			joined := strings.Join(problems, "\n")
			if !strings.Contains(joined, tt.wantSub) {
				t.Errorf("problems = %q, want one containing %q", joined, tt.wantSub)
			}
		})
	}
	if _, problems := check(nil); len(problems) == 0 {
		t.Error("empty input accepted")
	}
}
