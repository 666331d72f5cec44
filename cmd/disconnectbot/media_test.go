package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/disconnectbot/disconnectbot/genesys"
	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// TestCLIParticipantsEveryMedia: the table names each participant's
// medium; --json carries the communications.
func TestCLIParticipantsEveryMedia(t *testing.T) {
	t.Parallel()
	gen := newEmulator(t)
	e := cliEnv(gen)
	for _, tc := range []struct {
		media, messageType, label string
	}{
		{genesystest.MediaMessage, "whatsapp", "WhatsApp message"},
		{genesystest.MediaMessage, "sms", "SMS message"},
		{genesystest.MediaCallback, "", "callback"},
		{genesystest.MediaEmail, "", "e-mail"},
		{genesystest.MediaChat, "", "chat"},
		{genesystest.MediaVideo, "", "video"},
	} {
		conv := gen.MediaConversation(tc.media, tc.messageType)
		res := runCLI(t, cliRun{env: e}, "participants", conv.ID)
		res.check(t, exitOK, []string{"MEDIA", "Conversation " + conv.ID + " (" + tc.label + ")", tc.label + "  "}, nil)

		res = runCLI(t, cliRun{env: e}, "participants", conv.ID, "--json")
		res.check(t, exitOK, nil, nil)
		var got genesys.Conversation
		if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
			t.Fatalf("--json: %v\n%s", err, res.stdout)
		}
		for i, p := range got.Participants {
			want := conv.Participants[i].Communications[0]
			if len(p.Communications) != 1 || string(p.Communications[0].Media) != tc.media || p.Communications[0].ID != want.ID ||
				string(p.Communications[0].State) != want.State || p.Communications[0].MessageType != want.MessageType {
				t.Errorf("%s: --json participant %d communications %+v, want %+v", tc.label, i, p.Communications, want)
			}
		}
	}
	// Voice keeps its table, with the medium in it.
	conf := gen.ThreePartyConference()
	res := runCLI(t, cliRun{env: e}, "participants", conf.ID)
	res.check(t, exitOK, []string{"Conversation " + conf.ID + " (voice call)", "voice call"}, nil)
}

// TestCLIFindMedia: find covers every medium and --media narrows it.
func TestCLIFindMedia(t *testing.T) {
	t.Parallel()
	gen := newEmulator(t)
	e := cliEnv(gen)
	voice := gen.ThreePartyConference()
	wa := gen.WhatsAppConversation()
	cb := gen.MediaConversation(genesystest.MediaCallback, "")

	res := runCLI(t, cliRun{env: e}, "find", "--agent", genesystest.JaneDoeEmail)
	res.check(t, exitOK, []string{"MEDIA", voice.ID, wa.ID, cb.ID, "voice call", "WhatsApp message", "callback"}, nil)

	res = runCLI(t, cliRun{env: e}, "find", "--agent", genesystest.JaneDoeEmail, "--media", "message")
	res.check(t, exitOK, []string{wa.ID, "WhatsApp message"}, nil)
	if strings.Contains(res.stdout, voice.ID) || strings.Contains(res.stdout, cb.ID) {
		t.Errorf("--media message lists other media:\n%s", res.stdout)
	}
	res = runCLI(t, cliRun{env: e}, "find", "--agent", genesystest.JaneDoeEmail, "--media", "chat")
	res.check(t, exitOK, []string{"No call in progress found for agent Jane Doe", "chats only", "searched analytics for chats"}, nil)

	// A WhatsApp number finds the WhatsApp conversation.
	res = runCLI(t, cliRun{env: e}, "find", "--phone", genesystest.WhatsAppCustomerPhone)
	res.check(t, exitOK, []string{wa.ID}, nil)

	for _, bad := range []string{"fax", "video"} {
		res = runCLI(t, cliRun{env: e}, "find", "--agent", genesystest.JaneDoeEmail, "--media", bad)
		res.check(t, exitUsage, nil, []string{"--media", "voice, callback, chat, email, message"})
	}
}

// TestCLIDisconnectMessage: the CLI disconnects a WhatsApp customer, by
// phone number, and Genesys confirms it.
func TestCLIDisconnectMessage(t *testing.T) {
	t.Parallel()
	gen := newEmulator(t)
	e := cliEnv(gen)
	wa := gen.WhatsAppConversation()
	res := runCLI(t, cliRun{env: e}, "disconnect", wa.ID, "--phone", genesystest.WhatsAppCustomerPhone, "--yes")
	res.check(t, exitOK, []string{"Disconnected " + genesystest.WhatsAppCustomerName + " (customer, WhatsApp message", "Genesys confirmed it"}, nil)
	if got := state(t, gen, wa.ID, wa.Participants[0].ID); got != "disconnected" {
		t.Errorf("customer is %s", got)
	}
}

// TestCLIParticipantsCapturedCallback: the callback answer that made the
// CLI list the live customer as "none" and refuse everyone: now the
// customer and the one live leg of Jane's five are active, named callback.
func TestCLIParticipantsCapturedCallback(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("..", "..", "genesys", "testdata", "conversations", "callback-duplicate-legs.json"))
	if err != nil {
		t.Fatal(err)
	}
	gen := newEmulator(t)
	const id = "a1b2c3d4-0001-4a00-8a00-00000000cb01"
	gen.ServeRawConversation(id, body)
	res := runCLI(t, cliRun{env: cliEnv(gen)}, "participants", id)
	res.check(t, exitOK, []string{"Conversation " + id + " (callback)", "MEDIA"}, nil)
	active := 0
	for _, line := range strings.Split(res.stdout, "\n") {
		if strings.Contains(line, "active") {
			active++
			if !strings.Contains(line, "callback") || !strings.Contains(line, "connected") {
				t.Errorf("active row %q", line)
			}
		}
	}
	if active != 2 || !strings.Contains(res.stdout, "c0000001-aaaa-4aaa-8aaa-000000000013") {
		t.Errorf("%d active rows, want the customer and Jane's live leg:\n%s", active, res.stdout)
	}
}
