package main

import (
	"strings"
	"testing"
	"time"
)

// TestDemo runs `disconnectbot demo` the way the README shows it, scripted
// through standard input, and checks what a newcomer sees: the picker, the
// confirm dialog, the channel outcome, a refusal for a user who is not on
// the allow-list, and a call found from the agent's e-mail.
func TestDemo(t *testing.T) {
	t.Parallel()
	script := strings.Join([]string{
		"/disconnect $CONV",
		"click 2", // Jane Doe, the agent
		"yes",
		"who",
		"call",
		"/disconnect jane.doe@example.com", // finds the new call from the agent's e-mail
		"as gary",
		"/disconnect $CONV",
		"nonsense",
		"quit",
	}, "\n") + "\n"
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	a := &app{stdin: strings.NewReader(script), stdout: stdout, stderr: stderr, lookupEnv: func(string) (string, bool) { return "", false }, stdinIsTerminal: func() bool { return false },
		demoQuiet: 300 * time.Millisecond}
	if code := a.execute(waitCtx(t), []string{"demo", "--disconnect-delay", "10ms"}); code != exitOK {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	out := stdout.String()
	for _, want := range []string{
		"Who should leave the call?",
		"[2] Disconnect Jane Doe (agent)",
		"┌─ Disconnect Jane Doe?",
		"── #supervisors ──",
		"@sam disconnected *Jane Doe* (agent)",
		"Genesys confirmed it.",
		"Disconnect Pat Smith (customer)",
		"You are now @gary.",
		"not on disconnectbot's allow-list",
		`unknown input "nonsense"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out)
	}
}
