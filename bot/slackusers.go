package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// slackUsers looks up a Slack user (users.info), to turn a mention into an
// e-mail address.
type slackUsers interface {
	UserEmail(ctx context.Context, userID string) (string, error)
}

// Errors a slackUsers returns for the cases the flow explains to the user.
var (
	// errNoSlackEmail means the Slack user has no e-mail address the bot can
	// see: a bot, a deleted account, or a profile without one.
	errNoSlackEmail = errors.New("bot: the Slack user has no e-mail address the bot can see")
	// errSlackUserNotFound means Slack does not know the user id.
	errSlackUserNotFound = errors.New("bot: Slack has no such user")
	// errSlackEmailScope means the bot token lacks users:read.email (or users:read).
	errSlackEmailScope = errors.New("bot: the Slack bot token lacks the users:read.email scope")
)

// slackUserDirectory is slackUsers over slack-go (users.info; needs the
// users:read and users:read.email scopes).
type slackUserDirectory struct{ API *slack.Client }

// UserEmail returns the lower-cased e-mail address in the user's profile.
func (d slackUserDirectory) UserEmail(ctx context.Context, userID string) (string, error) {
	if d.API == nil {
		return "", errors.New("bot: slackUserDirectory has no Slack client")
	}
	u, err := d.API.GetUserInfoContext(ctx, userID)
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			switch se.Err {
			case "user_not_found", "users_not_found":
				return "", errSlackUserNotFound
			case "missing_scope":
				return "", errSlackEmailScope
			}
		}
		return "", fmt.Errorf("slack users.info: %w", err)
	}
	email := strings.ToLower(strings.TrimSpace(u.Profile.Email))
	if u.Deleted || u.IsBot || email == "" {
		return "", errNoSlackEmail
	}
	return email, nil
}
