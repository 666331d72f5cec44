package main

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/viper"
)

// secretConfigKeys are the configuration keys that hold credentials.
var secretConfigKeys = []string{"slack.app_token", "slack.bot_token", "genesys.client_secret", "approval.secret"}

// configPermProblem is what configFileExposure found.
type configPermProblem struct {
	Path    string
	Mode    fs.FileMode
	Readers string   // "group", "others" or "group and others"
	Keys    []string // the secret keys the file sets
}

func (p *configPermProblem) String() string {
	return fmt.Sprintf("config file %s holds secrets (%s) and is readable by %s (mode %04o): run `chmod 600 %s`, or keep the secrets in environment variables (a Kubernetes Secret) instead of the file",
		p.Path, strings.Join(p.Keys, ", "), p.Readers, p.Mode.Perm(), p.Path)
}

// configFileExposure reports a config file that sets a secret and that
// users other than its owner can read. A file without secrets (the chart's
// ConfigMap, for one) may be world-readable; so may anything on Windows,
// whose permissions these bits do not describe.
func configFileExposure(path string) *configPermProblem {
	if path == "" || runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	mode := fi.Mode().Perm()
	var readers []string
	if mode&0o040 != 0 {
		readers = append(readers, "group")
	}
	if mode&0o004 != 0 {
		readers = append(readers, "others")
	}
	if len(readers) == 0 {
		return nil
	}
	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType("yaml")
	if v.ReadInConfig() != nil {
		return nil // loadConfig reports an unreadable file
	}
	var keys []string
	for _, k := range secretConfigKeys {
		if strings.TrimSpace(v.GetString(k)) != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return &configPermProblem{Path: path, Mode: mode, Readers: strings.Join(readers, " and "), Keys: keys}
}
