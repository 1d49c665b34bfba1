# Sourced by image/cds/train.sh and image/measure-startup.sh: starts image/cluster/ClusterHarness.java (real
# kube-apiserver + etcd, fake Tailscale API, proxy simulator, N exposed Services) in the background.
#   harness_start WORK_DIR [SERVICES]   returns 0 when the cluster is ready; sets HARNESS_PID
#   harness_args WORK_DIR               fills the array HARNESS_ARGS with run-image.sh options (env, mounts)
#                                       that make the image run as a pod of that cluster (in-cluster config)
#   harness_stop
# Needs the API server binaries (tools/build-binaries.sh) and the test kit built (target/ of testkit and api).
HARNESS_PID=""
harness_start() {
  local work="$1" services="${2:-10}" repo binaries cp
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  binaries="${TSOP_BINARIES:-$HOME/.cache/tailscale-operator}"
  ls "$binaries"/k8s/*/kube-apiserver >/dev/null 2>&1 || { echo "harness: no kube-apiserver under $binaries/k8s (tools/build-binaries.sh)" >&2; return 1; }
  ls "$repo"/testkit/target/tailscale-operator-testkit-*.jar "$repo"/api/target/tailscale-operator-api-*.jar >/dev/null 2>&1 \
    || { echo "harness: testkit/api not built" >&2; return 1; }
  mkdir -p "$work"
  # compile with -am, so that the reactor resolves this work tree's own modules (~/.m2 need not hold them: nothing is
  # installed there); testkit comes last in the reactor, so its class path is the one left in the file.
  (cd "$repo" && ./mvnw -o -q -B -pl testkit -am compile dependency:build-classpath -Dmdep.includeScope=runtime \
      -Dmdep.outputFile="$work/cp.txt" >&2) || return 1
  # sed -n 1p, not head -1: the callers run with pipefail, where head's early exit can fail the pipeline (SIGPIPE).
  cp="$(ls "$repo"/testkit/target/tailscale-operator-testkit-*.jar | grep -v -- -tests | sed -n 1p)"
  cp="$cp:$(ls "$repo"/api/target/tailscale-operator-api-*.jar | sed -n 1p)"
  cp="$cp:$(tr ':' '\n' < "$work/cp.txt" | grep -v /io/tailops/ | paste -sd:)"
  java -XX:+UseSerialGC -cp "$cp" "$repo/image/cluster/ClusterHarness.java" "$work/config" "$services" \
    > "$work/harness.log" 2>&1 &
  HARNESS_PID=$!
  for _ in $(seq 1 120); do
    grep -q '^READY' "$work/harness.log" 2>/dev/null && return 0
    kill -0 "$HARNESS_PID" 2>/dev/null || break
    sleep 1
  done
  echo "harness: did not start:" >&2; tail -5 "$work/harness.log" >&2
  harness_stop; return 1
}
harness_args() {
  local work="$1" l
  HARNESS_ARGS=()
  while read -r l; do [[ -n "$l" ]] && HARNESS_ARGS+=(-e "$l"); done < "$work/config/env"
  HARNESS_ARGS+=(-v "$work/config:/config:ro" -v "$work/config/serviceaccount:/var/run/secrets/kubernetes.io/serviceaccount:ro")
}
harness_stop() {
  if [[ -n "$HARNESS_PID" ]]; then kill "$HARNESS_PID" 2>/dev/null || true; wait "$HARNESS_PID" 2>/dev/null || true; fi
  HARNESS_PID=""
}
