package genesys

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// regionDomains maps the 17 Genesys Cloud regions to their domain; the API
// host is api.<domain> and the login host login.<domain> (from the official
// SDKs' region tables).
var regionDomains = map[string]string{
	"us-east-1":      "mypurecloud.com",
	"us-east-2":      "use2.us-gov-pure.cloud",
	"us-west-2":      "usw2.pure.cloud",
	"ca-central-1":   "cac1.pure.cloud",
	"sa-east-1":      "sae1.pure.cloud",
	"mx-central-1":   "mxc1.pure.cloud",
	"eu-west-1":      "mypurecloud.ie",
	"eu-west-2":      "euw2.pure.cloud",
	"eu-central-1":   "mypurecloud.de",
	"eu-central-2":   "euc2.pure.cloud",
	"me-central-1":   "mec1.pure.cloud",
	"ap-south-1":     "aps1.pure.cloud",
	"ap-southeast-1": "apse1.pure.cloud",
	"ap-southeast-2": "mypurecloud.com.au",
	"ap-northeast-1": "mypurecloud.jp",
	"ap-northeast-2": "apne2.pure.cloud",
	"ap-northeast-3": "apne3.pure.cloud",
}

// RegionNames returns the Genesys Cloud region names, sorted.
func RegionNames() []string {
	names := make([]string, 0, len(regionDomains))
	for n := range regionDomains {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ResolveRegion turns a region name ("eu-west-1") or a domain
// ("mypurecloud.ie", "api.mypurecloud.ie", "https://api.mypurecloud.ie") into
// the API and login base URLs. Unknown input is an error that lists the valid
// names.
func ResolveRegion(region string) (apiURL, loginURL string, err error) {
	r := strings.ToLower(strings.TrimSpace(region))
	if r == "" {
		return "", "", &InputError{Field: "Region", Message: "the region is empty; use one of: " + strings.Join(RegionNames(), ", ")}
	}
	if d, ok := regionDomains[r]; ok {
		return "https://api." + d, "https://login." + d, nil
	}
	// Accept a domain, a host or a URL whose host is a known domain.
	host := r
	if strings.Contains(host, "://") {
		if u, perr := url.Parse(host); perr == nil && u.Host != "" && (u.Path == "" || u.Path == "/") {
			host = u.Hostname()
		}
	}
	host = strings.TrimSuffix(host, "/")
	host = strings.TrimSuffix(host, ".")
	for _, prefix := range []string{"api.", "login.", "apps."} {
		if d, ok := strings.CutPrefix(host, prefix); ok && isKnownDomain(d) {
			host = d
			break
		}
	}
	if isKnownDomain(host) {
		return "https://api." + host, "https://login." + host, nil
	}
	return "", "", &InputError{
		Field:   "Region",
		Value:   shorten(region, 64),
		Message: fmt.Sprintf("region %q is not a Genesys Cloud region; use one of: %s (or a domain such as mypurecloud.com)", shorten(region, 64), strings.Join(RegionNames(), ", ")),
	}
}

func isKnownDomain(d string) bool {
	for _, v := range regionDomains {
		if v == d {
			return true
		}
	}
	return false
}
