#!/usr/bin/env bash
# The benchmark (docs/benchmarks/README.md): N exposed Services against a real API server, the control-plane stand-in
# and the proxy simulator. Builds what it needs, then runs io.tailops.bench.Benchmark; arguments are passed on, e.g.
#   bash tools/benchmark.sh --services 100,1000 --baseline official                 # ours (image runtime) vs official
#   bash tools/benchmark.sh --services 100 --runtimes jdk25,jdk17 --baseline official
#   bash tools/benchmark.sh --help
# Results: docs/benchmarks/results-<date>-n<N>.json (+ .csv per Service and variant); the tables are printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

groups=k8s,tailscale,headscale
official=0
for a in "$@"; do
  case "$a" in official | --baseline=official) official=1 ;; esac
done
[[ $official == 1 ]] && groups+=,k8s-operator
env_out=$(bash tools/build-binaries.sh --only "$groups")
eval "$env_out"

# Build without installing (~/.m2 is shared by every work tree on this machine): the reactor packages the benchmarks
# module and the modules it needs (-am) from this work tree, and writes every module's runtime class path with the
# reactor's own jars (target/runtime-classpath.txt), never the copies of this project that ~/.m2 may hold.
./mvnw -q -B --no-transfer-progress package dependency:build-classpath -DskipTests -pl benchmarks -am \
  -Dmdep.includeScope=runtime -Dmdep.outputFile=target/runtime-classpath.txt -Dtsop.binaries="$TSOP_BINARIES"

# Private copies of this repository's jars: a build in the same work tree during a long run must not swap classes
# under the running JVMs (and a trained AppCDS archive or AOT cache is only valid for the jars it was made with).
lib=benchmarks/target/bench-lib
rm -rf "$lib" && mkdir -p "$lib" benchmarks/target/bench-work
snapshot() { # class path -> the same class path with the repository's module jars/classes copied into $lib
  local out=() entry base
  IFS=: read -r -a entries <<<"$1"
  for entry in "${entries[@]}"; do
    case "$entry" in
      "$PWD"/*/target/*.jar)
        base=$(basename "$entry"); cp -f "$entry" "$lib/$base"; out+=("$PWD/$lib/$base") ;;
      "$PWD"/*/target/classes)
        base=$(basename "$(dirname "$(dirname "$entry")")")-classes; cp -rf "$entry" "$lib/$base"; out+=("$PWD/$lib/$base") ;;
      "$HOME"/.m2/repository/io/tailops/*)
        echo "benchmark.sh: $entry comes from ~/.m2, not from this work tree" >&2; exit 1 ;;
      *) out+=("$entry") ;;
    esac
  done
  (IFS=:; printf '%s\n' "${out[*]}")
}
# The operator's own runtime class path, for running it as a separate process (as in a pod): its jar and its
# dependencies.
snapshot "$PWD/operator/target/tailscale-operator-0.1.0-SNAPSHOT.jar:$(cat operator/target/runtime-classpath.txt)" \
  >benchmarks/target/operator-classpath.txt
bench_cp=$(snapshot "$PWD/benchmarks/target/classes:$(cat benchmarks/target/runtime-classpath.txt)")

extra=()
if [[ $official == 1 ]]; then
  # The official CRDs of the same release, from the Go module cache (the build above downloaded the module).
  version=$(sed -n -E 's/^[[:space:]]*(require[[:space:]]+)?tailscale\.com[[:space:]]+v([0-9.]+)[[:space:]]*$/\2/p' \
    tools/k8s-operator/go.mod | sed -n 1p)
  module_dir=$(cd tools/k8s-operator && go mod download -json "tailscale.com@v${version}" |
    sed -n -E 's/^[[:space:]]*"Dir":[[:space:]]*"(.*)",?$/\1/p')
  extra+=(--official-crds "${module_dir}/cmd/k8s-operator/deploy/crds")
fi

# BENCH_JAVA_OPTS: extra flags of the benchmark JVM, e.g. -Dtsop.sim.threads=1 (the simulator's old single thread).
# shellcheck disable=SC2086
exec java -XX:+UseSerialGC -Xss512k -Xmx4g ${BENCH_JAVA_OPTS:-} -cp "$bench_cp" \
  io.tailops.bench.Benchmark --operator-classpath benchmarks/target/operator-classpath.txt "${extra[@]}" "$@"
