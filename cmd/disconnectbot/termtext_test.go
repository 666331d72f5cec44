package main

import (
	"strings"
	"testing"
	"unicode"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// hostileTermName clears the screen, recolours, sets the window title,
// fakes a new table row and reverses the text after it.
const hostileTermName = "\x1b[2J\x1b[1;31mEve\x1b[0m\x1b]0;pwned\x07 \u009b31mRed\tTab\nFAKE ROW\r\u202eeman\u202c"

func TestTermText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Jane Doe", "Jane Doe"},
		{hostileTermName, "Eve Red Tab FAKE ROW eman"},
		{"\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"bell\a", "bell "},
		{"Zoë 名前", "Zoë 名前"},
	}
	for _, tt := range tests {
		if got := termText(tt.in); got != tt.want {
			t.Errorf("termText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCLITerminalSafeNames: a participant, a queue and an agent named with
// terminal escapes and control characters show as plain text in the
// participants table, the find table and the confirmation prompt, and the
// tables keep one line per row.
func TestCLITerminalSafeNames(t *testing.T) {
	t.Parallel()
	gen := newEmulator(t)
	conv := gen.ThreePartyConference()
	for i := range conv.Participants {
		switch conv.Participants[i].Purpose {
		case "customer":
			conv.Participants[i].Name = hostileTermName
		case "acd", "agent":
			conv.Participants[i].QueueName = hostileTermName
		}
	}
	conv = gen.AddConversation(conv)
	e := cliEnv(gen)
	clean := func(t *testing.T, what, out string) {
		t.Helper()
		for _, r := range out {
			if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
				t.Errorf("%s prints %U:\n%q", what, r, out)
				return
			}
		}
		if !strings.Contains(out, "Eve") || strings.Contains(out, "pwned") {
			t.Errorf("%s: want the name as plain text, without the window title:\n%s", what, out)
		}
	}

	res := runCLI(t, cliRun{env: e}, "participants", conv.ID)
	res.check(t, exitOK, nil, nil)
	clean(t, "participants", res.stdout)
	if lines := strings.Count(strings.TrimSpace(res.stdout), "\n"); lines != 1+len(conv.Participants) {
		t.Errorf("table has %d lines after the title, want a header and %d rows:\n%s", lines, len(conv.Participants), res.stdout)
	}

	res = runCLI(t, cliRun{env: e, stdin: strings.NewReader("n\n"), terminal: true}, "disconnect", conv.ID, "--purpose", "customer")
	res.check(t, exitFailure, []string{"[y/N]"}, nil)
	clean(t, "the prompt", res.stdout)

	res = runCLI(t, cliRun{env: e}, "find", "--phone", genesystest.CustomerPhone)
	res.check(t, exitOK, []string{conv.ID}, nil)
	clean(t, "find", res.stdout)
	if lines := strings.Count(strings.TrimSpace(res.stdout), "\n"); lines != 1 {
		t.Errorf("find table: want a header and 1 row:\n%s", res.stdout)
	}
}
