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
A container securityContext: the restricted default above with the user's map merged into it.
A key the user sets replaces the default's, except maps (capabilities, seccompProfile), which
are merged key by key; a key set to null is left out. privileged: true drops the default
allowPrivilegeEscalation: false unless the user sets it (the API server refuses the pair).
Usage: include "tsop.securityContext" .Values.operatorConfig.securityContext
*/}}
{{- define "tsop.securityContext" -}}
{{- $user := . | default dict -}}
{{- $out := include "tsop.restrictedSecurityContext" . | fromYaml -}}
{{- range $k, $v := $user -}}
{{- if kindIs "invalid" $v -}}
{{- $_ := unset $out $k -}}
{{- else if and (kindIs "map" $v) (kindIs "map" (index $out $k)) -}}
{{- $inner := index $out $k -}}
{{- range $k2, $v2 := $v -}}
{{- if kindIs "invalid" $v2 -}}
{{- $_ := unset $inner $k2 -}}
{{- else -}}
{{- $_ := set $inner $k2 $v2 -}}
{{- end -}}
{{- end -}}
{{- else -}}
{{- $_ := set $out $k $v -}}
{{- end -}}
{{- end -}}
{{- if and (eq (toString (index $out "privileged")) "true") (not (hasKey $user "allowPrivilegeEscalation")) -}}
{{- $_ := unset $out "allowPrivilegeEscalation" -}}
{{- end -}}
{{- toYaml $out -}}
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
{{- /* Only this chart's own keys ([tailops] in values.yaml) can fail the rendering. */ -}}
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
{{- end -}}
{{- /*
No check fails on values of the official chart's keys: whatever the official chart renders renders
here too (a client ID without a secret, a secret without an ID, an audience with a secret, ...).
Such combinations are explained in the NOTES (tsop.officialValueWarnings) instead.
*/ -}}
{{- if lt (int .Values.operatorConfig.replicas) 1 -}}
{{- fail "operatorConfig.replicas must be at least 1" -}}
{{- end -}}
{{- end }}

{{/*
Warnings about values of the official chart's keys that the official chart renders without a word
but that do not do what they seem to (or that this chart handles differently). One line each;
shown in the NOTES. The operator logs the same at start where they reach it.
*/}}
{{- define "tsop.officialValueWarnings" -}}
{{- $w := list -}}
{{- $logging := toString .Values.operatorConfig.logging -}}
{{- if not (has $logging (list "info" "debug" "dev" "warn" "error")) -}}
{{- $w = append $w (printf "operatorConfig.logging is %q, which is not info, debug or dev (or warn/error, ours): the operator logs at info, as the official operator does for a value it does not know." $logging) -}}
{{- end -}}
{{- $login := toString (.Values.loginServer | default "") -}}
{{- if and $login (not (regexMatch "^https?://" $login)) -}}
{{- $w = append $w (printf "loginServer %q has no scheme: the operator uses https://%s (the official operator would fail to reach it). Write the full URL to silence this warning." $login (trimSuffix "/" $login)) -}}
{{- end -}}
{{- if kindIs "string" .Values.installCRDs -}}
{{- if has (lower .Values.installCRDs) (list "false" "no" "0" "off") -}}
{{- $w = append $w (printf "installCRDs is the string %q, which Helm (here and in the official chart) treats as true: the CRDs are installed. Write installCRDs: false (no quotes) to leave them out." .Values.installCRDs) -}}
{{- end -}}
{{- end -}}
{{- $fw := toString (.Values.proxyConfig.firewallMode | default "") -}}
{{- if and $fw (not (has $fw (list "auto" "iptables" "nftables"))) -}}
{{- $w = append $w (printf "proxyConfig.firewallMode is %q, which is not auto, iptables or nftables: every Service and Ingress proxy is refused with InvalidConfig until it is fixed (as with the official operator)." $fw) -}}
{{- end -}}
{{- if eq (include "tsop.oauthMode" .) "secret" -}}
{{- if and .Values.oauth.clientId (not .Values.oauth.clientSecret) (not .Values.oauth.existingSecret) -}}
{{- $w = append $w "oauth.clientId is set but oauth.clientSecret is empty: the chart renders operator-oauth with an empty client_secret (as the official chart does), so the operator has no working credentials. Set oauth.clientSecret too, or unset oauth.clientId and create operator-oauth yourself." -}}
{{- end -}}
{{- if and .Values.oauth.clientSecret (not .Values.oauth.clientId) -}}
{{- $w = append $w "oauth.clientSecret is set but oauth.clientId is empty: the chart renders no operator-oauth Secret (as the official chart does) and the secret is not used. Set oauth.clientId too, or create operator-oauth yourself." -}}
{{- end -}}
{{- end -}}
{{- if and .Values.oauth.audience .Values.oauth.clientSecret (empty .Values.oauthSecretVolume) -}}
{{- $w = append $w "oauth.audience and oauth.clientSecret are both set: as in the official chart, oauth.audience wins and oauth.clientSecret is not used." -}}
{{- end -}}
{{- if not (toString .Values.operatorConfig.hostname) -}}
{{- $w = append $w "operatorConfig.hostname is empty: the operator's device is called tailscale-operator." -}}
{{- end -}}
{{- if not (toString .Values.ingressClass.name) -}}
{{- $w = append $w "ingressClass.name is empty: the API server refuses an IngressClass without a name (the official chart renders it the same way). Set ingressClass.name, or ingressClass.enabled: false." -}}
{{- end -}}
{{- range $w }}
{{ . }}
{{- end -}}
{{- end }}
