#!/usr/bin/env bash
# The benchmark (docs/benchmarks/README.md): N exposed Services against a real API server, the fake tailnet and the
# proxy simulator. Builds what it needs, then runs io.tailops.bench.Benchmark; arguments are passed on, e.g.
#   bash tools/benchmark.sh --services 100,1000
#   bash tools/benchmark.sh --services 1000 --jvm-variants image,default,image-512Mi,tuned --unrelated-services 1000
#   bash tools/benchmark.sh --help
# Results: docs/benchmarks/results-<date>-n<N>.json (+ .csv per Service); the summary table is printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
env_out=$(bash tools/build-binaries.sh)
eval "$env_out"
# This repository's modules are installed into a private local repository in front of the shared one (read-only
# tail): work trees share ~/.m2, where an installed SNAPSHOT would leak into other branches' builds.
m2=(-Dmaven.repo.local="$PWD/benchmarks/target/m2" -Dmaven.repo.local.tail="$HOME/.m2/repository")
./mvnw -q -B --no-transfer-progress install -DskipTests -pl benchmarks -am -Dtsop.binaries="$TSOP_BINARIES" "${m2[@]}"
# The operator's own runtime class path, for running it as a separate JVM (as in a pod): its jar and its dependencies.
./mvnw -q -B --no-transfer-progress dependency:build-classpath -pl operator "${m2[@]}" -Dmdep.includeScope=runtime \
  -Dmdep.outputFile="$PWD/benchmarks/target/operator-deps.txt"
# Private copies of this repository's jars: a build in the same work tree during a long run must not swap classes
# under the running JVMs.
lib=benchmarks/target/bench-lib
rm -rf "$lib" && mkdir -p "$lib" benchmarks/target/bench-work
snapshot() { # class path -> the same class path with the repository's module jars/classes copied into $lib
  local out=() entry base
  IFS=: read -r -a entries <<<"$1"
  for entry in "${entries[@]}"; do
    case "$entry" in
      "$PWD"/*/target/*.jar | "$HOME"/.m2/repository/io/tailops/* | "$PWD"/benchmarks/target/m2/io/tailops/*)
        base=$(basename "$entry"); cp -f "$entry" "$lib/$base"; out+=("$PWD/$lib/$base") ;;
      "$PWD"/*/target/classes)
        base=$(basename "$(dirname "$(dirname "$entry")")")-classes; cp -rf "$entry" "$lib/$base"; out+=("$PWD/$lib/$base") ;;
      *) out+=("$entry") ;;
    esac
  done
  (IFS=:; printf '%s\n' "${out[*]}")
}
snapshot "$PWD/operator/target/tailscale-operator-0.1.0-SNAPSHOT.jar:$(cat benchmarks/target/operator-deps.txt)" \
  >benchmarks/target/operator-classpath.txt
bench_cp=$(snapshot "$PWD/benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)")
# BENCH_JAVA_OPTS: extra flags of the benchmark JVM, e.g. -Dtsop.sim.threads=1 (the simulator's old single thread).
# shellcheck disable=SC2086
exec java -XX:+UseSerialGC -Xss512k -Xmx4g ${BENCH_JAVA_OPTS:-} -cp "$bench_cp" \
  io.tailops.bench.Benchmark --operator-classpath benchmarks/target/operator-classpath.txt "$@"
