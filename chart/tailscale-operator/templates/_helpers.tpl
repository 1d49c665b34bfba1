{{/*
Labels on every object the chart renders (not on pods: the operator pod carries app: operator
plus operatorConfig.podLabels, as upstream).
*/}}
{{- define "tsop.labels" -}}
app.kubernetes.io/name: tailscale-operator
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
{{- end }}

{{/*
Image reference from an image block {repository, repo, tag, digest}: repo wins over repository
(upstream's coalesce), a digest wins over the tag, the tag falls back to the given default.
Usage: include "tsop.image" (list .Values.operatorConfig.image .Chart.AppVersion)
*/}}
{{- define "tsop.image" -}}
{{- $img := index . 0 -}}
{{- $defaultTag := index . 1 -}}
{{- $repo := coalesce $img.repo $img.repository -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString (default $defaultTag $img.tag)) -}}
{{- end -}}
{{- end }}

{{- define "tsop.operatorImage" -}}
{{- include "tsop.image" (list .Values.operatorConfig.image .Chart.AppVersion) -}}
{{- end }}

{{/* The proxy image. Its tag default lives in values.yaml (a Tailscale release). */}}
{{- define "tsop.proxyImage" -}}
{{- include "tsop.image" (list .Values.proxyConfig.image "v1.94.2") -}}
{{- end }}

{{/* A list of tags, or a string of comma-separated tags, as one comma-separated string. */}}
{{- define "tsop.tags" -}}
{{- if kindIs "slice" . -}}
{{- join "," . -}}
{{- else -}}
{{- toString (default "" .) -}}
{{- end -}}
{{- end }}

{{/*
How the operator gets its credentials: "volume" (oauthSecretVolume), "wif" (oauth.audience),
"secret" (operator-oauth or oauth.existingSecret) or "none" (controlPlane headscale).
*/}}
{{- define "tsop.oauthMode" -}}
{{- if eq (toString .Values.controlPlane) "headscale" -}}
none
{{- else if .Values.oauthSecretVolume -}}
volume
{{- else if .Values.oauth.audience -}}
wif
{{- else -}}
secret
{{- end -}}
{{- end }}

{{/* Name of the Secret mounted at /oauth in "secret" mode. */}}
{{- define "tsop.oauthSecretName" -}}
{{- default "operator-oauth" .Values.oauth.existingSecret -}}
{{- end }}

{{/* Whether the chart renders the operator-oauth Secret ("true" or ""). */}}
{{- define "tsop.rendersOAuthSecret" -}}
{{- if and (eq (include "tsop.oauthMode" .) "secret") .Values.oauth.clientId (not .Values.oauth.existingSecret) -}}
true
{{- end -}}
{{- end }}

{{/* Default container securityContext: passes the "restricted" Pod Security Standard. */}}
{{- define "tsop.restrictedSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Whether a value looks like a placeholder (REPLACE_ME, CHANGEME, <your-client-id>, ...) rather
than a real credential. Returns "true" or "".
*/}}
{{- define "tsop.isPlaceholder" -}}
{{- $v := toString . | trim -}}
{{- if and $v (regexMatch "(?i)(replace[_-]?me|change[_-]?me|placeholder|^todo$|^x{3,}$|^<.*>$|^\\$\\{.*\\}$)" $v) -}}
true
{{- end -}}
{{- end }}

{{/*
Checks that fail the rendering with a message saying what to change. Included once, from the
Deployment template.
*/}}
{{- define "tsop.validate" -}}
{{- $cp := toString .Values.controlPlane -}}
{{- if not (has $cp (list "tailscale" "headscale")) -}}
{{- fail (printf "controlPlane must be \"tailscale\" or \"headscale\", not %q" $cp) -}}
{{- end -}}
{{- if eq $cp "headscale" -}}
{{- if not .Values.loginServer -}}
{{- fail "controlPlane is \"headscale\" but loginServer is empty: set loginServer to the URL of your headscale server (for example --set loginServer=https://headscale.example.com)" -}}
{{- end -}}
{{- if not .Values.headscale.apiKeySecret.name -}}
{{- fail "controlPlane is \"headscale\" but headscale.apiKeySecret.name is empty: create a Secret holding a headscale API key (headscale apikeys create) in the release namespace and set headscale.apiKeySecret.name (and .key, default api-key)" -}}
{{- end -}}
{{- end -}}
{{- if eq (include "tsop.oauthMode" .) "secret" -}}
{{- if and .Values.oauth.existingSecret .Values.oauth.clientSecret -}}
{{- fail "oauth.existingSecret and oauth.clientSecret are both set: either let the chart create operator-oauth from oauth.clientId/oauth.clientSecret, or mount your own Secret with oauth.existingSecret, not both" -}}
{{- end -}}
{{- if and .Values.oauth.clientId (not .Values.oauth.clientSecret) (not .Values.oauth.existingSecret) -}}
{{- fail "oauth.clientId is set but oauth.clientSecret is empty: set both (the chart then creates the operator-oauth Secret), or set neither and create operator-oauth yourself, or use oauth.existingSecret" -}}
{{- end -}}
{{- if and .Values.oauth.clientSecret (not .Values.oauth.clientId) -}}
{{- fail "oauth.clientSecret is set but oauth.clientId is empty: set both, or set neither and create the operator-oauth Secret yourself" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.oauth.audience .Values.oauth.clientSecret (empty .Values.oauthSecretVolume) -}}
{{- fail "oauth.audience (workload identity federation) and oauth.clientSecret are mutually exclusive: unset one of them" -}}
{{- end -}}
{{- if lt (int .Values.operatorConfig.replicas) 1 -}}
{{- fail "operatorConfig.replicas must be at least 1" -}}
{{- end -}}
{{- end }}
