{{/* Names, labels and the checks that stop a bad install before anything is created. */}}

{{- define "capstan.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "capstan.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "capstan.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: platform
{{- end -}}

{{- define "capstan.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "capstan.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Namespaces that get a Role and RoleBinding: rbac.namespaces, or the release namespace. */}}
{{- define "capstan.rbacNamespaces" -}}
{{- $list := .Values.rbac.namespaces -}}
{{- if not $list -}}{{- $list = list .Release.Namespace -}}{{- end -}}
{{- toJson (uniq $list) -}}
{{- end -}}

{{- define "capstan.taskNamespace" -}}
{{- default .Release.Namespace .Values.localCluster.namespace -}}
{{- end -}}

{{- define "capstan.postgresqlName" -}}
{{- printf "%s-postgresql" (include "capstan.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "capstan.postgresqlSecret" -}}
{{- default (include "capstan.postgresqlName" .) .Values.postgresql.existingSecret -}}
{{- end -}}

{{/* Values that the schema cannot express: which database, and what production mode requires. */}}
{{- define "capstan.validate" -}}
{{- if and .Values.postgresql.bundled .Values.database.existingSecret -}}
{{- fail "database.existingSecret and postgresql.bundled: choose one database: set postgresql.bundled: false to use the external URL, or leave database.existingSecret empty" -}}
{{- end -}}
{{- if eq .Values.mode "production" -}}
{{- if .Values.postgresql.bundled -}}
{{- fail "postgresql.bundled: production mode needs an external PostgreSQL; set postgresql.bundled: false and database.existingSecret (or mode: trial)" -}}
{{- end -}}
{{- if not .Values.database.existingSecret -}}
{{- fail "database.existingSecret: production mode needs the name of a Secret holding the PostgreSQL URL (key database.secretKey, default url)" -}}
{{- end -}}
{{- else if and (not .Values.postgresql.bundled) (not .Values.database.existingSecret) -}}
{{- fail "database.existingSecret: name the Secret holding the PostgreSQL URL, or set postgresql.bundled: true for a trial" -}}
{{- end -}}
{{- if and .Values.config.pipelinesGit.enabled (not .Values.config.pipelinesGit.url) -}}
{{- fail "config.pipelinesGit.url: pipelines from git are enabled but no repository URL is set" -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) -}}
{{- fail "ingress.host: the ingress is enabled but has no host (e.g. capstan.example.com)" -}}
{{- end -}}
{{- end -}}

{{/* capstan.yaml, rendered from values. */}}
{{- define "capstan.configFile" -}}
# capstan.yaml rendered by the capstan Helm chart from its values; edit the values, not this file.
home: /var/lib/capstan
executor: {{ .Values.config.executor }}
server:
  host: 0.0.0.0
  port: 8080
  trusted_proxies: {{ toJson .Values.config.trustedProxies }}
scheduler:
  sweep_interval: {{ .Values.config.sweepInterval | quote }}
{{- with .Values.config.pools }}
pools:
{{- range $name, $pool := . }}
  {{ $name | quote }}: {{ toJson $pool }}
{{- end }}
{{- end }}
{{- $git := .Values.config.pipelinesGit }}
pipelines:
  folders: []
{{- if $git.enabled }}
  git:
    url: {{ $git.url | quote }}
    branch: {{ $git.branch | quote }}
{{- with $git.path }}
    path: {{ . | quote }}
{{- end }}
    interval: {{ $git.interval | quote }}
{{- if and $git.credentials.team $git.credentials.secret }}
    credentials: {{ toJson $git.credentials }}
{{- end }}
    webhook_secret_env: CAPSTAN_GIT_WEBHOOK_SECRET
{{- end }}
clusters:
  {{ .Values.localCluster.name | quote }}:
    in_cluster: true
    default: true
    namespace: {{ include "capstan.taskNamespace" . | quote }}
    namespaces: {{ include "capstan.rbacNamespaces" . }}
    max_pods: {{ .Values.localCluster.maxPods }}
{{- with .Values.localCluster.taskImage }}
    image: {{ . | quote }}
{{- end }}
{{- range $name, $c := .Values.config.clusters }}
  {{ $name | quote }}:
    kubeconfig: {{ printf "/etc/capstan/clusters/%s/kubeconfig" $name | quote }}
{{- with $c.context }}
    context: {{ . | quote }}
{{- end }}
{{- with $c.namespace }}
    namespace: {{ . | quote }}
{{- end }}
{{- with $c.namespaces }}
    namespaces: {{ toJson . }}
{{- end }}
{{- with $c.image }}
    image: {{ . | quote }}
{{- end }}
{{- with $c.maxPods }}
    max_pods: {{ . }}
{{- end }}
{{- with $c.gpuResource }}
    gpu_resource: {{ . | quote }}
{{- end }}
{{- end }}
{{- $sbx := .Values.config.sandboxes }}
{{- if or .Values.ingress.sandboxHost $sbx.profiles }}
sandboxes:
{{- with .Values.ingress.sandboxHost }}
  origin: {{ printf "%s://{id}.%s" (ternary "https" "http" (ne $.Values.ingress.tlsSecret "")) (trimPrefix "*." .) | quote }}
{{- end }}
{{- with $sbx.defaultProfile }}
  default_profile: {{ . | quote }}
{{- end }}
{{- with $sbx.profiles }}
  profiles:
{{- range $name, $p := . }}
    {{ $name }}:
      backend: kubernetes
      cluster: {{ default $.Values.localCluster.name $p.cluster | quote }}
{{- range $key, $field := dict "description" "description" "image" "image" "namespace" "namespace" "idleTimeout" "idle_timeout" }}
{{- with index $p $key }}
      {{ $field }}: {{ . | quote }}
{{- end }}
{{- end }}
{{- with $p.cpu }}
      cpu: {{ toJson . }}
{{- end }}
{{- with $p.memory }}
      memory: {{ toJson . }}
{{- end }}
{{- if hasKey $p "gpu" }}
      gpu: {{ $p.gpu }}
{{- end }}
{{- with $p.volumes }}
      volumes: {{ toJson . }}
{{- end }}
{{- end }}
{{- end }}
{{- with $sbx.quotas }}
  quotas:
{{- range $team, $quota := . }}
    {{ $team | quote }}: {{ toJson $quota }}
{{- end }}
{{- end }}
  kubernetes:
{{- with $sbx.homeStorageClass }}
    home_storage_class: {{ . | quote }}
{{- end }}
{{- with $sbx.homeSize }}
    home_size: {{ . | quote }}
{{- end }}
    capstan_pod_labels: { app.kubernetes.io/name: {{ .Chart.Name }}, app.kubernetes.io/instance: {{ .Release.Name | quote }} }
    capstan_namespace_labels: { kubernetes.io/metadata.name: {{ .Release.Namespace | quote }} }
{{- end }}
{{- with .Values.teamVolumes }}
volumes:
{{- range . }}
  {{ .name }}:
    kind: pvc
    path: {{ printf "/srv/volumes/%s" .name | quote }}
    claim: {{ .claim | quote }}
    team: {{ .team | quote }}
{{- if .readOnly }}
    read_only: true
{{- end }}
{{- with .description }}
    description: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
