package genesys

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestAnswerIDsChecked: an answer about another conversation, or with a
// participant id that is not a UUID, is refused as unreadable, so no such id
// reaches a URL path, a button value or a message people read.
func TestAnswerIDsChecked(t *testing.T) {
	t.Parallel()
	const (
		asked = "0f8fad5b-d9cb-469f-a165-70867728950e"
		other = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
		pid   = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	)
	participant := func(id string) string {
		return `{"id":"` + id + `","purpose":"customer","calls":[{"id":"` + pid + `","state":"connected"}]}`
	}
	tests := []struct {
		name, body, wantErr string
	}{
		{"the same conversation", `{"id":"` + asked + `","participants":[` + participant(pid) + `]}`, ""},
		{"the same, upper case", `{"id":"` + strings.ToUpper(asked) + `","participants":[` + participant(pid) + `]}`, ""},
		{"another conversation", `{"id":"` + other + `","participants":[` + participant(pid) + `]}`, "not " + asked},
		{"markup for an id", `{"id":"<!channel> <https://evil.example|x>","participants":[]}`, "not " + asked},
		{"participant id with markup", `{"id":"` + asked + `","participants":[` + participant("<!here>") + `]}`, "is not a UUID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newEmulator(t)
			c := newClient(t, srv, func(cfg *Config) { cfg.Endpoints = FamilyGeneric })
			srv.ServeRawConversation(asked, []byte(tc.body))
			conv, err := c.GetConversation(context.Background(), asked)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if conv.ID != asked {
					t.Errorf("conversation id %q, want the one asked for", conv.ID)
				}
				return
			}
			if _, ok := errors.AsType[*DecodeError](err); !ok || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want a DecodeError saying %q", err, tc.wantErr)
			}
			if msg := UserMessage(err); strings.ContainsAny(msg, "<>") {
				t.Errorf("UserMessage %q carries markup", msg)
			}
		})
	}
}
