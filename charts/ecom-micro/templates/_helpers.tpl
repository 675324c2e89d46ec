{{/* Common names and labels. */}}
{{- define "ecom-micro.name" -}}
{{- printf "%s-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ecom-micro.labels" -}}
app.kubernetes.io/name: ecom-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: ecom-micro
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "ecom-micro.selectorLabels" -}}
app.kubernetes.io/name: ecom-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The namespaces the operator watches: the list given, or the release namespace. */}}
{{- define "ecom-micro.watchNamespaces" -}}
{{- if .Values.operator.watchNamespaces -}}
{{- join "," .Values.operator.watchNamespaces -}}
{{- else -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}
