package bot

import "testing"

func TestCheckResponseURL(t *testing.T) {
	t.Parallel()
	real := newSlackAPI(nil, "https://slack.com/api/", nil)
	fake := newSlackAPI(nil, "http://127.0.0.1:8080/api/", nil)
	tests := []struct {
		s    *slackAPI
		url  string
		want bool
	}{
		{real, "https://hooks.slack.com/commands/T1/1/x", true},
		{real, "https://hooks.slack.com/actions/T1/1/x", true},
		{real, "http://hooks.slack.com/actions/T1/1/x", false}, // Slack's own: https only
		{real, "https://evil.example/actions/T1/1/x", false},
		{real, "https://hooks.slack.com.evil.example/x", false},
		{real, "https://127.0.0.1/x", false},
		{real, "ftp://hooks.slack.com/x", false},
		{real, "not a url", false},
		{fake, "http://127.0.0.1:8080/response/1", true},
		{fake, "http://127.0.0.1:9999/response/1", true}, // same host, another port
		{fake, "http://localhost:9999/response/1", true}, // loopback is one host
		{fake, "http://[::1]:9999/response/1", true},
		{fake, "http://10.0.0.8:8080/response/1", false},
		{fake, "file:///etc/passwd", false},
	}
	for _, tt := range tests {
		err := tt.s.checkResponseURL(tt.url)
		if (err == nil) != tt.want {
			t.Errorf("checkResponseURL(%q) with hosts %v = %v, want allowed=%v", tt.url, tt.s.ResponseHosts, err, tt.want)
		}
	}
}
