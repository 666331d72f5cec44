package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/disconnectbot/disconnectbot/authz"
	"github.com/disconnectbot/disconnectbot/bot/approval"
	"github.com/disconnectbot/disconnectbot/genesys"
)

// SweepGenesys is what sweeps need from the Genesys client.
type SweepGenesys interface {
	FindStuck(ctx context.Context, f genesys.StuckFilter) (genesys.StuckList, error)
	Sweep(ctx context.Context, candidates []genesys.StuckCandidate, opts genesys.SweepOptions) genesys.SweepSummary
	ResolveQueue(ctx context.Context, nameOrID string) (genesys.Queue, error)
}

// SweepMetrics counts sweeps; nil means none.
type SweepMetrics interface {
	SweepStarted()
	SweepConversation(result string)
}

// DefaultSweepProgressEvery is how often the progress message is updated.
const DefaultSweepProgressEvery = 3 * time.Second

// SweepConfig turns on `/disconnect stuck` (Config.Sweep).
type SweepConfig struct {
	Genesys SweepGenesys
	// Authz is the sweep allow-list (authz.sweep_users / sweep_usergroups;
	// AllowedChannels as for /disconnect). An empty TeamID is filled in as
	// for Config.Authz. It is checked on the command and on every click.
	Authz   authz.Config
	Metrics SweepMetrics
	// MaxAge, Limit and Concurrency are sweep.max_age,
	// sweep.max_conversations and sweep.concurrency (0: genesys's defaults).
	MaxAge             time.Duration
	Limit, Concurrency int
	// ProgressEvery bounds how often the progress message is updated; 0
	// means DefaultSweepProgressEvery.
	ProgressEvery time.Duration
}

// sweepSlack is the Slack side of a sweep: the channel's progress message
// is posted once and then updated in place (chat.update).
type sweepSlack interface {
	Post(ctx context.Context, channel string, msg message) (string, error)
	Update(ctx context.Context, channel, ts string, msg message) error
}

// Sweeper runs `/disconnect stuck`: a private summary of the stuck
// conversations with "Disconnect all N" and Cancel, then a sweep with a
// progress message in the channel (with Stop), then the final summary.
// Sweeps run on their own goroutines, at bulk priority against the Genesys
// budget: an ordinary /disconnect is never queued behind one. App.Run
// stops them (each posts a truthful final summary) when its context ends.
type Sweeper struct {
	cfg     SweepConfig
	h       *handler // for RunApprovedSweep
	authz   authorizer
	contact string
	slack   sweepSlack
	log     *slog.Logger

	mu   sync.Mutex
	root context.Context
	// closing is set once shutdown waits for the sweeps: no new one may
	// start then (wg.Add after Wait has begun is a misuse).
	closing bool
	running map[string]*runningSweep
	wg      sync.WaitGroup
}

type runningSweep struct {
	cancel    context.CancelFunc
	stoppedBy string
}

func newSweeper(cfg SweepConfig, policy authorizer, contact string, sl sweepSlack, log *slog.Logger) *Sweeper {
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = DefaultSweepProgressEvery
	}
	if cfg.Metrics == nil {
		cfg.Metrics = nopSweepMetrics{}
	}
	return &Sweeper{cfg: cfg, authz: policy, contact: contact, slack: sl, log: log, root: context.Background()}
}

// newSweeperFor builds the Sweeper of New: its own allow-list, the
// handler's Slack client and log.
func newSweeperFor(cfg SweepConfig, team string, groups authz.GroupMembers, h *handler) (*Sweeper, error) {
	if cfg.Genesys == nil {
		return nil, errors.New("bot: SweepConfig.Genesys is required")
	}
	acfg := cfg.Authz
	if acfg.TeamID == "" {
		acfg.TeamID = team
	}
	policy, err := authz.New(acfg, groups, nil)
	if cfgErr, ok := errors.AsType[*authz.ConfigError](err); ok {
		// Its problems name the /disconnect keys; these are the sweep's.
		out := &authz.ConfigError{}
		for _, p := range cfgErr.Problems {
			p = strings.ReplaceAll(p, "authz.allowed_usergroups", "authz.sweep_usergroups")
			out.Problems = append(out.Problems, strings.ReplaceAll(p, "authz.allowed_users", "authz.sweep_users"))
		}
		return nil, out
	}
	if err != nil {
		return nil, err
	}
	if policy.Empty() {
		h.Log.Info("nobody may sweep stuck interactions until authz.sweep_users or authz.sweep_usergroups is set")
	}
	sl, ok := h.Slack.(sweepSlack)
	if !ok {
		return nil, errors.New("bot: the Slack client cannot update messages")
	}
	sw := newSweeper(cfg, policy, acfg.Contact, sl, h.Log.With("component", "sweep"))
	sw.h = h
	return sw, nil
}

type nopSweepMetrics struct{}

func (nopSweepMetrics) SweepStarted()            {}
func (nopSweepMetrics) SweepConversation(string) {}

// run makes ctx the root of the sweeps started from now on, and, once ctx
// ends, waits for every sweep to stop and post its summary.
func (s *Sweeper) run(ctx context.Context) (wait func()) {
	s.mu.Lock()
	s.root = ctx
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.wg.Wait()
	}
}

// authorize checks the sweep allow-list and answers a refusal.
func (s *Sweeper) authorize(ctx context.Context, h *handler, team, user, channel string, to replyTo) authz.Decision {
	d := s.authz.Authorize(ctx, authz.Request{TeamID: team, UserID: user, ChannelID: channel})
	if d.Allowed {
		return d
	}
	if d.Err != nil {
		s.log.Error("sweep authorization lookup failed", "err", d.Err, "slack_user", user)
	}
	msg := d.Message()
	if d.Reason == authz.ReasonNotInAllowList || d.Reason == authz.ReasonAllowListEmpty {
		contact := s.contact
		if contact == "" {
			contact = "a disconnectbot admin"
		}
		msg = "Sweeping stuck interactions is a separate permission, and you do not have it. Ask " + contact +
			" to add your Slack user or one of your user groups to authz.sweep_users / authz.sweep_usergroups."
	}
	h.reply(ctx, to, errorMessage(msg), respondOptions{})
	return d
}

// sweepCommand is HandleSlash's `/disconnect stuck …`: the private summary.
func (h *handler) sweepCommand(ctx context.Context, req slashRequest, args StuckArgs) result {
	s := h.Sweeper
	if s == nil {
		h.reply(ctx, req.replyTo(), errorMessage("Sweeping stuck interactions is not enabled in this bot."), respondOptions{})
		return done(outcomeBadInput, "sweep_not_enabled")
	}
	if d := s.authorize(ctx, h, req.TeamID, req.UserID, req.ChannelID, req.replyTo()); !d.Allowed {
		return done(outcomeDenied, d.Reason)
	}
	older, _ := genesys.ParseAge(args.Older) // checked by the parser
	sr := sweepRequest{Older: genesys.FormatAge(older), Media: args.Media}
	queueName := ""
	if args.Queue != "" {
		q, err := s.cfg.Genesys.ResolveQueue(genesys.WithBulkPriority(ctx), args.Queue)
		if err != nil {
			return h.genesysError(ctx, req.replyTo(), err, failedCall{log: "resolving the sweep's queue failed"})
		}
		sr.QueueID, queueName = q.ID, q.Name
	}
	list, err := s.cfg.Genesys.FindStuck(ctx, s.filter(sr))
	if err != nil {
		return h.genesysError(ctx, req.replyTo(), err, failedCall{log: "finding stuck conversations failed"})
	}
	sr.Count = len(list.Candidates)
	h.reply(ctx, req.replyTo(), sweepSummaryMessage(list, sr, queueName, h.now()), respondOptions{})
	return done(outcomeSweepSummary, fmt.Sprintf("%d found", sr.Count))
}

func (s *Sweeper) filter(sr sweepRequest) genesys.StuckFilter {
	older, _ := genesys.ParseAge(sr.Older)
	return genesys.StuckFilter{OlderThan: older, QueueID: sr.QueueID, MediaType: sr.Media, MaxAge: s.cfg.MaxAge, Limit: s.cfg.Limit}
}

// sweepClick is HandleClick's sweep buttons; each click is authorized again.
func (h *handler) sweepClick(ctx context.Context, req clickRequest) result {
	s := h.Sweeper
	if s == nil {
		h.reply(ctx, req.replyTo(), errorMessage("Sweeping stuck interactions is not enabled in this bot."), respondOptions{})
		return done(outcomeBadButton, "sweep_not_enabled")
	}
	if d := s.authorize(ctx, h, req.TeamID, req.UserID, req.ChannelID, req.replyTo()); !d.Allowed {
		return done(outcomeDenied, d.Reason)
	}
	switch req.ActionID {
	case actionSweepCancel:
		h.reply(ctx, req.replyTo(), infoMessage("Cancelled. Nothing was disconnected."), respondOptions{Replace: true})
		return done(outcomeCancelled, "")
	case actionSweepStop:
		if err := checkSweepID(req.Value); err != nil {
			h.reply(ctx, req.replyTo(), errorMessage(err.Error()+"."), respondOptions{})
			return done(outcomeBadButton, "invalid_value")
		}
		if !s.stop(req.Value, req.UserID) {
			h.reply(ctx, req.replyTo(), infoMessage(":information_source: That sweep is not running here any more (it finished, or the bot restarted). Its summary is in the channel."), respondOptions{})
			return done(outcomeSweepNotRunning, "")
		}
		h.reply(ctx, req.replyTo(), infoMessage(":octagonal_sign: Stopping the sweep: the conversations in progress finish, no new ones start. The summary follows in the channel."), respondOptions{})
		return done(outcomeSweepStopping, "")
	case actionSweepRun, actionSweepTeardown:
		sr, err := decodeSweepRequest(req.Value)
		if err != nil || sr.Teardown != (req.ActionID == actionSweepTeardown) {
			h.reply(ctx, req.replyTo(), errorMessage("That button is not valid: "+errBadButton.Error()+"."), respondOptions{})
			return done(outcomeBadButton, "invalid_value")
		}
		if h.sweepNeedsApproval() { // approvalflow.go: four eyes
			if sr.Teardown {
				h.reply(ctx, req.replyTo(), errorMessage("Teardowns are not available while sweeps need a second supervisor's approval (approval.required_for has sweep): an approval cannot ask for one yet. Use `disconnectbot sweep --teardown` on the command line. Nothing was torn down."), respondOptions{})
				return done(outcomeBadButton, "teardown_needs_approval")
			}
			older, _ := genesys.ParseAge(sr.Older)
			return h.requestSweepApproval(ctx, req, approval.Sweep{Count: sr.Count, OlderThan: older, Queue: sr.QueueID, Media: sr.Media})
		}
		id := s.start(h, req, sr, "")
		if !sr.Teardown {
			h.reply(ctx, req.replyTo(), infoMessage(":broom: Sweep started. Progress and the outcome are in the channel; it has a Stop button."), respondOptions{Replace: true})
		}
		return done(outcomeSweepStarted, "sweep "+id)
	}
	h.reply(ctx, req.replyTo(), errorMessage("That button is not one disconnectbot knows. Run `/disconnect stuck` again."), respondOptions{})
	return done(outcomeBadButton, "unknown_action")
}

// stop cancels a running sweep; false when it does not run here.
func (s *Sweeper) stop(id, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.running[id]
	if run == nil {
		return false
	}
	if run.stoppedBy == "" {
		run.stoppedBy = user
		run.cancel()
	}
	return true
}

// RunApprovedSweep starts the sweep an approver approved (the handler's
// sweepRunner): the request's filters, run for the requester, with the
// approver named on the progress message. The filters are checked as a
// button's are.
func (s *Sweeper) RunApprovedSweep(ctx context.Context, approver clickRequest, r approval.Request) result {
	sr, err := decodeSweepRequest(encodeSweepRequest(sweepRequest{
		Older: genesys.FormatAge(r.Sweep.OlderThan), QueueID: r.Sweep.Queue, Media: r.Sweep.Media, Count: r.Sweep.Count,
	}))
	if err != nil {
		s.h.reply(ctx, approver.replyTo(), errorMessage("That request's filters are not valid. Nothing was swept."), respondOptions{})
		return done(outcomeBadButton, "invalid_sweep_request")
	}
	// The requester may have lost the sweep permission while the request
	// waited: the approval is for their sweep, so it is theirs to have.
	if d := s.authz.Authorize(ctx, authz.Request{TeamID: r.TeamID, UserID: r.UserID, ChannelID: r.ChannelID}); !d.Allowed {
		if d.Err != nil {
			s.log.Error("sweep authorization lookup failed", "err", d.Err, "slack_user", r.UserID)
		}
		s.h.reply(ctx, approver.replyTo(), errorMessage(fmt.Sprintf("%s may no longer sweep (authz.sweep_users / authz.sweep_usergroups), so the request cannot be carried out. Nothing was swept.", mention(r.UserID))), respondOptions{})
		return done(outcomeDenied, "requester_not_sweeper")
	}
	requester := clickRequest{TeamID: r.TeamID, UserID: r.UserID, ChannelID: r.ChannelID}
	id := s.start(s.h, requester, sr, approver.UserID)
	return done(outcomeSweepStarted, "sweep "+id)
}

// start registers a sweep and runs it on its own goroutine.
func (s *Sweeper) start(h *handler, req clickRequest, sr sweepRequest, approvedBy string) string {
	id := newSweepID()
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		s.log.Warn("not starting a sweep: the bot is shutting down", "sweep_id", id)
		return id
	}
	ctx, cancel := context.WithCancel(s.root)
	if s.running == nil {
		s.running = map[string]*runningSweep{}
	}
	run := &runningSweep{cancel: cancel}
	s.running[id] = run
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer cancel()
		s.sweep(ctx, h, req, sr, id, run, approvedBy)
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
	}()
	return id
}

// sweepProgress is what the progress message shows.
type sweepProgress struct {
	request           sweepRequest
	id, user, filters string
	approvedBy        string
	teardown          bool
	started           time.Time
	found             int
	more              bool
	sum               genesys.SweepSummary
	results           []genesys.ClearResult
	stoppedBy         string
	failedToFind      string
}

func (s *Sweeper) sweep(ctx context.Context, h *handler, req clickRequest, sr sweepRequest, id string, run *runningSweep, approvedBy string) {
	s.cfg.Metrics.SweepStarted()
	p := &sweepProgress{request: sr, id: id, user: req.UserID, approvedBy: approvedBy, filters: sweepFilterText(sr), teardown: sr.Teardown, started: time.Now(),
		sum: genesys.SweepSummary{Counts: map[genesys.SweepOutcome]int{}}}
	slackCtx, cancelSlack := detached(ctx)
	ts, err := s.slack.Post(slackCtx, req.ChannelID, sweepProgressMessage(p, false))
	cancelSlack()
	if err != nil {
		s.log.Error("posting the sweep progress message failed; the sweep does not start", "err", err, "channel", req.ChannelID)
		h.reply(ctx, req.replyTo(), errorMessage("The sweep did not start: its progress could not be posted in the channel. Invite the bot to the channel (`/invite @disconnectbot`) and try again. Nothing was disconnected."), respondOptions{})
		return
	}
	// The sweep queries again: the conversations may have changed since
	// the summary, and the re-read of each one decides what is done.
	// It takes no more than the confirm dialog stated: newer stuck
	// conversations wait for the next sweep ("more exist").
	f := s.filter(sr)
	if sr.Count > 0 && (f.Limit == 0 || sr.Count < f.Limit) {
		f.Limit = sr.Count
	}
	list, err := s.cfg.Genesys.FindStuck(ctx, f)
	if err != nil {
		p.failedToFind = withCorrelation(genesys.UserMessage(err), genesys.CorrelationID(err))
		s.log.Error("finding stuck conversations failed", "err", err)
	}
	p.found, p.more = len(list.Candidates), list.More

	b := &progressBoard{s: s, ctx: ctx, channel: req.ChannelID, ts: ts, p: p, run: run, dirty: true}
	stopTicking := b.tick(s.cfg.ProgressEvery)
	if err == nil && len(list.Candidates) > 0 {
		older, _ := genesys.ParseAge(sr.Older)
		sum := s.cfg.Genesys.Sweep(ctx, list.Candidates, genesys.SweepOptions{
			OlderThan: older, Teardown: sr.Teardown, Concurrency: s.cfg.Concurrency,
			OnResult: func(r genesys.ClearResult) {
				s.auditResult(h, req, id, r)
				s.cfg.Metrics.SweepConversation(string(r.Outcome))
				b.record(r)
			},
		})
		b.finish(sum)
	}
	stopTicking()
	b.update(true)
}

// progressBoard keeps a sweep's channel message up to date: the results
// as they come, redrawn at most every ProgressEvery, and the final summary.
type progressBoard struct {
	s           *Sweeper
	ctx         context.Context
	channel, ts string
	run         *runningSweep

	mu    sync.Mutex
	p     *sweepProgress
	dirty bool // changed since the last redraw
}

func (b *progressBoard) record(r genesys.ClearResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.p.results = append(b.p.results, r)
	b.p.sum.Processed++
	b.p.sum.Counts[r.Outcome]++
	b.dirty = true
}

func (b *progressBoard) finish(sum genesys.SweepSummary) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.p.sum = sum
}

// update redraws the message (chat.update) if anything changed, or when final.
func (b *progressBoard) update(final bool) {
	b.mu.Lock()
	if !b.dirty && !final {
		b.mu.Unlock()
		return
	}
	b.dirty = false
	b.s.mu.Lock()
	b.p.stoppedBy = b.run.stoppedBy
	b.s.mu.Unlock()
	msg := sweepProgressMessage(b.p, final)
	b.mu.Unlock()
	ctx, cancel := detached(b.ctx)
	defer cancel()
	if err := b.s.slack.Update(ctx, b.channel, b.ts, msg); err != nil {
		b.s.log.Warn("updating the sweep progress message failed", "err", err, "channel", b.channel)
	}
}

// tick redraws every interval until stop is called (which waits for it).
func (b *progressBoard) tick(every time.Duration) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.update(false)
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// auditResult writes one audit line for the conversation and one per leg.
func (s *Sweeper) auditResult(h *handler, req clickRequest, id string, r genesys.ClearResult) {
	base := auditEntry{user: req.UserID, team: req.TeamID, channel: req.ChannelID, start: time.Now().Add(-r.Duration)}
	base.conversation = r.ConversationID
	for _, l := range r.Legs {
		e := base
		e.action, e.participant, e.purpose = "sweep_leg", l.ParticipantID, l.Purpose
		e.outcome, e.reason, e.genesysStatus, e.correlationID = l.Outcome, l.Reason, l.Status, l.CorrelationID
		h.audit(e)
	}
	e := base
	e.action, e.outcome, e.reason, e.correlationID = "sweep_conversation", string(r.Outcome), r.Reason, r.CorrelationID
	if e.reason == "" {
		e.reason = "sweep " + id
	}
	h.audit(e)
}
