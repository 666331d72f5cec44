#!/usr/bin/env bash
# Lints everything under deploy/:
#   - the Helm chart: `helm lint --strict` and `helm template` with several
#     value sets, assertions on the rendered security settings, and
#     rendering failures that must happen (missing credentials, bad values);
#   - the Slack app manifest (go run ./deploy/tools/manifestcheck);
#   - the Dockerfile's build contract: the -X ldflags it stamps exist in
#     ./cmd/disconnectbot and reach `disconnectbot version`;
#   - the dashboard and alert rules: the chart's copies are identical to
#     deploy/grafana/disconnectbot.json and deploy/prometheus/alerts.yaml,
#     `promtool check rules` and `promtool test rules` pass, and the rendered
#     PrometheusRule and dashboard ConfigMap carry exactly those files.
#     promtool comes with Debian's `prometheus` package (.ci/run installs
#     it); without it these checks are skipped, unless CI is set.
#
# Helm is built from the Go module proxy (the only registry reachable here)
# at a pinned version into a cache directory OUTSIDE the work tree, so that a
# fresh clone on the same machine (as CI uses) reuses it. A first build on a
# machine with a cold Go build cache takes about 4 minutes on 2 cores; a
# present binary of the right version is reused in well under a second.
#
# Environment:
#   DISCONNECTBOT_TOOLS_DIR  where tools are kept
#                            (default ${XDG_CACHE_HOME:-$HOME/.cache}/disconnectbot/tools)
set -euo pipefail

HELM_VERSION=v3.22.0
HELM_MODULE=helm.sh/helm/v3

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CHART=deploy/helm/disconnectbot
TOOLS_DIR=${DISCONNECTBOT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/disconnectbot/tools}
HELM_DIR=$TOOLS_DIR/helm-$HELM_VERSION
HELM=$HELM_DIR/helm

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Keep helm away from the user's ~/.config/helm, repositories and plugins.
export HELM_CACHE_HOME=$WORK/helm/cache HELM_CONFIG_HOME=$WORK/helm/config HELM_DATA_HOME=$WORK/helm/data

step_start=$SECONDS
step() { printf '\n== %s\n' "$*"; step_start=$SECONDS; }
done_step() { printf '   ok (%ds)\n' $((SECONDS - step_start)); }
die() { printf 'lint-deploy: FAIL: %s\n' "$*" >&2; exit 1; }

passed=0
pass() { passed=$((passed + 1)); }

# ---------------------------------------------------------------- helm
step "helm $HELM_VERSION"
# `go version -m` reads the module version stamped into the binary: exact,
# unlike `helm version`, which reports only "v3.22" for a go-installed build.
if [[ -x $HELM ]] && go version -m "$HELM" 2>/dev/null |
	grep -qE "^[[:space:]]+mod[[:space:]]+${HELM_MODULE}[[:space:]]+${HELM_VERSION}[[:space:]]"; then
	echo "   using $HELM"
else
	echo "   building $HELM_MODULE@$HELM_VERSION into $HELM_DIR (about 4 min on a cold build cache)"
	mkdir -p "$HELM_DIR"
	# Outside any module on purpose: `go install pkg@version` ignores go.mod.
	(cd "$WORK" && GOBIN=$HELM_DIR GOFLAGS=-buildvcs=false \
		go install -trimpath -ldflags='-s -w' "$HELM_MODULE/cmd/helm@$HELM_VERSION")
fi
"$HELM" version --short
done_step

# ---------------------------------------------------------------- lint
step "helm lint --strict"
for values in "$CHART"/ci/*-values.yaml; do
	out=$("$HELM" lint --strict "$CHART" -f "$values" 2>&1) || {
		printf '%s\n' "$out"
		die "helm lint --strict with $values"
	}
	grep -q '0 chart(s) failed' <<<"$out" || {
		printf '%s\n' "$out"
		die "helm lint with $values"
	}
	echo "   $values"
	pass
done
done_step

# ---------------------------------------------------------------- render
render() { # render NAME [helm template args...] -> $WORK/NAME.yaml
	local name=$1
	shift
	"$HELM" template disconnectbot "$CHART" --namespace bots "$@" >"$WORK/$name.yaml" ||
		die "helm template ($name) failed"
}

# has FILE PATTERN DESCRIPTION: a grep -E pattern must match a line.
has() {
	grep -qE -- "$2" "$1" || die "$(basename "$1"): expected $3 (/$2/)"
	pass
}
# hasnt FILE PATTERN DESCRIPTION: a grep -E pattern must not match.
hasnt() {
	if grep -qE -- "$2" "$1"; then die "$(basename "$1"): unexpected $3 (/$2/)"; fi
	pass
}
# count FILE PATTERN N DESCRIPTION: exactly N matching lines.
count() {
	local n
	n=$(grep -cE -- "$2" "$1" || true)
	[[ $n -eq $3 ]] || die "$(basename "$1"): expected $3 x $4, found $n (/$2/)"
	pass
}

# Settings every rendering must contain: the "restricted" Pod Security
# Standard, probes, the credentials as secretKeyRef env, the mounted config.
common_checks() {
	local f=$1
	has "$f" '^kind: Deployment$' 'a Deployment'
	has "$f" '^kind: ConfigMap$' 'a ConfigMap'
	has "$f" '^kind: Service$' 'a Service'
	has "$f" '^kind: ServiceAccount$' 'a ServiceAccount'
	has "$f" '^ +runAsNonRoot: true$' 'runAsNonRoot: true'
	has "$f" '^ +runAsUser: 65532$' 'runAsUser: 65532'
	has "$f" '^ +fsGroup: 65532$' 'fsGroup: 65532'
	has "$f" '^ +type: RuntimeDefault$' 'seccompProfile RuntimeDefault'
	has "$f" '^ +readOnlyRootFilesystem: true$' 'readOnlyRootFilesystem: true'
	has "$f" '^ +allowPrivilegeEscalation: false$' 'allowPrivilegeEscalation: false'
	grep -A1 -E '^ +drop:$' "$f" | grep -qE '^ +- ALL$' || die "$(basename "$f"): capabilities drop ALL missing"
	pass
	count "$f" '^ *automountServiceAccountToken: false$' 2 'automountServiceAccountToken: false (ServiceAccount and pod)'
	has "$f" '^ +path: /healthz$' 'liveness probe on /healthz'
	has "$f" '^ +path: /readyz$' 'readiness probe on /readyz'
	count "$f" '^ +port: http$' 2 'probes on the named port http'
	has "$f" '^ +terminationGracePeriodSeconds: 30$' 'terminationGracePeriodSeconds: 30'
	has "$f" '^ +checksum/config: [0-9a-f]{64}$' 'checksum/config annotation'
	has "$f" '^ +- name: http$' 'Service port named http'
	has "$f" '^ +mountPath: /etc/disconnectbot$' 'config mounted at /etc/disconnectbot'
	has "$f" '^ +- /etc/disconnectbot/config.yaml$' 'run --config /etc/disconnectbot/config.yaml'
	for v in DISCONNECTBOT_SLACK_APP_TOKEN DISCONNECTBOT_SLACK_BOT_TOKEN \
		DISCONNECTBOT_GENESYS_CLIENT_ID DISCONNECTBOT_GENESYS_CLIENT_SECRET DISCONNECTBOT_APPROVAL_SECRET; do
		grep -A3 -E "^ +- name: $v\$" "$f" | grep -qE '^ +secretKeyRef:$' || die "$(basename "$f"): $v not from a secretKeyRef"
		pass
	done
	# The dummy credentials of the CI value sets must only appear base64-encoded.
	hasnt "$f" 'xapp-|xoxb-|ci-dummy' 'plain-text credentials'
	has "$f" '^ +memory: 64Mi$' 'memory limit'
}

step "helm template: chart-managed Secret, 2 replicas (ci/secrets-values.yaml)"
render secrets -f "$CHART/ci/secrets-values.yaml"
f=$WORK/secrets.yaml
common_checks "$f"
has "$f" '^kind: Secret$' 'a chart-managed Secret'
has "$f" '^kind: PodDisruptionBudget$' 'a PodDisruptionBudget'
has "$f" '^  minAvailable: 1$' 'PDB minAvailable: 1'
has "$f" '^  replicas: 2$' 'replicas: 2'
has "$f" '^ +preferredDuringSchedulingIgnoredDuringExecution:$' 'preferred pod anti-affinity'
has "$f" '^ +topologyKey: kubernetes.io/hostname$' 'anti-affinity across nodes'
has "$f" '^ +checksum/secret: [0-9a-f]{64}$' 'checksum/secret annotation'
has "$f" '^ +containerPort: 8080$' 'containerPort 8080'
has "$f" '^  approval-secret: ' 'the approval signing key in the Secret'
has "$f" '^ +required_for:$' 'approval.required_for in the ConfigMap'
hasnt "$f" '^kind: ServiceMonitor$' 'ServiceMonitor (disabled by default)'
hasnt "$f" '^kind: PrometheusRule$' 'PrometheusRule (disabled by default)'
hasnt "$f" 'grafana_dashboard' 'dashboard ConfigMap (disabled by default)'
done_step

step "helm template: existingSecret, ServiceMonitor, 3 replicas (ci/existing-secret-values.yaml)"
render existing -f "$CHART/ci/existing-secret-values.yaml"
f=$WORK/existing.yaml
common_checks "$f"
hasnt "$f" '^kind: Secret$' 'a chart-managed Secret'
hasnt "$f" 'checksum/secret' 'checksum/secret with an existing Secret'
count "$f" '^ +name: disconnectbot-credentials$' 5 'secretKeyRef to the existing Secret (4 credentials and the approval key)'
has "$f" '^ +key: app-token$' 'custom secret key names'
has "$f" '^kind: ServiceMonitor$' 'a ServiceMonitor'
has "$f" '^ +path: /metrics$' 'ServiceMonitor scraping /metrics'
has "$f" '^ +release: kube-prometheus-stack$' 'ServiceMonitor extra labels'
has "$f" '^kind: PodDisruptionBudget$' 'a PodDisruptionBudget'
has "$f" '^ +requiredDuringSchedulingIgnoredDuringExecution:$' 'required pod anti-affinity'
has "$f" '^ +image: "registry.example.com/disconnectbot@sha256:0{64}"$' 'image pinned by digest'
done_step

step "helm template: 1 replica on :9090 (ci/single-replica-values.yaml)"
render single -f "$CHART/ci/single-replica-values.yaml"
f=$WORK/single.yaml
common_checks "$f"
hasnt "$f" '^kind: PodDisruptionBudget$' 'a PDB with a single replica (would block drains)'
hasnt "$f" 'podAntiAffinity' 'anti-affinity with podAntiAffinity=none'
has "$f" '^ +containerPort: 9090$' 'containerPort taken from config.http.addr'
done_step

step "helm template: terminationGracePeriodSeconds derived from config.shutdown.grace"
render grace -f "$CHART/ci/secrets-values.yaml" --set config.shutdown.grace=1m5s --set terminationGracePeriodSeconds=null
has "$WORK/grace.yaml" '^ +terminationGracePeriodSeconds: 75$' 'terminationGracePeriodSeconds = grace (65 s) + 10 s'
render grace2 -f "$CHART/ci/secrets-values.yaml" --set config.shutdown.grace=2500ms --set terminationGracePeriodSeconds=8
has "$WORK/grace2.yaml" '^ +terminationGracePeriodSeconds: 8$' 'an explicit terminationGracePeriodSeconds with a margin is kept'
done_step

# ---------------------------------------------------------------- must fail
step "helm template: invalid values are refused with a clear message"
# must_fail NAME EXPECTED-MESSAGE-REGEX [helm template args...]
must_fail() {
	local name=$1 want=$2 out
	shift 2
	if out=$("$HELM" template disconnectbot "$CHART" "$@" 2>&1); then
		die "$name: rendering succeeded, want an error matching /$want/"
	fi
	grep -qE -- "$want" <<<"$out" || {
		printf '%s\n' "$out" >&2
		die "$name: error does not match /$want/"
	}
	# An error message must never echo a credential (the prefixes alone, as
	# in "xoxb-…", are fine).
	if grep -qE -- 'x(app|oxb|oxp)-[A-Za-z0-9]|ci-dummy' <<<"$out"; then
		die "$name: error message echoes a credential: $out"
	fi
	echo "   $name"
	pass
}
must_fail "no credentials at all" 'missing credentials: set secrets\.slackAppToken, secrets\.slackBotToken, secrets\.genesysClientId, secrets\.genesysClientSecret'
must_fail "one credential missing" 'missing credentials: set secrets\.genesysClientSecret' \
	-f "$CHART/ci/secrets-values.yaml" --set secrets.genesysClientSecret=
must_fail "secrets.create=false without existingSecret" 'no credentials: set existingSecret' \
	--set secrets.create=false
must_fail "token in the ConfigMap" 'config\.slack\.bot_token would be stored in a ConfigMap' \
	-f "$CHART/ci/secrets-values.yaml" --set config.slack.bot_token=xoxb-x
must_fail "client secret in the ConfigMap" 'config\.genesys\.client_secret would be stored in a ConfigMap' \
	-f "$CHART/ci/secrets-values.yaml" --set config.genesys.client_secret=x
must_fail "replicaCount 0" "at '/replicaCount'" \
	-f "$CHART/ci/secrets-values.yaml" --set replicaCount=0
must_fail "loopback listen address" "at '/config/http/addr'" \
	-f "$CHART/ci/secrets-values.yaml" --set config.http.addr=127.0.0.1:8080
must_fail "authz list given as a string" "at '/config/authz/allowed_users'" \
	-f "$CHART/ci/secrets-values.yaml" --set config.authz.allowed_users=U1
must_fail "unknown Genesys endpoints mode" "at '/config/genesys/endpoints'" \
	-f "$CHART/ci/secrets-values.yaml" --set config.genesys.endpoints=both
must_fail "user token instead of bot token" 'secrets\.slackBotToken must be the bot user OAuth token' \
	-f "$CHART/ci/secrets-values.yaml" --set secrets.slackBotToken=xoxp-user-token
must_fail "bot token instead of app-level token" 'secrets\.slackAppToken must be the app-level token' \
	-f "$CHART/ci/secrets-values.yaml" --set secrets.slackAppToken=xoxb-bot-token
must_fail "region that is neither a region nor a domain" "at '/config/genesys/region'" \
	-f "$CHART/ci/secrets-values.yaml" --set config.genesys.region=Ireland
must_fail "phone country that is not a country code" "at '/config/find/default_country'" \
	-f "$CHART/ci/secrets-values.yaml" --set config.find.default_country=USA
must_fail "terminationGracePeriodSeconds without a margin above shutdown.grace" 'terminationGracePeriodSeconds \(30\) must be at least 5 s above config\.shutdown\.grace \(30s\)' \
	-f "$CHART/ci/secrets-values.yaml" --set config.shutdown.grace=30s
must_fail "terminationGracePeriodSeconds below a grace in minutes" 'set terminationGracePeriodSeconds to 96 or more' \
	-f "$CHART/ci/secrets-values.yaml" --set config.shutdown.grace=1m30.5s --set terminationGracePeriodSeconds=60
must_fail "approval on without a signing key" 'config\.approval\.required_for is set: set secrets\.approvalSecret' \
	-f "$CHART/ci/secrets-values.yaml" --set secrets.approvalSecret=
must_fail "approval signing key too short" 'secrets\.approvalSecret is shorter than 32 bytes' \
	-f "$CHART/ci/secrets-values.yaml" --set secrets.approvalSecret=short
must_fail "approval signing key in the ConfigMap" "at '/config/approval': additional properties 'secret' not allowed" \
	-f "$CHART/ci/secrets-values.yaml" --set config.approval.secret=x
must_fail "misspelled approval purpose" "at '/config/approval/required_for/0'" \
	-f "$CHART/ci/secrets-values.yaml" --set 'config.approval.required_for={customers}'
must_fail "misspelled top-level value" "additional properties 'replicas' not allowed" \
	-f "$CHART/ci/secrets-values.yaml" --set replicas=3
must_fail "dashboard flag given as a string" "at '/grafanaDashboard/enabled'" \
	-f "$CHART/ci/secrets-values.yaml" --set-string grafanaDashboard.enabled=yes
must_fail "misspelled PrometheusRule option" "additional properties 'label' not allowed" \
	-f "$CHART/ci/secrets-values.yaml" --set prometheusRule.label.release=x
must_fail "PrometheusRule namespace that is not a namespace" "at '/prometheusRule/namespace'" \
	-f "$CHART/ci/secrets-values.yaml" --set prometheusRule.namespace=Monitoring_NS
done_step

# ---------------------------------------------------------------- monitoring
step "dashboard and alert rules (deploy/grafana, deploy/prometheus)"
# The chart can only read files inside itself: it keeps copies, which must
# not drift from the files users import by hand.
for pair in grafana/disconnectbot.json:disconnectbot.json prometheus/alerts.yaml:alerts.yaml; do
	src=deploy/${pair%%:*} copy=$CHART/files/${pair#*:}
	cmp -s "$src" "$copy" || die "$copy differs from $src: copy it (cp $src $copy)"
	pass
done
if command -v promtool >/dev/null; then
	promtool check rules deploy/prometheus/alerts.yaml || die "promtool check rules deploy/prometheus/alerts.yaml"
	pass
	promtool test rules deploy/prometheus/alerts_test.yaml || die "promtool test rules deploy/prometheus/alerts_test.yaml"
	pass
elif [[ -n ${CI:-} ]]; then
	die "promtool not found (Debian package prometheus; .ci/run installs it)"
else
	echo "   SKIPPED promtool check/test rules: promtool not found (apt-get install prometheus)"
fi
render monitoring -f "$CHART/ci/secrets-values.yaml" \
	--set grafanaDashboard.enabled=true --set grafanaDashboard.namespace=monitoring \
	--set-string grafanaDashboard.annotations.grafana_folder=Contact-center \
	--set prometheusRule.enabled=true --set prometheusRule.labels.release=kube-prometheus-stack
f=$WORK/monitoring.yaml
common_checks "$f"
has "$f" '^kind: PrometheusRule$' 'a PrometheusRule'
has "$f" '^apiVersion: monitoring.coreos.com/v1$' 'the monitoring.coreos.com/v1 API'
has "$f" '^    release: kube-prometheus-stack$' 'PrometheusRule extra labels'
has "$f" '^    grafana_dashboard: "1"$' 'the Grafana sidecar label'
has "$f" '^  namespace: monitoring$' 'the dashboard in grafanaDashboard.namespace'
has "$f" '^    grafana_folder: Contact-center$' 'dashboard annotations'
go run ./deploy/monitoring/chartcheck "$f" deploy/prometheus/alerts.yaml deploy/grafana/disconnectbot.json ||
	die "the rendered PrometheusRule or dashboard ConfigMap differs from the sources"
pass
done_step

# ---------------------------------------------------------------- Slack manifest
step "Slack app manifest"
go run ./deploy/tools/manifestcheck deploy/slack-app-manifest.yaml
pass
done_step

# ---------------------------------------------------------------- Dockerfile
step "Dockerfile contract"
df=deploy/Dockerfile
has "$df" '^FROM gcr\.io/distroless/static-debian12:nonroot$' 'distroless static nonroot base'
has "$df" '^USER 65532:65532$' 'USER 65532:65532'
has "$df" '^ENTRYPOINT \["/disconnectbot"\]$' 'ENTRYPOINT'
has "$df" '^CMD \["run", ?"--config", ?"/etc/disconnectbot/config\.yaml"\]$' 'CMD run --config'
has "$df" 'CGO_ENABLED=0' 'a static build'
for v in version commit date; do has "$df" "-X main\\.$v=" "-X main.$v"; done
# The build context is the repo root; the ignore file must keep the sources.
hasnt deploy/Dockerfile.dockerignore '^(go\.(mod|sum)|cmd/?|\*\*?/\*\.go)$' 'ignore rules that drop the sources'
if [[ -d cmd/disconnectbot ]]; then
	# Same -X names as the Dockerfile (without -trimpath/-s -w, so that the
	# packages come from the build cache the tests already filled): a
	# misspelled variable is silently ignored by the linker, so check the output.
	go build -o "$WORK/disconnectbot" \
		-ldflags "-X main.version=v0.0.0-lint -X main.commit=c0ffee1 -X main.date=2001-02-03T04:05:06Z" \
		./cmd/disconnectbot
	out=$("$WORK/disconnectbot" version 2>&1) || die "disconnectbot version failed: $out"
	for want in v0.0.0-lint c0ffee1 2001-02-03T04:05:06Z; do
		grep -qF -- "$want" <<<"$out" || die "disconnectbot version output lacks $want (ldflags -X main.* not wired?): $out"
		pass
	done
	echo "   disconnectbot version: $out"
else
	echo "   SKIPPED the version-stamp check: ./cmd/disconnectbot does not exist yet"
fi
done_step

printf '\nlint-deploy: %d passed, 0 failed\n' "$passed"
