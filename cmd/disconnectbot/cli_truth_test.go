package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// TestCLITruthfulExitCodes: `disconnectbot disconnect` says, and exits
// with, what happened. A PATCH that took effect although Genesys answered
// it with 5xx is a success (a re-read shows the participant gone); nothing
// sent (a 401, then no token) is a plain failure, not "not confirmed".
func TestCLITruthfulExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		inject  func(*genesystest.Server)
		code    int
		stdout  []string
		stderr  []string
		never   string
		gone    bool
		patches int
	}{
		{name: "PATCH took effect, every answer 500", code: exitOK, gone: true, patches: 1,
			inject: func(g *genesystest.Server) {
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusInternalServerError, AfterApply: true})
			},
			stdout: []string{"Disconnected " + genesystest.CustomerName}, never: "try again"},
		{name: "PATCH took effect, 504 then 429 Retry-After 30", code: exitOK, gone: true,
			inject: func(g *genesystest.Server) {
				g.SetDisconnectDelay(time.Second)
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusGatewayTimeout, AfterApply: true, Count: 1})
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second, Count: 1})
			},
			stdout: []string{"Disconnected " + genesystest.CustomerName}, never: "try again in 30"},
		{name: "401, then every token refresh fails", code: exitFailure, gone: false, patches: 1,
			inject: func(g *genesystest.Server) {
				g.InjectFault(genesystest.Fault{Op: genesystest.OpPatchParticipant, Status: http.StatusUnauthorized, Count: 1})
				// The first token (for reading the call) works; every later one fails.
				g.InjectFault(genesystest.Fault{Op: genesystest.OpToken, Status: http.StatusServiceUnavailable, Skip: 1})
			},
			stderr: []string{"token", "nothing was sent"}, never: "not confirmed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gen := newEmulator(t)
			conv := gen.ThreePartyConference()
			customer := participantByPurpose(t, conv, "customer")
			e := cliEnv(gen)
			tt.inject(gen)
			res := runCLI(t, cliRun{env: e}, "disconnect", conv.ID, "--purpose", "customer", "--yes")
			res.check(t, tt.code, tt.stdout, tt.stderr)
			if strings.Contains(strings.ToLower(res.stdout+res.stderr), tt.never) {
				t.Errorf("output says %q:\n%s\n%s", tt.never, res.stdout, res.stderr)
			}
			if got := state(t, gen, conv.ID, customer.ID) != "connected"; got != tt.gone {
				// A leg that drops slowly may still be on its way out.
				if !tt.gone || state(t, gen, conv.ID, customer.ID) == "connected" {
					t.Errorf("customer gone = %v, want %v", got, tt.gone)
				}
			}
			if n := patchesFor(gen, conv.ID); tt.patches != 0 && n != tt.patches {
				t.Errorf("%d PATCHes, want %d", n, tt.patches)
			}
		})
	}
}
