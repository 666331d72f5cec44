package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// cliEnv configures the Genesys subcommands for the emulator, the way a
// script would: the SDK's variable names for the client, ours for the URLs.
func cliEnv(gen *genesystest.Server) env {
	return env{
		"GENESYSCLOUD_OAUTHCLIENT_ID":     gen.ClientID,
		"GENESYSCLOUD_OAUTHCLIENT_SECRET": gen.ClientSecret,
		"DISCONNECTBOT_GENESYS_API_URL":   gen.URL,
		"DISCONNECTBOT_GENESYS_LOGIN_URL": gen.URL,
	}
}

type cliResult struct {
	code           int
	stdout, stderr string
}

type cliRun struct {
	env      env
	stdin    io.Reader
	terminal bool
	stdout   io.Writer // default: captured
}

func runCLI(t *testing.T, r cliRun, args ...string) cliResult {
	t.Helper()
	var stdout, stderr syncBuffer
	out := io.Writer(&stdout)
	if r.stdout != nil {
		out = io.MultiWriter(&stdout, r.stdout)
	}
	in := r.stdin
	if in == nil {
		in = strings.NewReader("")
	}
	a := &app{stdin: in, stdout: out, stderr: &stderr, lookupEnv: r.env.lookup, stdinIsTerminal: func() bool { return r.terminal }}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	code := a.execute(ctx, args)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (r cliResult) check(t *testing.T, code int, wantOut, wantErr []string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range wantOut {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout does not contain %q:\n%s", w, r.stdout)
		}
	}
	for _, w := range wantErr {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, r.stderr)
		}
	}
}

func patchesFor(gen *genesystest.Server, conv string) int {
	n := 0
	for _, req := range gen.Requests() {
		if (req.Op == genesystest.OpPatchParticipant || req.Op == genesystest.OpPatchCallParticipant) && strings.Contains(req.Path, conv) {
			n++
		}
	}
	return n
}

func state(t *testing.T, gen *genesystest.Server, conv, pid string) string {
	t.Helper()
	c, ok := gen.Conversation(conv)
	if !ok {
		t.Fatalf("no conversation %s", conv)
	}
	p, ok := c.Participant(pid)
	if !ok {
		t.Fatalf("no participant %s", pid)
	}
	return p.State
}

func TestCLIParticipants(t *testing.T) {
	t.Parallel()
	gen := newEmulator(t)
	conv := gen.ThreePartyConference()
	e := cliEnv(gen)

	res := runCLI(t, cliRun{env: e}, "participants", conv.ID)
	want := []string{"Conversation " + conv.ID, "NAME", "PURPOSE", "STATE", "PARTICIPANT ID",
		genesystest.CustomerName, genesystest.JaneDoeName, genesystest.ExternalName, genesystest.QueueName, "tel:" + genesystest.CustomerPhone}
	for _, p := range conv.Participants {
		want = append(want, p.ID)
	}
	res.check(t, exitOK, want, nil)
	if lines := strings.Count(strings.TrimSpace(res.stdout), "\n"); lines != 1+len(conv.Participants) {
		t.Errorf("table has %d lines after the title, want a header and %d rows:\n%s", lines, len(conv.Participants), res.stdout)
	}

	res = runCLI(t, cliRun{env: e}, "participants", conv.ID, "--json")
	res.check(t, exitOK, nil, nil)
	var got genesys.Conversation
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("--json output is not a conversation: %v\n%s", err, res.stdout)
	}
	if got.ID != conv.ID || len(got.Participants) != len(conv.Participants) {
		t.Errorf("--json: conversation %s with %d participants, want %s with %d", got.ID, len(got.Participants), conv.ID, len(conv.Participants))
	}
	for i, p := range got.Participants {
		if p.ID != conv.Participants[i].ID || p.Purpose != conv.Participants[i].Purpose || string(p.State) != conv.Participants[i].State {
			t.Errorf("--json participant %d = %+v, want %+v", i, p, conv.Participants[i])
		}
	}
}

func TestCLIDisconnects(t *testing.T) {
	t.Parallel()
	gen := newEmulator(t, genesystest.WithDisconnectDelay(10*time.Millisecond))
	e := cliEnv(gen)
	tests := []struct {
		name    string
		purpose string // the participant expected to go
		args    func(conv genesystest.Conversation) []string
	}{
		{"by purpose", "customer", func(genesystest.Conversation) []string { return []string{"--purpose", "customer"} }},
		{"by user e-mail", "agent", func(genesystest.Conversation) []string {
			return []string{"--user-email", strings.ToUpper(genesystest.JaneDoeEmail)}
		}},
		{"by phone in another notation", "external", func(genesystest.Conversation) []string { return []string{"--phone", "+1 (317) 555-0199"} }},
		{"by participant id", "agent", func(c genesystest.Conversation) []string {
			return []string{"--participant-id", strings.ToUpper(participantByPurpose(t, c, "agent").ID)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conv := gen.ThreePartyConference()
			target := participantByPurpose(t, conv, tc.purpose)
			args := append([]string{"disconnect", conv.ID}, tc.args(conv)...)
			res := runCLI(t, cliRun{env: e}, append(args, "--yes")...)
			res.check(t, exitOK, []string{"Disconnected " + target.Name, target.ID, "Genesys confirmed it"}, nil)
			if got := state(t, gen, conv.ID, target.ID); got != "disconnected" {
				t.Errorf("%s is %s, want disconnected", target.Name, got)
			}
			if got := patchesFor(gen, conv.ID); got != 1 {
				t.Errorf("%d PATCHes, want 1", got)
			}
			for _, p := range conv.Participants {
				if p.ID != target.ID && p.Purpose != "acd" && state(t, gen, conv.ID, p.ID) != "connected" {
					t.Errorf("%s (%s) was disconnected too", p.Name, p.Purpose)
				}
			}
		})
	}
	t.Run("dry run changes nothing", func(t *testing.T) {
		t.Parallel()
		conv := gen.ThreePartyConference()
		customer := participantByPurpose(t, conv, "customer")
		res := runCLI(t, cliRun{env: e}, "disconnect", conv.ID, "--purpose", "customer", "--dry-run")
		res.check(t, exitOK, []string{"Would disconnect " + genesystest.CustomerName, customer.ID, "Nothing was changed"}, nil)
		if got := patchesFor(gen, conv.ID); got != 0 {
			t.Errorf("--dry-run sent %d PATCHes", got)
		}
		if got := state(t, gen, conv.ID, customer.ID); got != "connected" {
			t.Errorf("customer is %s after --dry-run", got)
		}
	})
	t.Run("confirmed at the prompt", func(t *testing.T) {
		t.Parallel()
		conv := gen.ThreePartyConference()
		customer := participantByPurpose(t, conv, "customer")
		res := runCLI(t, cliRun{env: e, stdin: strings.NewReader("y\n"), terminal: true}, "disconnect", conv.ID, "--purpose", "customer")
		res.check(t, exitOK, []string{"Disconnect " + genesystest.CustomerName, "[y/N]", "Disconnected " + genesystest.CustomerName}, nil)
		if got := state(t, gen, conv.ID, customer.ID); got != "disconnected" {
			t.Errorf("customer is %s", got)
		}
	})
	t.Run("declined at the prompt", func(t *testing.T) {
		t.Parallel()
		conv := gen.ThreePartyConference()
		res := runCLI(t, cliRun{env: e, stdin: strings.NewReader("\n"), terminal: true}, "disconnect", conv.ID, "--purpose", "customer")
		res.check(t, exitFailure, []string{"Not disconnected."}, []string{"cancelled at the prompt"})
		if got := patchesFor(gen, conv.ID); got != 0 {
			t.Errorf("%d PATCHes after saying no", got)
		}
	})
	t.Run("refused without a terminal and without --yes", func(t *testing.T) {
		t.Parallel()
		conv := gen.ThreePartyConference()
		res := runCLI(t, cliRun{env: e, stdin: strings.NewReader("y\n")}, "disconnect", conv.ID, "--purpose", "customer")
		res.check(t, exitUsage, nil, []string{"refusing to disconnect without confirmation", "--yes"})
		if got := patchesFor(gen, conv.ID); got != 0 {
			t.Errorf("%d PATCHes without confirmation", got)
		}
	})
	t.Run("already left while the prompt waited", func(t *testing.T) {
		t.Parallel()
		conv := gen.ThreePartyConference()
		customer := participantByPurpose(t, conv, "customer")
		stdinR, stdinW := io.Pipe()
		prompt := &syncBuffer{}
		done := make(chan cliResult, 1)
		go func() {
			done <- runCLI(t, cliRun{env: e, stdin: stdinR, terminal: true, stdout: prompt}, "disconnect", conv.ID, "--purpose", "customer")
		}()
		eventually(t, "the prompt", func() bool { return strings.Contains(prompt.String(), "[y/N]") })
		// The customer hangs up while the supervisor reads the prompt.
		c, _ := gen.Conversation(conv.ID)
		for i := range c.Participants {
			if c.Participants[i].ID == customer.ID {
				c.Participants[i].State = "disconnected"
			}
		}
		gen.AddConversation(c)
		fmt.Fprintln(stdinW, "yes")
		res := <-done
		res.check(t, exitOK, []string{genesystest.CustomerName + " had already left; nothing to do."}, nil)
	})
}

func TestCLIDisconnectRefuses(t *testing.T) {
	t.Parallel()
	gen := newEmulator(t)
	e := cliEnv(gen)
	twoExternals := gen.AddConversation(genesystest.Conversation{Participants: []genesystest.Participant{
		{Name: "Pat Smith", Purpose: "customer", Address: "tel:+13175550123"},
		{Name: "Ann Expert", Purpose: "external", Address: "tel:+13175550001"},
		{Name: "Bob Expert", Purpose: "external", Address: "tel:+13175550002"},
	}})
	three := gen.ThreePartyConference()
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr []string
	}{
		{
			name: "two externals match", code: exitUsage,
			args:    []string{"disconnect", twoExternals.ID, "--purpose", "external", "--yes"},
			wantErr: []string{"2 active participants match", "--participant-id", "Ann Expert", "Bob Expert", twoExternals.Participants[1].ID, twoExternals.Participants[2].ID},
		},
		{
			name: "nobody matches", code: exitUsage,
			args:    []string{"disconnect", three.ID, "--phone", "+44 20 7946 0000", "--yes"},
			wantErr: []string{"no active participant matches", "On the call:", genesystest.CustomerName, genesystest.JaneDoeName, genesystest.ExternalName},
		},
		{
			name: "no selector", code: exitUsage,
			args:    []string{"disconnect", three.ID, "--yes"},
			wantErr: []string{"say who to disconnect", "disconnectbot participants " + three.ID},
		},
		{
			name: "two selectors", code: exitUsage,
			args:    []string{"disconnect", three.ID, "--purpose", "agent", "--phone", "+13175550123", "--yes"},
			wantErr: []string{"exactly one of"},
		},
		{
			name: "bad purpose", code: exitUsage,
			args:    []string{"disconnect", three.ID, "--purpose", "supervisor", "--yes"},
			wantErr: []string{"--purpose", "customer, agent, external"},
		},
		{
			name: "ended conversation", code: exitFailure,
			args:    []string{"disconnect", gen.AddConversation(genesystest.Conversation{EndTime: time.Now(), Participants: []genesystest.Participant{{Name: "Gone", Purpose: "customer", State: "disconnected"}}}).ID, "--purpose", "customer", "--yes"},
			wantErr: []string{"has ended"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runCLI(t, cliRun{env: e}, tc.args...)
			res.check(t, tc.code, nil, tc.wantErr)
		})
	}
	for _, conv := range []string{twoExternals.ID, three.ID} {
		if got := patchesFor(gen, conv); got != 0 {
			t.Errorf("%d PATCHes on %s", got, conv)
		}
	}
}

// TestCLIMalformedIDSendsNothing: a bad id is refused before any request,
// not even a token request.
func TestCLIMalformedIDSendsNothing(t *testing.T) {
	t.Parallel()
	gen := newEmulator(t)
	e := cliEnv(gen)
	for _, args := range [][]string{
		{"disconnect", "not-a-uuid", "--purpose", "customer", "--yes"},
		{"disconnect", "../../api/v2/users", "--purpose", "customer", "--yes"},
		{"disconnect", gen.ThreePartyConference().ID, "--participant-id", "1234", "--yes"},
		{"participants", "12345678-1234-1234-1234-12345678901"},
		{"participants", "a", "b"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			res := runCLI(t, cliRun{env: e}, args...)
			res.check(t, exitUsage, nil, nil)
			if res.stderr == "" || strings.Contains(res.stderr, "panic") {
				t.Errorf("stderr: %q", res.stderr)
			}
		})
	}
	if reqs := gen.Requests(); len(reqs) != 0 {
		t.Errorf("malformed ids caused %d requests to Genesys: %+v", len(reqs), reqs)
	}
}

func TestCLIGenesysErrors(t *testing.T) {
	t.Parallel()
	t.Run("missing permission", func(t *testing.T) {
		t.Parallel()
		gen := newEmulator(t)
		gen.DenyPermission(genesystest.PermConversationDisconnect)
		conv := gen.ThreePartyConference()
		res := runCLI(t, cliRun{env: cliEnv(gen)}, "disconnect", conv.ID, "--purpose", "customer", "--yes")
		res.check(t, exitFailure, nil, []string{genesystest.PermConversationDisconnect, "role", "correlation id"})
		if got := state(t, gen, conv.ID, participantByPurpose(t, conv, "customer").ID); got != "connected" {
			t.Errorf("customer is %s", got)
		}
	})
	t.Run("missing view permission for participants", func(t *testing.T) {
		t.Parallel()
		gen := newEmulator(t)
		gen.DenyPermission(genesystest.PermConversationView)
		res := runCLI(t, cliRun{env: cliEnv(gen)}, "participants", gen.ThreePartyConference().ID)
		res.check(t, exitFailure, nil, []string{genesystest.PermConversationView})
	})
	t.Run("wrong client secret", func(t *testing.T) {
		t.Parallel()
		gen := newEmulator(t)
		e := cliEnv(gen)
		e["GENESYSCLOUD_OAUTHCLIENT_SECRET"] = "not-the-secret"
		res := runCLI(t, cliRun{env: e}, "participants", gen.ThreePartyConference().ID)
		res.check(t, exitFailure, nil, []string{"genesys.client_id", "genesys.client_secret"})
		if strings.Contains(res.stderr, "not-the-secret") {
			t.Error("the secret is printed")
		}
	})
	t.Run("unknown conversation", func(t *testing.T) {
		t.Parallel()
		gen := newEmulator(t)
		res := runCLI(t, cliRun{env: cliEnv(gen)}, "participants", "6f1c3e9a-0d2b-4c55-9a1e-2b7d8c9e0f11")
		res.check(t, exitFailure, nil, []string{"could not find"})
	})
	t.Run("no genesys configuration", func(t *testing.T) {
		t.Parallel()
		res := runCLI(t, cliRun{env: env{}}, "participants", "6f1c3e9a-0d2b-4c55-9a1e-2b7d8c9e0f11")
		res.check(t, exitUsage, nil, []string{"genesys.client_id is missing", "genesys.region is missing"})
	})
}

func TestCLIVersion(t *testing.T) {
	t.Parallel()
	res := runCLI(t, cliRun{env: env{}}, "version")
	res.check(t, exitOK, []string{"disconnectbot " + version}, nil)

	// The stamped binary, as the Dockerfile builds it.
	bin := binary(t)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if want := fmt.Sprintf("%s (%s, %s)", testVersion, testCommit, testDate); !strings.Contains(string(out), want) {
			t.Errorf("%v printed %q, want it to contain %q", args, out, want)
		}
	}
}

// TestCLIExitCodesFromTheBinary checks the documented exit codes of the
// real process for usage errors and a genesys refusal.
func TestCLIExitCodesFromTheBinary(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	gen := newEmulator(t)
	conv := gen.ThreePartyConference()
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"disconnect", "bad-id", "--purpose", "customer", "--yes"}, exitUsage},
		{[]string{"no-such-command"}, exitFailure},
		{[]string{"disconnect", conv.ID, "--nope"}, exitUsage},
		{[]string{"disconnect", conv.ID, "--purpose", "customer"}, exitUsage}, // stdin is not a terminal
		{[]string{"disconnect", conv.ID, "--purpose", "customer", "--yes"}, exitOK},
	}
	for _, tc := range tests {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = cliEnv(gen).environ()
		out, _ := cmd.CombinedOutput()
		if got := cmd.ProcessState.ExitCode(); got != tc.code {
			t.Errorf("%v: exit code %d, want %d\n%s", tc.args, got, tc.code, out)
		}
	}
}

// newGenesys is genesystest.New, closed when the test ends.
func newEmulator(tb testing.TB, opts ...genesystest.Option) *genesystest.Server {
	tb.Helper()
	s := genesystest.New(opts...)
	tb.Cleanup(s.Close)
	return s
}
