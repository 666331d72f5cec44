package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/disconnectbot/disconnectbot/genesys"
)

// sweepSummaryShown is how many conversations the summary lists one by one.
const sweepSummaryShown = 10

func sweepFilterText(sr sweepRequest) string {
	parts := []string{"older than " + sr.Older}
	if sr.QueueID != "" {
		parts = append(parts, "queue "+sr.QueueID)
	}
	if sr.Media != "" {
		parts = append(parts, sr.Media)
	}
	return strings.Join(parts, ", ")
}

func countsLine(cs []genesys.Count) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s %d", escapeText(c.Key), c.N))
	}
	return strings.Join(parts, " · ")
}

// sweepSummaryMessage is the private summary before a sweep: how many, by
// queue and medium, the oldest, the first ten, and the buttons.
func sweepSummaryMessage(list genesys.StuckList, sr sweepRequest, queueName string, now time.Time) message {
	filters := sweepFilterText(sr)
	if queueName != "" {
		filters = strings.Replace(filters, "queue "+sr.QueueID, "queue "+queueName, 1)
	}
	n := len(list.Candidates)
	if n == 0 {
		return infoMessage(fmt.Sprintf(":white_check_mark: No stuck conversations (%s, since %s).", escapeText(filters), list.Since.UTC().Format("2006-01-02")))
	}
	o := list.Overview()
	head := fmt.Sprintf("*%d stuck conversations* (%s, since %s)", n, escapeText(filters), list.Since.UTC().Format("2006-01-02"))
	if list.More {
		head += fmt.Sprintf("\n:warning: More exist: a sweep takes the first %d; run it again afterwards.", n)
	}
	head += "\nBy queue: " + countsLine(o.ByQueue) + "\nBy media: " + countsLine(o.ByMedia) +
		fmt.Sprintf("\nOldest: %s, started %s ago", code(o.Oldest.ID), genesys.FormatAge(now.Sub(o.Oldest.StartTime)))
	var rows []string
	for i, c := range list.Candidates {
		if i == sweepSummaryShown {
			rows = append(rows, fmt.Sprintf("… and %d more", n-sweepSummaryShown))
			break
		}
		people := c.People()
		if len(people) == 0 {
			people = []string{"nobody"}
		}
		queue := c.QueueLabel()
		if queue == "" {
			queue = "no queue"
		}
		rows = append(rows, fmt.Sprintf("%s · %s · %s · %s · %s", code(c.ID), genesys.FormatAge(now.Sub(c.StartTime)),
			escapeText(queue), escapeText(c.MediaType), escapeText(strings.Join(people, ", "))))
	}
	sr.Count = n
	run := slack.NewButtonBlockElement(actionSweepRun, encodeSweepRequest(sr), plain(fmt.Sprintf("Disconnect all %d", n))).
		WithStyle(slack.StyleDanger).
		WithConfirm(slack.NewConfirmationBlockObject(
			plain(truncate(fmt.Sprintf("Disconnect all %d?", n), maxConfirmTitle)),
			mrkdwn(truncate(fmt.Sprintf("Every live leg of the %d stuck conversations (people, queues and flows) will be disconnected. Each is read again first; those that ended or are newer than %s are left alone.", n, sr.Older), maxConfirmText)),
			plain(fmt.Sprintf("Disconnect %d", n)), plain("Keep them")).WithStyle(slack.StyleDanger))
	blocks := []slack.Block{
		section("sweep_summary", head),
		section("sweep_list", strings.Join(rows, "\n")),
		slack.NewActionBlock("sweep_actions", run, slack.NewButtonBlockElement(actionSweepCancel, "cancel", plain("Cancel"))),
	}
	text := fmt.Sprintf("%d stuck conversations (%s). Disconnect all %d?", n, escapeText(filters), n)
	return message{Text: text, Blocks: blocks}
}

// sweepCountsText is the counts of a sweep, in a fixed order.
func sweepCountsText(p *sweepProgress) string {
	c := p.sum.Counts
	parts := []string{
		fmt.Sprintf("*%d of %d*", p.sum.Processed, p.found),
		fmt.Sprintf("%d done", c[genesys.SweepCleared]+c[genesys.SweepTornDown]),
		fmt.Sprintf("%d already ended", c[genesys.SweepAlreadyEnded]),
		fmt.Sprintf("%d still open", c[genesys.SweepStillOpen]),
		fmt.Sprintf("%d failed", c[genesys.SweepFailed]),
	}
	if n := c[genesys.SweepTornDown]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d of them torn down", n))
	}
	if n := c[genesys.SweepSkipped]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped (newer, or scheduled callbacks)", n))
	}
	return strings.Join(parts, " · ")
}

// sweepProgressMessage is the channel's message for a sweep: progress with
// a Stop button while it runs, the final summary after.
func sweepProgressMessage(p *sweepProgress, final bool) message {
	kind := "Sweeping stuck interactions"
	if p.teardown {
		kind = "Tearing down stuck interactions"
	}
	head := fmt.Sprintf(":broom: *%s* (%s), started by <@%s> at %s", kind, escapeText(p.filters), p.user, clock(p.started))
	if p.approvedBy != "" {
		head += fmt.Sprintf(", approved by <@%s>", p.approvedBy)
	}
	if !final {
		return sweepRunningMessage(p, kind, head)
	}
	status := sweepStatus(p)
	head = strings.Replace(head, ":broom: ", "", 1)
	lines := []string{status, head}
	if p.found > 0 {
		lines = append(lines, sweepCountsText(p), "Took "+formatDuration(time.Since(p.started).Round(time.Second))+".")
	}
	if p.more {
		lines = append(lines, fmt.Sprintf("More stuck conversations exist than one sweep takes (%d); run it again.", p.found))
	}
	blocks := []slack.Block{section("sweep_final", strings.Join(lines, "\n"))}
	if b := sweepFailuresBlock(p); b != nil {
		blocks = append(blocks, b)
	}
	if b := sweepTeardownBlock(p); b != nil {
		blocks = append(blocks, b)
	}
	text := fmt.Sprintf("%s %s", strings.ReplaceAll(status, "*", ""), strings.ReplaceAll(sweepCountsText(p), "*", ""))
	return message{Text: truncate(text, maxSectionText), Blocks: blocks}
}

// sweepRunningMessage is the channel message while the sweep runs, with
// its Stop button.
func sweepRunningMessage(p *sweepProgress, kind, head string) message {
	blocks := []slack.Block{section("sweep_progress_head", head)}
	if p.found == 0 && p.sum.Processed == 0 {
		blocks = append(blocks, section("sweep_progress", "Finding the stuck conversations…"))
	} else {
		blocks = append(blocks, section("sweep_progress", sweepCountsText(p)))
	}
	stop := slack.NewButtonBlockElement(actionSweepStop, p.id, plain("Stop")).WithStyle(slack.StyleDanger).
		WithConfirm(slack.NewConfirmationBlockObject(plain("Stop the sweep?"),
			mrkdwn("The conversations in progress finish; no new ones start. Run it again later to finish."), plain("Stop"), plain("Keep going")))
	blocks = append(blocks, slack.NewActionBlock("sweep_progress_actions", stop))
	text := fmt.Sprintf("%s (%s): %d of %d", kind, escapeText(p.filters), p.sum.Processed, p.found)
	return message{Text: text, Blocks: blocks}
}

// sweepStatus is the first line of the final summary: how the sweep ended.
func sweepStatus(p *sweepProgress) string {
	c := p.sum.Counts
	switch {
	case p.failedToFind != "":
		// The reason may quote what the supervisor typed (a queue name).
		return ":warning: *The sweep could not find the stuck conversations.* " + escapeText(p.failedToFind) + " Nothing was disconnected."
	case p.found == 0:
		return ":white_check_mark: *Nothing to sweep:* no stuck conversations when the sweep looked again."
	case p.sum.Stopped:
		status := fmt.Sprintf(":octagonal_sign: *Stopped after %d of %d; run it again to finish.*", p.sum.Processed, p.found)
		if p.stoppedBy != "" {
			status += fmt.Sprintf(" Stopped by <@%s>.", p.stoppedBy)
		}
		return status
	case c[genesys.SweepFailed] > 0:
		return ":warning: *Sweep finished, with failures.*"
	case c[genesys.SweepStillOpen] > 0:
		return ":warning: *Sweep finished; some conversations are still open.*"
	}
	return ":white_check_mark: *Sweep finished.*"
}

// sweepFailuresBlock groups the failures by reason, with one conversation
// and correlation id each; nil when nothing failed.
func sweepFailuresBlock(p *sweepProgress) slack.Block {
	groups := genesys.GroupFailures(p.results)
	if len(groups) == 0 {
		return nil
	}
	var fl []string
	for i, g := range groups {
		if i == 10 {
			fl = append(fl, fmt.Sprintf("… and %d more reasons", len(groups)-10))
			break
		}
		corr := g.CorrelationIDs[0]
		if corr == "" {
			corr = "none (no answer)"
		}
		fl = append(fl, fmt.Sprintf("• %s: %d (e.g. %s, Genesys correlation id %s)", escapeText(g.Reason), len(g.Conversations), code(g.Conversations[0]), code(corr)))
	}
	return section("sweep_failures", "*Failures by reason*\n"+strings.Join(fl, "\n"))
}

// sweepTeardownBlock offers the full teardown of what is still open; nil
// when nothing is, or when this already was a teardown.
func sweepTeardownBlock(p *sweepProgress) slack.Block {
	open := p.sum.Counts[genesys.SweepStillOpen]
	if open == 0 || p.teardown || p.failedToFind != "" {
		return nil
	}
	sr := p.request
	sr.Count, sr.Teardown = open, true
	td := slack.NewButtonBlockElement(actionSweepTeardown, encodeSweepRequest(sr), plain(fmt.Sprintf("Tear down the %d still open", open))).
		WithStyle(slack.StyleDanger).
		WithConfirm(slack.NewConfirmationBlockObject(
			plain(truncate(fmt.Sprintf("Tear down the %d still open?", open), maxConfirmTitle)),
			mrkdwn(truncate("A full teardown (POST …/disconnect) ends every medium and applies a system wrap-up code to anyone pending wrap-up. Genesys documents it as a last resort, not the normal way to end interactions.", maxConfirmText)),
			plain("Tear down"), plain("Leave them")).WithStyle(slack.StyleDanger))
	return slack.NewActionBlock("sweep_final_actions", td)
}
