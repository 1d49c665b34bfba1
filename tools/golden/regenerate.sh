#!/usr/bin/env bash
# Regenerates the golden files (docs/golden.md): runs the official Tailscale operator (tailscale.com/cmd/k8s-operator,
# the version pinned in tools/k8s-operator/go.mod) against a real API server on the golden inputs (examples/ and
# integration-tests/golden/inputs/*/), with headscale and the fake Tailscale API behind one login server and the proxy
# simulator playing containerboot, and writes what it made of them, normalised, to integration-tests/golden/expected/.
# Not part of CI (CI only runs the comparison, GoldenCompatibilityIT). Review the diff (git diff) before committing.
#
# Usage:
#   bash tools/golden/regenerate.sh                 # build what is missing (the official operator: a few minutes the
#                                                   # first time), capture, write
#   bash tools/golden/regenerate.sh --timeout 600   # more time for the operator to settle (default 300 s)
#   bash tools/golden/regenerate.sh --out DIR       # write elsewhere (e.g. to compare two captures)
#
# Needs: Go and a JDK 17.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Assign first: `eval "$(...)"` would hide a failed build.
env_out=$(bash tools/build-binaries.sh --only k8s,tailscale,headscale,k8s-operator)
eval "$env_out"

# The official CRDs of the same release, from the Go module cache (the build above downloaded the module).
version=$(sed -n -E 's/^[[:space:]]*(require[[:space:]]+)?tailscale\.com[[:space:]]+v([0-9.]+)[[:space:]]*$/\2/p' \
  tools/k8s-operator/go.mod | sed -n 1p)
[[ -n "$version" ]] || { echo "cannot read the tailscale.com version from tools/k8s-operator/go.mod" >&2; exit 1; }
module_dir=$(cd tools/k8s-operator && go mod download -json "tailscale.com@v${version}" |
  sed -n -E 's/^[[:space:]]*"Dir":[[:space:]]*"(.*)",?$/\1/p')
crds="${module_dir}/cmd/k8s-operator/deploy/crds"
[[ -d "$crds" ]] || { echo "no CRD folder at ${crds}" >&2; exit 1; }

# The capture program lives in the integration tests' test classes (it shares the normalisation with the comparison).
./mvnw -q -B --no-transfer-progress -pl integration-tests -am test-compile dependency:build-classpath \
  -DskipTests -Dmdep.includeScope=test -Dmdep.outputFile=target/golden-classpath.txt \
  -Dtsop.binaries="$TSOP_BINARIES"
cp="integration-tests/target/test-classes:$(cat integration-tests/target/golden-classpath.txt)"
exec java -cp "$cp" -Dtsop.k8s-operator.version="$version" io.tailops.it.golden.RegenerateGolden \
  --crds "$crds" "$@"
