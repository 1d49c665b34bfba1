#!/usr/bin/env bash
# Extracts the OpenAPI schemas of the Kubernetes types that the CRD model uses (Affinity, Toleration,
# ResourceRequirements, ... and metav1.Condition, with everything they refer to) from the OpenAPI v3
# document of Kubernetes' core/v1 API, into
#   api/src/test/resources/io/tailops/api/crdgen/kubernetes-core-v1-openapi.json
# The CRD generator (api/src/test/java/io/tailops/api/crdgen) builds the schema of every field of such a type from
# this file, as controller-gen does from the Go types for the official CRDs.
#
# The source is k8s.io/kubernetes/api/openapi-spec/v3/api__v1_openapi.json (Apache License 2.0) of the Kubernetes
# release pinned in tools/testbin/k8s/go.mod, from the Go module cache (downloaded with `go mod download` when
# missing). Run it after changing that version, or when the generator says a definition is missing (add the type
# to ROOTS below). Needs go and jq.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/api/src/test/resources/io/tailops/api/crdgen/kubernetes-core-v1-openapi.json"
ROOTS=(
  io.k8s.api.core.v1.Affinity
  io.k8s.api.core.v1.LocalObjectReference
  io.k8s.api.core.v1.PodDNSConfig
  io.k8s.api.core.v1.PodSecurityContext
  io.k8s.api.core.v1.ResourceRequirements
  io.k8s.api.core.v1.SecurityContext
  io.k8s.api.core.v1.Toleration
  io.k8s.api.core.v1.TopologySpreadConstraint
  io.k8s.apimachinery.pkg.apis.meta.v1.Condition
)

version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$ROOT/tools/testbin/k8s/go.mod")
[ -n "$version" ] || { echo "kubernetes-schemas: no k8s.io/kubernetes version in tools/testbin/k8s/go.mod" >&2; exit 1; }
dir=$(cd "$ROOT/tools/testbin/k8s" && go mod download -json "k8s.io/kubernetes@$version" | jq -r .Dir)
src="$dir/api/openapi-spec/v3/api__v1_openapi.json"
[ -f "$src" ] || { echo "kubernetes-schemas: $src not found" >&2; exit 1; }

# The definitions reachable from ROOTS through $ref.
names=$(printf '%s\n' "${ROOTS[@]}" | jq -R . | jq -s .)
while :; do
  next=$(jq --argjson names "$names" '
      .components.schemas as $s
      | ($names + [$names[] as $n | $s[$n] | .. | objects | .["$ref"]? // empty | sub("^#/components/schemas/"; "")])
      | unique' "$src")
  [ "$next" = "$names" ] && break
  names=$next
done

jq --argjson names "$names" --arg version "$version" '
  {
    info: {
      title: "Kubernetes \($version) core/v1 OpenAPI schemas used by the tailscale.com CRD model",
      "x-source": "k8s.io/kubernetes@\($version)/api/openapi-spec/v3/api__v1_openapi.json, extracted by api/kubernetes-schemas.sh",
      "x-license": "Apache-2.0 (The Kubernetes Authors)"
    },
    components: { schemas: (.components.schemas as $s | reduce $names[] as $n ({}; .[$n] = $s[$n])) }
  }' "$src" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "kubernetes-schemas: wrote $(jq '.components.schemas | length' "$OUT") definitions from Kubernetes $version to $OUT"
