package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/genesys/genesystest"
)

// findOrg is an emulator with two of Jane's calls (the newer one through a
// UK number) and one that ended but that analytics still lists.
func findOrg(t *testing.T) (gen *genesystest.Server, older, newer, ended genesystest.Conversation) {
	t.Helper()
	gen = newEmulator(t, genesystest.WithAnalyticsLag(time.Hour))
	now := time.Now().UTC()
	older = gen.ThreePartyConference()
	older.StartTime = now.Add(-10 * time.Minute)
	older = gen.AddConversation(older)
	newer = gen.ThreePartyConference()
	newer.StartTime = now.Add(-2 * time.Minute)
	newer.Participants[0].ANI = "tel:+442079460958"
	newer = gen.AddConversation(newer)
	ended = gen.ThreePartyConference()
	gen.EndConversation(ended.ID)
	return gen, older, newer, ended
}

func TestCLIFind(t *testing.T) {
	t.Parallel()
	gen, older, newer, ended := findOrg(t)
	e := cliEnv(gen)
	janeID := older.Participants[2].UserID
	queueID := older.Participants[1].QueueID

	both := []string{"CONVERSATION ID", "START", "QUEUE", "PARTICIPANTS", newer.ID, older.ID, "Support",
		genesystest.CustomerName + " (customer)", genesystest.JaneDoeName + " (agent)", genesystest.ExternalName + " (external)"}
	for _, args := range [][]string{
		{"--agent", genesystest.JaneDoeEmail},
		{"--agent", strings.ToUpper(janeID)},
		{"--queue", "Support"},
		{"--queue", "supp"},
		{"--queue", queueID},
	} {
		res := runCLI(t, cliRun{env: e}, append([]string{"find"}, args...)...)
		res.check(t, exitOK, both, nil)
		if strings.Contains(res.stdout, ended.ID) {
			t.Errorf("%v: the ended call is listed:\n%s", args, res.stdout)
		}
		if i, j := strings.Index(res.stdout, newer.ID), strings.Index(res.stdout, older.ID); i > j {
			t.Errorf("%v: not newest first:\n%s", args, res.stdout)
		}
		if lines := strings.Count(strings.TrimSpace(res.stdout), "\n"); lines != 2 {
			t.Errorf("%v: want a header and 2 rows:\n%s", args, res.stdout)
		}
	}
	// Phone numbers in any notation; the default country is configurable.
	for _, tc := range []struct {
		phone, country string
		want           string
	}{
		{"(317) 555-0123", "", older.ID},
		{"+1 317 555 0123", "", older.ID},
		{"tel:+13175550123", "US", older.ID},
		{"020 7946 0958", "GB", newer.ID},
		{"+44 20 7946 0958", "", newer.ID},
	} {
		env := cliEnv(gen)
		if tc.country != "" {
			env["DISCONNECTBOT_FIND_DEFAULT_COUNTRY"] = tc.country
		}
		res := runCLI(t, cliRun{env: env}, "find", "--phone", tc.phone)
		res.check(t, exitOK, []string{tc.want}, nil)
	}
	// Limit: the newest only, and a note on stderr.
	res := runCLI(t, cliRun{env: e}, "find", "--agent", genesystest.JaneDoeEmail, "--limit", "1")
	res.check(t, exitOK, []string{newer.ID}, []string{"2 more calls match and are not shown"}) // the ended one and the older one: not re-read
	if strings.Contains(res.stdout, older.ID) {
		t.Errorf("--limit 1 shows two calls:\n%s", res.stdout)
	}
}

func TestCLIFindJSON(t *testing.T) {
	t.Parallel()
	gen, older, newer, _ := findOrg(t)
	res := runCLI(t, cliRun{env: cliEnv(gen)}, "find", "--agent", genesystest.JaneDoeEmail, "--json")
	res.check(t, exitOK, nil, nil)
	var out findOutput
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("--json output: %v\n%s", err, res.stdout)
	}
	if len(out.Conversations) != 2 || out.Conversations[0].ID != newer.ID || out.Conversations[1].ID != older.ID {
		t.Fatalf("conversations %+v", out.Conversations)
	}
	if out.Search != "agent Jane Doe (jane.doe@example.com)" || out.AnalyticsTotal != 3 || out.Ended != 1 || out.NotShown != 0 || out.Truncated || out.Since.IsZero() {
		t.Errorf("summary %+v", out)
	}
	if len(out.Conversations[0].Participants) != 4 {
		t.Errorf("participants %+v", out.Conversations[0].Participants)
	}
	// Nothing found is an empty list, not null.
	res = runCLI(t, cliRun{env: cliEnv(gen)}, "find", "--phone", "+13175550000", "--json")
	res.check(t, exitOK, []string{`"conversations": []`, `"search": "phone number +13175550000"`}, nil)
}

func TestCLIFindNothing(t *testing.T) {
	t.Parallel()
	gen, _, _, ended := findOrg(t)
	e := cliEnv(gen)
	gen.AddQueue(genesystest.Queue{Name: "Sales"})
	res := runCLI(t, cliRun{env: e}, "find", "--queue", "Sales")
	res.check(t, exitOK, []string{"No call in progress found for queue Sales", "have not ended"}, nil)
	res = runCLI(t, cliRun{env: e}, "find", "--phone", "+13175550000")
	res.check(t, exitOK, []string{"No call in progress found for phone number +13175550000"}, nil)
	// Only the ended call's agent: analytics lists it, the re-read drops it.
	ann := gen.AddUser(genesystest.User{Name: "Ann", Email: "ann@example.com"})
	c, _ := gen.Conversation(ended.ID)
	c.Participants[2].UserID = ann.ID
	gen.AddConversation(c)
	res = runCLI(t, cliRun{env: e}, "find", "--agent", "ann@example.com")
	res.check(t, exitOK, []string{"No call in progress found for agent Ann (ann@example.com)", "1 that analytics still listed have ended"}, nil)
}

func TestCLIFindUsage(t *testing.T) {
	t.Parallel()
	gen, _, _, _ := findOrg(t)
	gen.AddQueue(genesystest.Queue{Name: "Support Tier 2"})
	e := cliEnv(gen)
	gen.ResetRequests()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"find"}, "exactly one of --agent, --phone, --queue"},
		{[]string{"find", "--agent", "a@example.com", "--phone", "+13175550123"}, "exactly one of"},
		{[]string{"find", "jane"}, "no arguments"},
		{[]string{"find", "--agent", "jane"}, "neither an e-mail address nor a Genesys user id"},
		{[]string{"find", "--queue", " * "}, "--queue needs"},
		{[]string{"find", "--phone", ""}, "--phone needs"},
		{[]string{"find", "--agent", "a@example.com", "--limit", "0"}, "--limit must be"},
		{[]string{"find", "--agent", "a@example.com", "--limit", "101"}, "--limit must be"},
	} {
		res := runCLI(t, cliRun{env: e}, tc.args...)
		res.check(t, exitUsage, nil, []string{tc.want})
	}
	if n := len(gen.Requests()); n != 0 {
		t.Errorf("%d requests for bad usage", n)
	}
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"find", "--phone", "12345"}, exitUsage, []string{"too short"}},
		{[]string{"find", "--phone", "call me"}, exitUsage, []string{"only digits"}},
		{[]string{"find", "--agent", "jane@"}, exitUsage, []string{"is not an e-mail address"}},
		{[]string{"find", "--queue", "Supp"}, exitUsage, []string{"2 queues match \"Supp\"", "Support Tier 2", "QUEUE"}},
		{[]string{"find", "--queue", "Nope"}, exitFailure, []string{"no Genesys queue is named \"Nope\""}},
		{[]string{"find", "--agent", "nobody@example.com"}, exitFailure, []string{"no Genesys user is nobody@example.com"}},
		{[]string{"find", "--agent", "6b1d2f30-1111-4c1b-9d6e-2f1a7b9c0d22"}, exitFailure, []string{"no Genesys user is"}},
	} {
		res := runCLI(t, cliRun{env: e}, tc.args...)
		res.check(t, tc.code, nil, tc.want)
	}
	bad := cliEnv(gen)
	bad["DISCONNECTBOT_FIND_DEFAULT_COUNTRY"] = "Narnia"
	runCLI(t, cliRun{env: bad}, "find", "--phone", "3175550123").check(t, exitUsage, nil, []string{"find.default_country"})
}

func TestCLIFindPermissions(t *testing.T) {
	t.Parallel()
	gen, older, _, _ := findOrg(t)
	e := cliEnv(gen)
	gen.DenyPermission(genesystest.PermAnalyticsConversationView)
	runCLI(t, cliRun{env: e}, "find", "--phone", genesystest.CustomerPhone).check(t, exitFailure, nil, []string{"analytics:conversationDetail:view", "correlation id"})
	runCLI(t, cliRun{env: e}, "participants", older.ID).check(t, exitOK, []string{older.ID}, nil)
	gen.GrantPermission(genesystest.PermAnalyticsConversationView)
	gen.DenyPermission(genesystest.PermQueueView)
	runCLI(t, cliRun{env: e}, "find", "--queue", "Support").check(t, exitFailure, nil, []string{"routing:queue:view"})
	gen.DenyPermission(genesystest.PermUserView)
	runCLI(t, cliRun{env: e}, "find", "--agent", genesystest.JaneDoeEmail).check(t, exitFailure, nil, []string{"directory:user:view"})
}
