{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "sfmc-relay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's resources. */}}
{{- define "sfmc-relay.fullname" -}}
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

{{- define "sfmc-relay.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sfmc-relay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sfmc-relay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sfmc-relay.labels" -}}
helm.sh/chart: {{ include "sfmc-relay.chart" . }}
{{ include "sfmc-relay.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: relay
{{- end }}

{{- define "sfmc-relay.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sfmc-relay.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret whose keys become the container's environment. */}}
{{- define "sfmc-relay.secretName" -}}
{{- default (include "sfmc-relay.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The configuration file: values.config with admin.listen forced. */}}
{{- define "sfmc-relay.configJson" -}}
{{- $config := deepCopy (default (dict) .Values.config) }}
{{- $admin := deepCopy (default (dict) (get $config "admin")) }}
{{- $_ := set $admin "listen" (printf "0.0.0.0:%d" (int .Values.adminPort)) }}
{{- $_ := set $config "admin" $admin }}
{{- if .Values.ens.enabled }}
{{- $ens := deepCopy (default (dict) (get $config "ens")) }}
{{- $_ := set $ens "listen" (printf "0.0.0.0:%d" (int .Values.ens.port)) }}
{{- $_ := set $ens "path" .Values.ens.path }}
{{- $keys := list }}
{{- range .Values.ens.signatureKeyFiles }}
{{- $keys = append $keys (dict "file" .) }}
{{- end }}
{{- $_ := set $ens "signature_keys" $keys }}
{{- $_ := set $config "ens" $ens }}
{{- end }}
{{- toPrettyJson $config }}
{{- end }}

{{/* pipeline.drain_timeout_ms in whole seconds (default 30). */}}
{{- define "sfmc-relay.drainSeconds" -}}
{{- $pipeline := default (dict) (get (default (dict) .Values.config) "pipeline") }}
{{- $ms := 30000 }}
{{- if hasKey $pipeline "drain_timeout_ms" }}
{{- $ms = int64 (get $pipeline "drain_timeout_ms") }}
{{- end }}
{{- div (add $ms 999) 1000 }}
{{- end }}

{{/* terminationGracePeriodSeconds: given (and checked) or drain + 30 s. */}}
{{- define "sfmc-relay.terminationGracePeriodSeconds" -}}
{{- $drain := int64 (include "sfmc-relay.drainSeconds" .) }}
{{- if .Values.terminationGracePeriodSeconds }}
{{- $grace := int64 .Values.terminationGracePeriodSeconds }}
{{- if le $grace $drain }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed pipeline.drain_timeout_ms (%d s), or SIGKILL cuts the drain short" $grace $drain) }}
{{- end }}
{{- $grace }}
{{- else }}
{{- add $drain 30 }}
{{- end }}
{{- end }}

{{/* Fails when both autoscalers are enabled. */}}
{{- define "sfmc-relay.validate" -}}
{{- if and .Values.autoscaling.hpa.enabled .Values.autoscaling.keda.enabled }}
{{- fail "autoscaling.hpa.enabled and autoscaling.keda.enabled are mutually exclusive: KEDA manages an HPA of its own" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.service.enabled) }}
{{- fail "serviceMonitor.enabled needs service.enabled" }}
{{- end }}
{{- $kafka := default (dict) (get (default (dict) .Values.config) "kafka") }}
{{- if not (get $kafka "input_topics") }}
{{- fail "config.kafka.input_topics must list at least one topic" }}
{{- end }}
{{- end }}
