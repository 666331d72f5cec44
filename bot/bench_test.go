package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/disconnectbot/disconnectbot/bot/slacktest"
)

// The benchmarks run the real bot between the fake Slack and the Genesys
// emulator on loopback. The emulator answers every request after
// benchLatency (standing for the real round trip to Genesys) and drops a
// leg benchDropDelay after accepting its PATCH.
//
//	go test -run='^$' -bench=. -benchtime=10x ./bot/
//
// (about 45 s in all on 2 cores; no single benchmark takes over 30 s).
//
// One iteration is one round: every supervisor, concurrently, types
// /disconnect <their own call>, clicks the agent's button and waits for the
// confirmed outcome. Latencies come from the fakes' own records, never from
// the driving goroutines, so the driver's scheduling does not count:
//
//   - ack: Delivery.AckLatency, from the fake writing the envelope to it
//     reading the ack (slash and click separately).
//   - click-to-patch: click envelope written → PATCH arrives at Genesys.
//   - click-to-outcome: click envelope written → outcome posted in the channel.
//   - overhead: click-to-outcome minus the time Genesys spent answering the
//     requests on the click's path (re-read, PATCH, confirm polls; each
//     Request.Duration holds the injected latency) and minus the confirm
//     loop's sleeps between polls: what the bot itself adds, its loopback
//     HTTP round trips to Slack and Genesys included. The gap-* metrics
//     split it: click → re-read, re-read → PATCH (the progress reply is
//     there), PATCH → first confirm poll, last poll → outcome.
//     overhead-less-fake also leaves out the fake Slack's own time on the
//     path (checking and recording the progress reply and the channel
//     post, and the latency injected there), which a real Slack spends on
//     its side.
//   - drop-to-outcome: the leg drops in Genesys → outcome posted. The
//     outcome is within one confirm cycle when at most one poll arrives
//     after the drop, and it ends the wait (max-polls-after-drop ≤ 1; 0
//     when the deciding poll arrived just before the drop).
//   - genesys-req/disconnect: Genesys requests from click to outcome;
//     genesys-req/slash+click adds the command's read. Token requests are
//     counted apart, over the bot's whole life.
//
// The machine is small (2 shared cores) and runs the fakes and the driver
// too: with 100 supervisors they compete with the bot for the CPU.
func BenchmarkDisconnect(b *testing.B) {
	for _, c := range []disconnectCase{
		{supervisors: 1},
		{supervisors: 100},                      // all at once: the worst case
		{supervisors: 100, spread: time.Second}, // 100 supervisors within a second
		// Slack's own round trip on chat.postMessage and response_urls
		// (the fake answers at once otherwise): shows which Slack calls
		// stand between the click and the PATCH or the outcome.
		{supervisors: 1, slackLatency: benchLatency},
	} {
		name := fmt.Sprintf("supervisors=%d", c.supervisors)
		if c.spread > 0 {
			name += "-in-" + c.spread.String()
		}
		if c.slackLatency > 0 {
			name += "-slack-" + c.slackLatency.String()
		}
		b.Run(name, func(b *testing.B) { benchmarkDisconnect(b, c) })
	}
}

type disconnectCase struct {
	supervisors  int
	spread       time.Duration // supervisors start at random moments within spread
	slackLatency time.Duration // added to chat.postMessage and response_url posts
}

func benchmarkDisconnect(b *testing.B, c disconnectCase) {
	supervisors, spread := c.supervisors, c.spread
	f := newBenchFakes(b, supervisors)
	if c.slackLatency > 0 {
		for _, m := range []string{slacktest.MethodResponseURL, "chat.postMessage"} {
			f.slack.InjectFault(m, slacktest.Fault{Times: slacktest.Always, Delay: c.slackLatency})
		}
	}
	inproc := startInProcessBot(b, f)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// One unmeasured round: the token fetch and the first connections.
	if _, err := f.round(ctx, spread); err != nil {
		b.Fatal(err)
	}
	lifetime := supervisors // disconnects since the bot started

	var slashAcks, clickAcks, toPatch, toOutcome, overhead, botOverhead, dropToOutcome []time.Duration
	var toReread, rereadToPatch, patchToConfirm, confirmToOutcome []time.Duration
	var requests, clickRequests, confirms, disconnects, maxPollsAfter int
	b.ResetTimer()
	for range b.N {
		samples, err := f.round(ctx, spread)
		if err != nil {
			b.Fatal(err)
		}
		paths, total, err := f.analyse(samples)
		if err != nil {
			b.Fatal(err)
		}
		requests += total
		for i, s := range samples {
			p := paths[i]
			slashAcks = append(slashAcks, s.slashAck)
			clickAcks = append(clickAcks, s.clickAck)
			toPatch = append(toPatch, p.clickToPatch)
			toOutcome = append(toOutcome, p.clickToOutcome)
			overhead = append(overhead, p.overhead)
			botOverhead = append(botOverhead, p.overhead-p.slackFake)
			dropToOutcome = append(dropToOutcome, p.dropToOutcome)
			toReread = append(toReread, p.toReread)
			rereadToPatch = append(rereadToPatch, p.rereadToPatch)
			patchToConfirm = append(patchToConfirm, p.patchToConfirm)
			confirmToOutcome = append(confirmToOutcome, p.confirmToOutcome)
			clickRequests += p.requests
			confirms += p.confirms
			maxPollsAfter = max(maxPollsAfter, p.pollsAfter)
			disconnects++
		}
	}
	b.StopTimer()
	elapsed := b.Elapsed()
	lifetime += disconnects

	reportPercentiles(b, "slash-ack", slashAcks)
	reportPercentiles(b, "click-ack", clickAcks)
	reportPercentiles(b, "click-to-patch", toPatch)
	reportPercentiles(b, "click-to-outcome", toOutcome)
	reportPercentiles(b, "overhead", overhead)
	reportPercentiles(b, "overhead-less-fake", botOverhead)
	reportPercentiles(b, "gap-click-reread", toReread)
	reportPercentiles(b, "gap-reread-patch", rereadToPatch)
	reportPercentiles(b, "gap-patch-confirm", patchToConfirm)
	reportPercentiles(b, "gap-confirm-outcome", confirmToOutcome)
	reportPercentiles(b, "drop-to-outcome", dropToOutcome)
	b.ReportMetric(float64(maxPollsAfter), "max-polls-after-drop")
	b.ReportMetric(float64(confirms)/float64(disconnects), "confirm-polls/disconnect")
	b.ReportMetric(float64(clickRequests)/float64(disconnects), "genesys-req/disconnect")
	b.ReportMetric(float64(requests)/float64(disconnects), "genesys-req/slash+click")
	// Over the bot's whole life, the first fetch included: with 24 h tokens
	// this is 1 in total, so the per-1000 figure means what it says only
	// after at least 1000 disconnects.
	b.ReportMetric(float64(f.tokenRequests()), "token-req")
	b.ReportMetric(float64(f.tokenRequests())*1000/float64(lifetime), "token-req/1000-disconnects")
	// New TCP connections (each a TLS handshake in production) per
	// slash+click, over the bot's whole life.
	b.ReportMetric(float64(inproc.slackDials.n.Load())/float64(lifetime), "slack-dials/disconnect")
	b.ReportMetric(float64(inproc.genesysDials.n.Load())/float64(lifetime), "genesys-dials/disconnect")
	b.ReportMetric(float64(disconnects)/elapsed.Seconds(), "disconnects/s")
}

// BenchmarkBotProcess runs `disconnectbot run` as its own process, so that
// its memory and CPU are the bot's alone, and drives 100 concurrent
// supervisors through it. One iteration is one process: start it, wait for
// its socket (startup: process start → the fake Slack sees the connection),
// run processRounds rounds of 100 supervisors, read its peak RSS (VmHWM),
// SIGTERM it and read the CPU time it used.
func BenchmarkBotProcess(b *testing.B) {
	if testing.Short() {
		b.Skip("builds the bot and runs it as a separate process")
	}
	const supervisors, processRounds = 100, 5
	dir := b.TempDir()
	bin := buildBot(b, dir)
	var startups, clickAcks, slashAcks []time.Duration
	var peakKB, idleKB, fileKB int64
	var cpu time.Duration
	disconnects := 0
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		f := newBenchFakes(b, supervisors)
		b.StartTimer()
		child := startChildBot(b, bin, f, filepath.Join(dir, fmt.Sprintf("bot-%d.log", i)))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		err := f.slack.WaitConnections(wctx, 1)
		wcancel()
		if err != nil {
			child.stop(b)
			cancel()
			b.Fatalf("bot did not connect: %v; log:\n%s", err, child.tail())
		}
		startups = append(startups, time.Since(child.started))
		if kb, err := procStatusKB(child.cmd.Process.Pid, "VmRSS"); err == nil {
			idleKB = max(idleKB, kb)
		}
		for range processRounds {
			samples, err := f.round(ctx, 0)
			if err != nil {
				child.stop(b)
				cancel()
				b.Fatalf("%v; log:\n%s", err, child.tail())
			}
			for _, s := range samples {
				slashAcks = append(slashAcks, s.slashAck)
				clickAcks = append(clickAcks, s.clickAck)
			}
			disconnects += len(samples)
		}
		kb, err := procStatusKB(child.cmd.Process.Pid, "VmHWM")
		if err != nil {
			b.Error(err)
		}
		peakKB = max(peakKB, kb)
		if kb, err := procStatusKB(child.cmd.Process.Pid, "RssFile"); err == nil {
			fileKB = max(fileKB, kb)
		}
		child.stop(b)
		cpu += child.cpu()
		cancel()
		f.slack.Close()
		f.genesys.Close()
	}
	b.StopTimer()
	reportPercentiles(b, "startup", startups)
	b.ReportMetric(float64(idleKB)/1024, "idle-rss-MB")
	b.ReportMetric(float64(peakKB)/1024, "peak-rss-MB")
	// The mapped binary's share of the RSS: the rest is heap and stacks.
	b.ReportMetric(float64(fileKB)/1024, "rss-file-MB")
	// The bot's whole CPU time (start-up and shutdown included) per slash+click.
	b.ReportMetric(ms(cpu)/float64(disconnects), "bot-cpu-ms/disconnect")
	reportPercentiles(b, "slash-ack", slashAcks)
	reportPercentiles(b, "click-ack", clickAcks)
}
