{{/* Labels and the namespaces that get a Role and RoleBinding. */}}
{{- define "capstanCluster.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "capstanCluster.namespaces" -}}
{{- $list := .Values.namespaces -}}
{{- if not $list -}}{{- $list = list .Release.Namespace -}}{{- end -}}
{{- toJson (uniq $list) -}}
{{- end -}}
