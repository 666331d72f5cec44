package bot

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/disconnectbot/disconnectbot/genesys"
)

const (
	convID = "3f1c2a9e-5b7d-4c2e-9a41-0d6f8b2e7c55"
	partID = "9b2d4e6f-1a3c-4e5f-8a7b-6c5d4e3f2a10"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		text     string
		want     Command
		wantErr  string // substring of the user-facing message
		selector genesys.SelectorKind
	}{
		{name: "empty is help", text: "", want: Command{Help: true}},
		{name: "spaces are help", text: "   ", want: Command{Help: true}},
		{name: "help", text: "help", want: Command{Help: true}},
		{name: "HELP", text: " HELP ", want: Command{Help: true}},
		{name: "--help", text: "--help", want: Command{Help: true}},
		{name: "conversation", text: convID, want: Command{Target: Target{Kind: TargetConversation, Value: convID}}},
		{name: "upper-case uuid is lowered", text: strings.ToUpper(convID), want: Command{Target: Target{Kind: TargetConversation, Value: convID}}},
		{name: "surrounding space", text: "  " + convID + "\t", want: Command{Target: Target{Kind: TargetConversation, Value: convID}}},
		{name: "who purpose", text: convID + " customer", selector: "purpose"},
		{name: "who email", text: convID + " jane@example.com", selector: "user-email"},
		{name: "who mailto wrapper", text: convID + " <mailto:jane@example.com|jane@example.com>", selector: "user-email"},
		{name: "who tel wrapper", text: convID + " <tel:+13175550123|+1 317 555 0123>", selector: "phone"},
		{name: "who phone with spaces", text: convID + " +1 317 555 0123", selector: "phone"},
		{name: "who uuid", text: convID + " " + partID, selector: "id"},
		{name: "who nonsense", text: convID + " bob", wantErr: "is not a way to pick a participant"},
		{name: "extra words", text: convID + " the customer please", wantErr: "I don't understand"},
		{name: "short number", text: "12345", want: Command{Target: Target{Kind: TargetPhone, Value: "12345"}}},
		{name: "too short number", text: "1234", wantErr: "neither a phone number nor a conversation id"},
		{name: "tel label with spaces and who", text: "<tel:+13175550123|(317) 555-0123> agent", selector: "purpose"},
		{name: "word", text: "abc", wantErr: "is not a conversation id"},
		{name: "cut uuid", text: convID[:20], wantErr: "is not a complete conversation id"},
		{name: "path traversal", text: "../../api/v2/users", wantErr: "is not a conversation id"},
		{name: "url", text: "<https://evil.example/x>", wantErr: "That is a link"},
		{name: "channel", text: "<#C123|general>", wantErr: "Slack channel"},
		{name: "broadcast", text: "<!channel>", wantErr: "broadcast"},
		{name: "plain at-name", text: "@jane", wantErr: "plain text, not a Slack mention"},
		{name: "bad mention", text: "<@nope>", wantErr: "not a Slack user mention"},
		{name: "unterminated", text: "<@U123", wantErr: "cut off"},
		{name: "control char", text: convID + "\x00", wantErr: "control character"},
		{name: "zero width", text: convID + "\u200b", wantErr: "control character"},
		{name: "bidi override", text: "\u202e" + convID, wantErr: "control character"},
		{name: "invalid utf8", text: "\xff\xfe", wantErr: "invalid characters"},
		{name: "10 kB", text: strings.Repeat("a", 10000), wantErr: "10000 characters"},
		{name: "mention", text: "<@U012AB3CD|jane>", want: Command{Target: Target{Kind: TargetAgent, SlackUser: "U012AB3CD"}}},
		{name: "email", text: "Jane@Example.com", want: Command{Target: Target{Kind: TargetAgent, Value: "jane@example.com"}}},
		{name: "mailto", text: "<mailto:jane@example.com|jane@example.com>", want: Command{Target: Target{Kind: TargetAgent, Value: "jane@example.com"}}},
		{name: "bad email", text: "jane@", wantErr: "not an e-mail address"},
		{name: "phone", text: "+13175550123", want: Command{Target: Target{Kind: TargetPhone, Value: "+13175550123"}}},
		{name: "tel", text: "<tel:+13175550123|(317) 555-0123>", want: Command{Target: Target{Kind: TargetPhone, Value: "+13175550123"}}},
		{name: "queue", text: "queue:Support", want: Command{Target: Target{Kind: TargetQueue, Value: "Support"}}},
		{name: "empty queue", text: "queue:", wantErr: "Give the queue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseCommand(tt.text)
			if tt.wantErr != "" {
				var ie *inputError
				if !errors.As(err, &ie) {
					t.Fatalf("parseCommand(%q) error = %v, want *inputError containing %q", tt.text, err, tt.wantErr)
				}
				if !strings.Contains(ie.Msg, tt.wantErr) {
					t.Fatalf("parseCommand(%q) error = %q, want it to contain %q", tt.text, ie.Msg, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseCommand(%q) unexpected error: %v", tt.text, err)
			}
			if tt.selector != "" {
				if got.Selector == nil || got.Selector.Kind != tt.selector {
					t.Fatalf("parseCommand(%q) selector = %+v, want kind %q", tt.text, got.Selector, tt.selector)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseCommand(%q) mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestQuoteEscapesSlackMarkup(t *testing.T) {
	t.Parallel()
	got := quote("<!channel> & `x`")
	if strings.ContainsAny(got[1:len(got)-1], "<>`") {
		t.Fatalf("quote left Slack markup in %q", got)
	}
}

// FuzzParseCommand: any text gives a command or an *inputError, never a
// panic, and a conversation target is always a lower-case UUID.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", convID, convID + " customer", "<@U1|x>", "<mailto:a@b.c|a@b.c>",
		"<tel:+1|x>", "queue:x", "../..", "\u202e", strings.Repeat("<", 600), convID + " <tel:+13175550123|x>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := parseCommand(text)
		if err != nil {
			var ie *inputError
			if !errors.As(err, &ie) || ie.Msg == "" {
				t.Fatalf("parseCommand(%q) returned %T %v, want a non-empty *inputError", text, err, err)
			}
			return
		}
		if cmd.Target.Kind == TargetConversation && !isUUID(cmd.Target.Value) {
			t.Fatalf("conversation target %q is not a UUID", cmd.Target.Value)
		}
		if cmd.Target.Kind == TargetConversation && strings.ToLower(cmd.Target.Value) != cmd.Target.Value {
			t.Fatalf("conversation target %q not lower-cased", cmd.Target.Value)
		}
	})
}

func TestParseCommandFindForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want Target
		who  string
	}{
		{"+1 317 555 0123", Target{Kind: TargetPhone, Value: "+1 317 555 0123"}, ""},
		{"(317) 555-0123", Target{Kind: TargetPhone, Value: "(317) 555-0123"}, ""},
		{"+1 317 555 0123 customer", Target{Kind: TargetPhone, Value: "+1 317 555 0123"}, "customer"},
		{`queue:"Customer Care"`, Target{Kind: TargetQueue, Value: "Customer Care"}, ""},
		{`queue:“Customer Care” agent`, Target{Kind: TargetQueue, Value: "Customer Care"}, "agent"},
		{`QUEUE:"Customer  Care" external`, Target{Kind: TargetQueue, Value: "Customer Care"}, "external"},
		{"queue:Support agent", Target{Kind: TargetQueue, Value: "Support"}, "agent"},
	}
	for _, tt := range tests {
		got, err := parseCommand(tt.text)
		if err != nil {
			t.Errorf("parseCommand(%q): %v", tt.text, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got.Target); diff != "" {
			t.Errorf("parseCommand(%q) target (-want +got):\n%s", tt.text, diff)
		}
		if got.Who != tt.who {
			t.Errorf("parseCommand(%q) who = %q, want %q", tt.text, got.Who, tt.who)
		}
	}
}
