{{/*
Chart name, truncated to the 63 characters a DNS label allows.
*/}}
{{- define "disconnectbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name. Uses the release name alone when it already
contains the chart name, so `helm install disconnectbot …` gives
"disconnectbot" rather than "disconnectbot-disconnectbot".
*/}}
{{- define "disconnectbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "disconnectbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "disconnectbot.labels" -}}
helm.sh/chart: {{ include "disconnectbot.chart" . }}
{{ include "disconnectbot.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: disconnectbot
{{- end }}

{{/*
Selector labels. Immutable on a Deployment: never add to them.
*/}}
{{- define "disconnectbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "disconnectbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "disconnectbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "disconnectbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference; a digest wins over a tag.
*/}}
{{- define "disconnectbot.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Container port, taken from config.http.addr (":8080" -> 8080) so that the
port the binary listens on, the probes and the Service cannot drift apart.
*/}}
{{- define "disconnectbot.httpPort" -}}
{{- $addr := .Values.config.http.addr | default ":8080" | toString }}
{{- $port := last (splitList ":" $addr) }}
{{- if not (regexMatch "^[0-9]+$" $port) }}
{{- fail (printf "config.http.addr %q must end in :PORT, e.g. \":8080\"" $addr) }}
{{- end }}
{{- $port }}
{{- end }}

{{/*
Name of the Secret holding the credentials, after checking that exactly one
way of providing them is configured. Fails rendering with an actionable
message otherwise.
*/}}
{{- define "disconnectbot.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else if .Values.secrets.create }}
{{- $missing := list }}
{{- range $k := list "slackAppToken" "slackBotToken" "genesysClientId" "genesysClientSecret" }}
{{- if not (get $.Values.secrets $k) }}
{{- $missing = append $missing (printf "secrets.%s" $k) }}
{{- end }}
{{- end }}
{{- if $missing }}
{{- fail (printf "missing credentials: set %s (e.g. --set-string secrets.slackAppToken=xapp-…), or set existingSecret to the name of a Secret you manage" (join ", " $missing)) }}
{{- end }}
{{- /* Checked here rather than in values.schema.json: schema errors echo the value, and these are secrets. */}}
{{- if not (hasPrefix "xapp-" .Values.secrets.slackAppToken) }}
{{- fail "secrets.slackAppToken must be the app-level token (xapp-…) with the connections:write scope" }}
{{- end }}
{{- if not (hasPrefix "xoxb-" .Values.secrets.slackBotToken) }}
{{- fail "secrets.slackBotToken must be the bot user OAuth token (xoxb-…), not a user (xoxp-) or app-level (xapp-) token" }}
{{- end }}
{{- $approval := .Values.config.approval | default dict }}
{{- if and $approval.required_for (not .Values.secrets.approvalSecret) }}
{{- fail "config.approval.required_for is set: set secrets.approvalSecret to a random key of at least 32 bytes shared by all replicas (e.g. --set-string secrets.approvalSecret=\"$(openssl rand -base64 48)\"), or keep it in existingSecret" }}
{{- end }}
{{- if and .Values.secrets.approvalSecret (lt (len .Values.secrets.approvalSecret) 32) }}
{{- fail "secrets.approvalSecret is shorter than 32 bytes: use e.g. the output of openssl rand -base64 48" }}
{{- end }}
{{- include "disconnectbot.fullname" . }}
{{- else }}
{{- fail "no credentials: set existingSecret to the name of a Secret you manage, or set secrets.create=true with secrets.slackAppToken, secrets.slackBotToken, secrets.genesysClientId and secrets.genesysClientSecret" }}
{{- end }}
{{- end }}

{{/*
Secret key names inside the credentials Secret.
*/}}
{{- define "disconnectbot.secretKeys" -}}
{{- if .Values.existingSecret }}
{{- toYaml .Values.existingSecretKeys }}
{{- else }}
slackAppToken: slack-app-token
slackBotToken: slack-bot-token
genesysClientId: genesys-client-id
genesysClientSecret: genesys-client-secret
approvalSecret: approval-secret
{{- end }}
{{- end }}

{{/*
config.yaml contents. Refuses credentials in the plain-text ConfigMap.
*/}}
{{- define "disconnectbot.configYAML" -}}
{{- $c := .Values.config }}
{{- range $section, $keys := dict "slack" (list "app_token" "bot_token") "genesys" (list "client_id" "client_secret") "approval" (list "secret") }}
{{- $s := get $c $section | default dict }}
{{- range $k := $keys }}
{{- if hasKey $s $k }}
{{- fail (printf "config.%s.%s would be stored in a ConfigMap in plain text: remove it and use secrets.* or existingSecret instead" $section $k) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $c }}
{{- end }}

{{/*
config.shutdown.grace in whole seconds (rounded up). It takes Go's duration
syntax, as the binary does: "20s", "1m30s", "1.5m", "500ms".
*/}}
{{- define "disconnectbot.graceSeconds" -}}
{{- $grace := .Values.config.shutdown.grace | default "20s" | toString }}
{{- $units := dict "ns" 0.000000001 "us" 0.000001 "µs" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 }}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h)" $grace -1 }}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" . | float64 }}
{{- $unit := regexReplaceAll "^[0-9]+(\\.[0-9]+)?" . "" }}
{{- $total = addf $total (mulf $number (get $units $unit)) }}
{{- end }}
{{- ceil $total | int }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the bot spends all of config.shutdown.grace
finishing in-flight disconnects and posting their outcomes, so the kubelet
must wait longer than that before SIGKILL. Unset, it is the grace plus 10 s;
set, it must leave at least 5 s above the grace.
*/}}
{{- define "disconnectbot.terminationGracePeriodSeconds" -}}
{{- $grace := include "disconnectbot.graceSeconds" . | atoi }}
{{- $margin := 5 }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $grace 10 }}
{{- else }}
{{- $t := .Values.terminationGracePeriodSeconds | int }}
{{- if lt $t (add $grace $margin | int) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least %d s above config.shutdown.grace (%s): the bot uses all of the grace to finish in-flight disconnects and post their outcomes before it exits; set terminationGracePeriodSeconds to %d or more, or lower config.shutdown.grace" $t $margin (.Values.config.shutdown.grace | toString) (add $grace $margin)) }}
{{- end }}
{{- $t }}
{{- end }}
{{- end }}
