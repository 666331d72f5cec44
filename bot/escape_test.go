package bot

import (
	"context"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

func TestCleanText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Jane Doe", "Jane Doe"},
		{"  Jane   Doe ", "Jane Doe"},
		{"Jane\nDoe\r\n\tX", "Jane Doe X"},
		{"Bob \u202egnp.exe\u202c", "Bob gnp.exe"},
		{"zero\u200bwidth\ufeff\u2066iso\u2069", "zerowidthiso"},
		{"line\u2028sep", "line sep"},
		{"bell\a\x1b[31mred", "bell [31mred"},
		{"family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"}, // joiners stay
		{"bad \xff utf8", "bad \ufffd utf8"},
		{"\u0645\u0631\u062d\u0628\u0627", "\u0645\u0631\u062d\u0628\u0627"}, // Arabic text itself stays
	}
	for _, tt := range tests {
		if got := cleanText(tt.in); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncateKeepsUTF8AndMarkup(t *testing.T) {
	t.Parallel()
	for _, s := range []string{strings.Repeat("名", 100), strings.Repeat("é", 100), strings.Repeat("👨\u200d👩", 50)} {
		got := truncate(s, 75)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > 75 || !strings.HasSuffix(got, "…") {
			t.Errorf("truncate(%q…, 75) = %q", s[:8], got)
		}
	}
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"ab &lt;c", 6, "ab …"},      // would cut "&lt;"
		{"ab <@U1234> c", 8, "ab …"}, // would cut the mention
		{"ab &lt; cd", 9, "ab &lt; …"},
		{"short", 10, "short"},
	}
	for _, tt := range tests {
		if got := truncateMrkdwn(tt.in, tt.max); got != tt.want {
			t.Errorf("truncateMrkdwn(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestGuardMrkdwn(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"<!channel> hi", "&lt;!channel&gt; hi"},
		{"<https://evil.example/login|Re-login>", "&lt;https://evil.example/login|Re-login&gt;"},
		{"<@U0SUPER001> disconnected x", "<@U0SUPER001> disconnected x"},
		{"ask <#C012AB3CD|cc-ops> or <!subteam^S0123ABCD>", "ask <#C012AB3CD|cc-ops> or <!subteam^S0123ABCD>"},
		{"&lt;b&gt; &amp; & Co", "&lt;b&gt; &amp; &amp; Co"},
		{"a > b", "a &gt; b"},
		{"<@U0SUPER001|<!here>>", "&lt;@U0SUPER001|&lt;!here&gt;&gt;"},
	}
	for _, tt := range tests {
		if got := guardMrkdwn(tt.in); got != tt.want {
			t.Errorf("guardMrkdwn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzEscapeText: escaped text is never markup, the guard leaves it alone,
// and a plain label has no control or invisible characters.
func FuzzEscapeText(f *testing.F) {
	for _, s := range []string{"<!channel>", "&lt;", "<https://x|y>", "a\u202eb", "\xff", "<@U0SUPER001>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := escapeText(s)
		if strings.ContainsAny(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(e), "<>&") {
			t.Fatalf("escapeText(%q) = %q holds markup", s, e)
		}
		if g := guardMrkdwn(e); g != e {
			t.Fatalf("guardMrkdwn changed escaped text %q to %q", e, g)
		}
		if g := guardMrkdwn(s); strings.Contains(g, "<!") || strings.Contains(g, "<http") {
			t.Fatalf("guardMrkdwn(%q) = %q lets markup through", s, g)
		}
		l := plainLabel(s, 75)
		if !utf8.ValidString(l) || utf8.RuneCountInString(l) > 75 {
			t.Fatalf("plainLabel(%q) = %q", s, l)
		}
		for _, r := range l {
			if unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d') {
				t.Fatalf("plainLabel(%q) = %q holds %U", s, l, r)
			}
		}
	})
}

// TestSlackAPIGuardsTextFallback: a message whose builder forgot to escape
// a name still reaches Slack inert, through every Responder method.
func TestSlackAPIGuardsTextFallback(t *testing.T) {
	t.Parallel()
	fake := slacktest.New(slacktest.Options{})
	defer fake.Close()
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL()))
	s := newSlackAPI(api, fake.APIURL(), nil)
	msg := message{Text: "<@U0SUPER001> disconnected <!channel> <https://evil.example|login>"}
	want := "<@U0SUPER001> disconnected &lt;!channel&gt; &lt;https://evil.example|login&gt;"
	ctx := context.Background()
	if _, err := s.Post(ctx, "C0SUPPORT1", msg); err != nil {
		t.Fatal(err)
	}
	if err := s.PostEphemeral(ctx, "C0SUPPORT1", "U0SUPER001", msg); err != nil {
		t.Fatal(err)
	}
	// An unknown response_url: the fake refuses it but records the body.
	_ = s.Respond(ctx, fake.URL()+"/response/unknown", msg, respondOptions{})
	calls := fake.CallsTo(slacktest.MethodResponseURL)
	if len(calls) != 1 || !strings.Contains(string(calls[0].Body), `"text":"`+strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`).Replace(want)+`"`) {
		t.Errorf("response_url body %s, want text %q", calls[0].Body, want)
	}
	for _, m := range fake.Messages() {
		if m.Text != want {
			t.Errorf("%s text %q, want %q", m.Kind, m.Text, want)
		}
	}
	if n := len(fake.Messages()); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}

// BenchmarkEscapeText: what the escaping layer costs per name, for the
// common plain-ASCII name (no copy) and for a hostile one.
func BenchmarkEscapeText(b *testing.B) {
	for _, tc := range []struct{ name, in string }{
		{"ascii", "Jane Doe"},
		{"hostile", "<!channel> <https://evil.example/login|Re-login to Genesys> @here \u202eevil\u200b\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = escapeText(tc.in)
			}
		})
	}
}
