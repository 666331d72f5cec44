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
	out := runDemoScript(t, script)
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

// TestDemoApproval runs `disconnectbot demo --approval` as the README shows
// it: @sam asks to disconnect the customer, the request appears in the
// channel, sam's own Approve is refused, and `as gary` (an approver) approves;
// the request is updated in place with the outcome.
func TestDemoApproval(t *testing.T) {
	t.Parallel()
	script := strings.Join([]string{
		"/disconnect $CONV customer",
		"click 1", // Disconnect Pat Smith (customer)
		"yes",
		"click 1", // Approve, as sam
		"yes",
		"as gary",
		"click 1", // Approve, as gary
		"yes",
		"who",
		"quit",
	}, "\n") + "\n"
	out := runDemoScript(t, script, "--approval")
	for _, want := range []string{
		"Four eyes are on",
		"*Approval needed.* @sam asks to disconnect *Pat Smith* (customer)",
		"Who may approve: @gary.",
		"[1] Approve",
		"nothing has been sent to Genesys",
		"You made this request yourself",
		"You are now @gary.",
		"yes = [Approve and disconnect]",
		"#supervisors · the message above, updated",
		"*Requested by @sam · approved by @gary*",
		"@gary disconnected *Pat Smith* (customer)",
		"result: confirmed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Count(out, "Genesys confirmed it.") != 1 {
		t.Errorf("the outcome shows %d times, want once", strings.Count(out, "Genesys confirmed it."))
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out)
	}
}

// TestDemoWhatsApp: the demo's live WhatsApp conversation, found from its
// agent with media:message, its customer disconnected, the channel told
// which medium it was.
func TestDemoWhatsApp(t *testing.T) {
	t.Parallel()
	script := strings.Join([]string{
		"/disconnect $MSG",
		"/disconnect omar.haddad@example.com media:message",
		"click 1", // Ana Souza, the customer
		"yes",
		"who",
		"message",
		"/disconnect jane.doe@example.com media:message",
		"quit",
	}, "\n") + "\n"
	out := runDemoScript(t, script)
	for _, want := range []string{
		"and a WhatsApp conversation",
		"Who should leave the conversation?",
		"WhatsApp message",
		"[1] Disconnect Ana Souza (customer)",
		"┌─ Disconnect Ana Souza?",
		"@sam disconnected *Ana Souza* (customer, WhatsApp message)",
		"Genesys confirmed it.",
		"message",
		"New WhatsApp conversation",
		"No call in progress found for agent *Jane Doe*",
		"messages only",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out)
	}
}

// TestDemoSweep runs the README's sweep as a script: the stuck
// conversations the demo org holds are listed, swept, and the channel's
// progress message ends in the final summary even though the script ends
// before the sweep does.
func TestDemoSweep(t *testing.T) {
	t.Parallel()
	script := "/disconnect stuck\nclick 1\nyes\n" // no quit: end of input waits for the summary
	out := runDemoScript(t, script)
	for _, want := range []string{
		"/disconnect stuck",
		"*3 stuck conversations* (older than 4h",
		"[1] Disconnect all 3",
		"┌─ Disconnect all 3?",
		"🧹 *Sweeping stuck interactions* (older than 4h), started by @sam",
		"── #supervisors · the message above, updated ──",
		"✅ *Sweep finished.*",
		"*3 of 3* · 3 done · 0 already ended · 0 still open · 0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q\n%s", want, out)
		}
	}
}

// runDemoScript runs the demo on script (as a piped standard input would)
// with a fast fake Genesys, and returns what it printed.
func runDemoScript(t *testing.T, script string, flags ...string) string {
	t.Helper()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	a := &app{stdin: strings.NewReader(script), stdout: stdout, stderr: stderr, lookupEnv: func(string) (string, bool) { return "", false }, stdinIsTerminal: func() bool { return false },
		demoQuiet: 300 * time.Millisecond}
	args := append(append([]string{"demo"}, flags...), "--disconnect-delay", "10ms")
	if code := a.execute(waitCtx(t), args); code != exitOK {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	return stdout.String()
}
