package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

func sweepOrg(t *testing.T, opts ...genesystest.Option) *genesystest.Server {
	t.Helper()
	gen := genesystest.New(append([]genesystest.Option{genesystest.WithDisconnectDelay(0)}, opts...)...)
	t.Cleanup(gen.Close)
	return gen
}

// sweepEnv is cliEnv with a fast budget and confirmation, unless extra
// says otherwise.
func sweepEnv(gen *genesystest.Server, extra ...string) env {
	e := cliEnv(gen)
	e["DISCONNECTBOT_GENESYS_REQUESTS_PER_MINUTE"] = "600000"
	for i := 0; i+1 < len(extra); i += 2 {
		e[extra[i]] = extra[i+1]
	}
	return e
}

// jsonLines decodes `sweep --json` output: the conversation lines and the summary.
func jsonLines(t *testing.T, out string) (convs []map[string]any, summary map[string]any) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q (%v)", line, err)
		}
		switch m["type"] {
		case "conversation":
			convs = append(convs, m)
		case "summary":
			summary = m
		default:
			t.Fatalf("line of unknown type: %q", line)
		}
	}
	if summary == nil {
		t.Fatalf("no summary line in:\n%s", out)
	}
	return convs, summary
}

func TestCLISweepBadInput(t *testing.T) {
	t.Parallel()
	gen := sweepOrg(t)
	e := sweepEnv(gen)
	for _, tc := range []struct {
		args []string
		env  env
		want string
	}{
		{[]string{"sweep", "--yes"}, e, "--older-than is required"},
		{[]string{"sweep", "--older-than", "4s", "--yes"}, e, "write it like 30m, 4h or 7d"},
		{[]string{"sweep", "--older-than", "4h", "--media", "fax", "--yes"}, e, `--media "fax" is not one of`},
		{[]string{"sweep", "--older-than", "4h", "--limit", "0", "--yes"}, e, "--limit must be"},
		{[]string{"sweep", "--older-than", "4h", "--dry-run", "--teardown"}, e, "do not go together"},
		{[]string{"sweep", "--older-than", "4h"}, e, "pass --yes"},
		{[]string{"sweep", "--older-than", "4h", "--queue", "Nope", "--yes"}, e, "No Genesys queue has that name"},
		{[]string{"sweep", "--older-than", "4h", "--yes"}, sweepEnv(gen, "DISCONNECTBOT_SWEEP_MAX_AGE", "soon"), "sweep.max_age"},
		{[]string{"sweep", "--older-than", "4h", "--yes"}, sweepEnv(gen, "DISCONNECTBOT_GENESYS_REQUESTS_PER_MINUTE", "0"), "genesys.requests_per_minute"},
		{[]string{"sweep", "--older-than", "8d", "--yes"}, e, "reaches back"},
	} {
		res := runCLI(t, cliRun{env: tc.env}, tc.args...)
		res.check(t, exitUsage, nil, []string{tc.want})
	}
	if n := gen.CountOp(genesystest.OpPatchParticipant); n != 0 {
		t.Errorf("bad input sent %d PATCHes", n)
	}
}

func TestCLISweepClears(t *testing.T) {
	t.Parallel()
	gen := sweepOrg(t)
	stuck := gen.AddStuck(4, genesystest.StuckSpec{Age: 5 * time.Hour, Legs: 3})
	gen.AddStuck(1, genesystest.StuckSpec{Age: 5 * time.Hour, MediaType: "email"})
	gen.AddStuck(2, genesystest.StuckSpec{Age: time.Hour}) // too new
	e := sweepEnv(gen)

	// Asked once, stating the count; "n" changes nothing.
	res := runCLI(t, cliRun{env: e, terminal: true, stdin: strings.NewReader("n\n")}, "sweep", "--older-than", "4h")
	res.check(t, exitFailure, []string{"Found 5 stuck conversations", "By queue: Support 5", "By media: voice 4, email 1", "Disconnect all 5? [y/N]", "Nothing was disconnected", stuck[0].ID}, nil)
	if gen.CountOp(genesystest.OpPatchParticipant) != 0 {
		t.Fatal("declined, and still PATCHed")
	}

	res = runCLI(t, cliRun{env: e, terminal: true, stdin: strings.NewReader("y\n")}, "sweep", "--older-than", "4h")
	res.check(t, exitOK, []string{"5 of 5", "5 cleared", "0 failed"}, nil)
	if res.stderr != "" {
		t.Errorf("stderr is not a terminal, yet something was drawn on it: %q", res.stderr)
	}
	if open := gen.Open(); open != 2 {
		t.Errorf("%d open, want the 2 new ones", open)
	}
	// Run again: nothing left, nothing sent twice.
	patches := gen.CountOp(genesystest.OpPatchParticipant)
	res = runCLI(t, cliRun{env: e}, "sweep", "--older-than", "4h", "--yes")
	res.check(t, exitOK, []string{"No stuck conversations"}, nil)
	if gen.CountOp(genesystest.OpPatchParticipant) != patches {
		t.Error("a second run sent PATCHes")
	}
}

func TestCLISweepDryRunAndJSON(t *testing.T) {
	t.Parallel()
	gen := sweepOrg(t)
	gen.AddStuck(3, genesystest.StuckSpec{Age: 5 * time.Hour})
	e := sweepEnv(gen)
	res := runCLI(t, cliRun{env: e}, "sweep", "--older-than", "4h", "--dry-run")
	res.check(t, exitOK, []string{"Dry run: nothing was disconnected", "would disconnect Pat Smith (customer), Support (acd)", "3 would be cleared"}, nil)
	if n := gen.CountOp(genesystest.OpPatchParticipant) + gen.CountOp(genesystest.OpTeardown); n != 0 {
		t.Fatalf("--dry-run sent %d disconnects", n)
	}

	res = runCLI(t, cliRun{env: e}, "sweep", "--older-than", "4h", "--json", "--yes", "--media", "voice")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	convs, sum := jsonLines(t, res.stdout)
	if len(convs) != 3 || sum["processed"] != 3.0 || sum["counts"].(map[string]any)["cleared"] != 3.0 || sum["exitCode"] != 0.0 {
		t.Fatalf("json: %d lines, summary %v", len(convs), sum)
	}
	legs := convs[0]["legs"].([]any)
	if len(legs) != 2 || legs[1].(map[string]any)["purpose"] != "acd" || convs[0]["outcome"] != "cleared" {
		t.Errorf("conversation line %v", convs[0])
	}
}

func TestCLISweepFailuresStillOpenTeardownLimit(t *testing.T) {
	t.Parallel()
	gen := sweepOrg(t)
	gen.AddStuck(3, genesystest.StuckSpec{Age: 5 * time.Hour})
	e := sweepEnv(gen, "DISCONNECTBOT_SWEEP_CONCURRENCY", "1")
	gen.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: 403, Code: "missing.permissions", Count: 1})
	res := runCLI(t, cliRun{env: e}, "sweep", "--older-than", "4h", "--yes")
	res.check(t, exitFailure, []string{"2 cleared", "1 failed", "Failed (HTTP 403 missing.permissions): 1, e.g. conversation", "correlation id"}, []string{"1 conversations could not be cleared"})

	ghosts := gen.AddStuck(2, genesystest.StuckSpec{Age: 6 * time.Hour, IgnoreDisconnects: true})
	e = sweepEnv(gen)
	res = runCLI(t, cliRun{env: e}, "sweep", "--older-than", "4h", "--yes")
	res.check(t, exitUnconfirmed, []string{"still open", "Still open: " + ghosts[0].ID}, []string{"run again with --teardown"})
	if gen.CountOp(genesystest.OpTeardown) != 0 {
		t.Fatal("teardown without --teardown")
	}
	res = runCLI(t, cliRun{env: e}, "sweep", "--older-than", "4h", "--yes", "--teardown")
	res.check(t, exitOK, nil, nil)
	if gen.CountOp(genesystest.OpTeardown) != 2 || gen.Open() != 0 {
		t.Fatalf("%d teardowns, %d open:\n%s", gen.CountOp(genesystest.OpTeardown), gen.Open(), res.stdout)
	}

	gen.AddStuck(5, genesystest.StuckSpec{Age: 5 * time.Hour})
	res = runCLI(t, cliRun{env: sweepEnv(gen)}, "sweep", "--older-than", "4h", "--yes", "--limit", "3")
	res.check(t, exitUnconfirmed, []string{"Found 3 stuck", "More exist", "3 cleared"}, []string{"run it again to continue"})
}

func TestCLISweepSIGTERMStopsCleanly(t *testing.T) {
	t.Parallel()
	gen := sweepOrg(t)
	gen.AddStuck(12, genesystest.StuckSpec{Age: 5 * time.Hour})
	// 3 requests a second: slow enough to stop it in the middle.
	e := sweepEnv(gen, "DISCONNECTBOT_GENESYS_REQUESTS_PER_MINUTE", "180", "DISCONNECTBOT_SWEEP_CONCURRENCY", "1")
	var stdout, stderr syncBuffer
	a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, lookupEnv: e.lookup, stdinIsTerminal: func() bool { return false }}
	ctx, cancel := context.WithCancel(context.Background()) // what signal.NotifyContext gives main on SIGTERM
	defer cancel()
	done := make(chan int)
	go func() { done <- a.execute(ctx, []string{"sweep", "--older-than", "4h", "--yes", "--json"}) }()
	eventually(t, "a first conversation", func() bool { return strings.Contains(stdout.String(), `"type":"conversation"`) })
	cancel()
	code := <-done
	convs, sum := jsonLines(t, stdout.String())
	processed := int(sum["processed"].(float64))
	if code != exitUnconfirmed || sum["stopped"] != true || processed >= 12 || processed != len(convs) {
		t.Fatalf("exit %d, %d lines, summary %v", code, len(convs), sum)
	}
	if !strings.Contains(stderr.String(), "stopped after "+itoa(processed)+" of 12; run it again to finish") {
		t.Errorf("stderr: %s", stderr.String())
	}
	// Truthful: what it says it cleared is cleared, the rest is open.
	if open := gen.Open(); open != 12-processed {
		t.Errorf("%d open after %d of 12 were processed", open, processed)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestCLITwoSweepsAtOnce(t *testing.T) {
	t.Parallel()
	gen := sweepOrg(t)
	gen.AddStuck(10, genesystest.StuckSpec{Age: 5 * time.Hour})
	e := sweepEnv(gen)
	var wg sync.WaitGroup
	results := make([]cliResult, 2)
	for i := range results {
		wg.Go(func() { results[i] = runCLI(t, cliRun{env: e}, "sweep", "--older-than", "4h", "--yes", "--json") })
	}
	wg.Wait()
	accounted := 0
	for _, r := range results {
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		_, sum := jsonLines(t, r.stdout)
		c := sum["counts"].(map[string]any)
		for k, v := range c {
			if k != "cleared" && k != "already_ended" {
				t.Errorf("outcome %s in %v", k, c)
			}
			accounted += int(v.(float64))
		}
	}
	if gen.Open() != 0 {
		t.Fatalf("%d left open", gen.Open())
	}
	accepted := 0
	for _, r := range gen.Requests() {
		if r.Op == genesystest.OpPatchParticipant && r.Status == 202 {
			accepted++
		}
	}
	if accepted != 20 {
		t.Errorf("%d accepted PATCHes for 20 legs: something was disconnected twice", accepted)
	}
	if accounted < 10 {
		t.Errorf("only %d outcomes for 10 conversations", accounted)
	}
}
