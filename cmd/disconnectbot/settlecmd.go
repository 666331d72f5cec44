package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// settleFailedDisconnect turns a failed PATCH into what the command says
// and its exit code, by the same rules as the bot's channel outcome: when
// nothing was sent it is a plain failure that says why; when an attempt
// may have taken effect the call is re-read, and a participant who has
// left is a success (exit 0), one still there a failure (exit 1), and a
// re-read that fails, or a request that got no answer at all while the
// participant is still there, is not confirmed (exit 3).
func (a *app) settleFailedDisconnect(ctx context.Context, client *genesys.Client, conv string, p genesys.Participant, desc string, err error) error {
	switch {
	case genesys.NothingSent(err):
		wrapped := genesysError(err)
		return fmt.Errorf("nothing was sent to Genesys: the command could not get an access token. %w", wrapped)
	case !genesys.MaybeApplied(err):
		return genesysError(err)
	}
	why := uncertainWhy(err)
	conf, cerr := client.ConfirmDisconnect(ctx, conv, p.ID)
	switch {
	case cerr != nil:
		return &exitError{code: exitUnconfirmed, err: fmt.Errorf("unknown whether %s was disconnected: %s, and the call could not be read back (%s); check the call before trying again\n  detail: %s",
			desc, why, genesys.UserMessage(cerr), err)}
	case conf.Confirmed:
		fmt.Fprintf(a.stdout, "Disconnected %s. Genesys confirmed it (state %s); its answer to the request was %s.\n", desc, dash(string(conf.Participant.State)), why)
		return nil
	}
	if _, lost := errors.AsType[*genesys.TransportError](err); lost {
		return &exitError{code: exitUnconfirmed, err: fmt.Errorf("not confirmed: %s, and %s was still on the call when the command looked again; the request may still be carried out, so check the call before trying again\n  detail: %s",
			why, dash(p.Name), err)}
	}
	return fmt.Errorf("%s is still on the call: %w", dash(p.Name), genesysError(err))
}

// uncertainWhy names the uncertain answer: "HTTP 504", "no answer in time".
func uncertainWhy(err error) string {
	if apiErr, ok := errors.AsType[*genesys.APIError](err); ok {
		return fmt.Sprintf("HTTP %d", apiErr.Status)
	}
	return "no answer in time"
}
