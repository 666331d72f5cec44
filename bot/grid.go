package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/slack-go/slack"
)

// errOrgWideInstall explains why the bot refuses to start as an org-wide
// Enterprise Grid install. Its allow-list, its user groups and its check
// that a request comes from its own workspace all assume one workspace: an
// org-wide install would serve the one workspace whose id auth.test
// happens to name and refuse every other workspace of the org (or, with a
// looser check, accept them all under one workspace's allow-list). Rather
// than half-work, it stops and says what to do.
const errOrgWideInstall = "slack: the app is installed org-wide on Enterprise Grid org %s (auth.test says is_enterprise_install), " +
	"which disconnectbot does not support: its allow-list and its workspace check work for one workspace only. " +
	"Install the app to each workspace that needs it instead (in the app manifest, settings.org_deploy_enabled: false), " +
	"one disconnectbot deployment per workspace"

// CheckInstall refuses an org-wide install. A workspace that is part
// of a Grid org (auth.test names an enterprise_id) with the app installed
// on the workspace itself is fine. slack-go's AuthTestResponse does not
// carry is_enterprise_install, so for Grid workspaces auth.test is asked
// once more, directly.
func CheckInstall(ctx context.Context, httpClient *http.Client, apiURL, botToken string, id *slack.AuthTestResponse) error {
	if id == nil || id.EnterpriseID == "" {
		return nil
	}
	orgWide, err := isEnterpriseInstall(ctx, httpClient, apiURL, botToken)
	if err != nil {
		return fmt.Errorf("slack auth.test (is_enterprise_install) failed: %w", err)
	}
	if orgWide {
		return fmt.Errorf(errOrgWideInstall, id.EnterpriseID)
	}
	return nil
}

func isEnterpriseInstall(ctx context.Context, httpClient *http.Client, apiURL, botToken string) (bool, error) {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	form := url.Values{"token": {botToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(apiURL, "/")+"/auth.test", strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var out struct {
		OK                  bool   `json:"ok"`
		Error               string `json:"error"`
		IsEnterpriseInstall bool   `json:"is_enterprise_install"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return false, fmt.Errorf("decoding the answer: %w", err)
	}
	if !out.OK {
		return false, fmt.Errorf("%s", out.Error)
	}
	return out.IsEnterpriseInstall, nil
}
