{{/* The chart's name. */}}
{{- define "coffer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every object's name: the release name, plus the chart's unless it holds it. */}}
{{- define "coffer.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "coffer.nodes" -}}{{ include "coffer.fullname" . }}-node{{- end }}
{{- define "coffer.headless" -}}{{ include "coffer.fullname" . }}-node-headless{{- end }}
{{- define "coffer.gateways" -}}{{ include "coffer.fullname" . }}-gateway{{- end }}
{{- define "coffer.secretName" -}}{{ default (printf "%s-auth" (include "coffer.fullname" .)) .Values.auth.existingSecret }}{{- end }}

{{/* The headless Service's DNS name, and node 0's. */}}
{{- define "coffer.headlessHost" -}}
{{ include "coffer.headless" . }}.{{ .Release.Namespace }}.svc.{{ .Values.clusterDomain }}
{{- end }}

{{/* What every node joins through: node 0 first (the only one that may bootstrap), then the
headless Service's name, which resolves to every node (publishNotReadyAddresses). */}}
{{- define "coffer.joinList" -}}
{{ include "coffer.nodes" . }}-0.{{ include "coffer.headlessHost" . }}:{{ .Values.nodes.ports.rpc }},{{ include "coffer.headlessHost" . }}:{{ .Values.nodes.ports.rpc }}
{{- end }}

{{- define "coffer.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "coffer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component (node or gateway). */}}
{{- define "coffer.selector" -}}
app.kubernetes.io/name: {{ include "coffer.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "coffer.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* The erasure profile (k m) a cluster of `nodes` nodes of `drives` drives writes by default
(node/src/erasure: default_profile; a single node spreads over its drives). */}}
{{- define "coffer.profileOf" -}}
{{- $width := int .nodes -}}
{{- if eq $width 1 }}{{ $width = int .drives }}{{ end -}}
{{- if le $width 1 }}1 0{{ else if eq $width 2 }}1 1{{ else if eq $width 3 }}2 1{{ else if eq $width 4 }}2 2{{ else if eq $width 5 }}3 2{{ else }}4 2{{ end -}}
{{- end }}

{{/* The profile of today's node count. */}}
{{- define "coffer.profile" -}}
{{ include "coffer.profileOf" (dict "nodes" .Values.nodes.replicas "drives" .Values.nodes.drives.count) }}
{{- end }}

{{/* The smallest node count the cluster may have had: objects keep the profile of the size
they were written at (nothing is re-encoded when the cluster grows). */}}
{{- define "coffer.firstReplicas" -}}
{{- $n := int .Values.nodes.replicas -}}
{{- if ne (toString .Values.nodes.firstReplicas) "" }}{{ min (int .Values.nodes.firstReplicas) $n }}{{ else }}{{ min 3 $n }}{{ end -}}
{{- end }}

{{/* How many nodes may be down at once with every object still readable and Raft still having
a quorum: for the profile of every size from firstReplicas to replicas, m over the shards one
of today's nodes may hold of such an object; and (voters - 1) / 2. */}}
{{- define "coffer.nodesSurvived" -}}
{{- $n := int .Values.nodes.replicas -}}
{{- $data := 1000 -}}
{{- range $size := untilStep (int (include "coffer.firstReplicas" $)) (add $n 1 | int) 1 -}}
{{- $p := splitList " " (include "coffer.profileOf" (dict "nodes" $size "drives" $.Values.nodes.drives.count)) -}}
{{- $k := atoi (index $p 0) -}}
{{- $m := atoi (index $p 1) -}}
{{- $perNode := div (add $k $m $n -1) $n -}}
{{- $data = min $data (div $m (max $perNode 1)) -}}
{{- end -}}
{{- $voters := 5 -}}
{{- if le $n 2 }}{{ $voters = 1 }}{{ else if le $n 4 }}{{ $voters = 3 }}{{ end -}}
{{- $raft := div (sub $voters 1) 2 -}}
{{- min $data $raft -}}
{{- end }}

{{/* A checksum of the configuration file: pods roll when it changes. */}}
{{- define "coffer.configChecksum" -}}
{{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- end }}

{{/* The environment every pod gets: the cluster secret and root credentials from the Secret. */}}
{{- define "coffer.secretEnv" -}}
- name: COFFER_CLUSTER_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "coffer.secretName" . }}
      key: {{ .Values.auth.clusterSecretKey }}
{{- end }}
