package genesys_test

import (
	"context"
	"fmt"

	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// The whole flow against the emulator: read the call, find "the external
// party", disconnect it, wait until it has dropped.
func Example() {
	org := genesystest.New(genesystest.WithDisconnectDelay(0))
	defer org.Close()
	call := org.ThreePartyConference()

	ctx := context.Background()
	c, err := genesys.New(ctx, genesys.Config{APIURL: org.URL, ClientID: org.ClientID, ClientSecret: org.ClientSecret})
	if err != nil {
		panic(err)
	}
	defer c.CloseIdleConnections()

	conv, err := c.GetConversation(ctx, call.ID)
	if err != nil {
		fmt.Println(genesys.UserMessage(err))
		return
	}
	for _, p := range conv.ActiveParticipants() {
		fmt.Println(p.Purpose, p.Name)
	}
	sel, _ := genesys.GuessSelector("external")
	matches, _ := c.Identify(ctx, conv, sel)
	res, err := c.DisconnectParticipant(ctx, conv.ID, matches[0].ID)
	if err != nil {
		fmt.Println(genesys.UserMessage(err))
		return
	}
	conf, _ := c.ConfirmDisconnect(ctx, conv.ID, matches[0].ID)
	fmt.Println(res.Outcome == genesys.DisconnectAccepted, conf.Confirmed, conf.Participant.State)
	// Output:
	// customer Pat Smith
	// agent Jane Doe
	// external Sam Lee
	// true true disconnected
}
