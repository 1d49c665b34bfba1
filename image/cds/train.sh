#!/usr/bin/env bash
# Makes the operator's AOT cache (JDK 25, JEP 483/514/515): runs the image's own entrypoint (image/run-image.sh:
# the image's JVM, class path and flags, read-only root, user 65532) with -XX:AOTCacheOutput, through the start-up
# path and a first reconcile; at exit the JVM writes the cache (the JDK's and the operator's classes loaded, parsed,
# verified and linked, and method profiles). The cache is only valid for exactly this base image (JVM build), these
# jars (path, size, modification time) and these flags, which is why tools/build-image.sh makes it from the image it
# just built and adds it as one more layer.
#
#   image/cds/train.sh TARBALL OUT.aot
#
# Workload, best available:
#   cluster  a real kube-apiserver + etcd (test kit, binaries from tools/build-binaries.sh), the fake Tailscale
#            API and 10 exposed Services (image/cluster/ClusterHarness.java); the operator starts, reconciles
#            them and is stopped with SIGTERM 8 s after "operator started".
#   offline  when the API server binaries are not built: in-cluster settings pointing at a closed port, so the
#            operator loads its client, framework and metrics classes and fails to connect; stopped after 10 s.
# Leader election is off in both, because stopping a leader on SIGTERM currently never exits (see docs/image.md).
# Root is needed (run-image.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tarball="$(readlink -f "$1")"; out="$2"
log() { echo "cds-train: $*" >&2; }

work="$(mktemp -d)"; chmod 755 "$work"
source "$here/../cluster/harness.sh"
trap 'harness_stop; rm -rf "$work"' EXIT
mkdir -p "$work/cds"; chmod 777 "$work/cds"

mode=offline
if [[ "${CDS_WORKLOAD:-cluster}" == cluster ]]; then
  log "starting the cluster harness (kube-apiserver, etcd, fake Tailscale API)"
  if harness_start "$work/h" 10; then mode=cluster; else log "no cluster: offline workload"; fi
fi

# One step (JEP 514): the training run records, and at exit a child JVM assembles the cache into /cds. The image must
# not name a cache of its own yet (tools/build-image.sh trains on the image built without -Dtsop.image.cds).
args=(--java-opt "-XX:AOTCacheOutput=/cds/operator.aot" -v "$work/cds:/cds" -e OPERATOR_LEADER_ELECTION=false)
if [[ $mode == cluster ]]; then
  harness_args "$work/h"
  args+=("${HARNESS_ARGS[@]}" -e OPERATOR_LEADER_ELECTION=false)
  log "training run (cluster): start, reconcile 10 Services, SIGTERM 8 s after 'operator started'"
  TSOP_TIME=1 TSOP_TIME_UNTIL="operator started" TSOP_TIME_STOP=8 \
    timeout -s KILL 120 "$repo/image/run-image.sh" "${args[@]}" "$tarball" > "$work/train.log" 2>&1 || true
else
  printf 'x' > "$work/id"; printf 'x' > "$work/secret"; mkdir -p "$work/sa"
  printf 'tailscale' > "$work/sa/namespace"; printf 'x' > "$work/sa/token"; : > "$work/sa/ca.crt"
  # A free HTTP port, not the default 8080: the image runs in this machine's network namespace.
  http_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  args+=(-e OPERATOR_HTTP_PORT="$http_port")
  args+=(-e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT=9 -e OPERATOR_NAMESPACE=tailscale
         -e CLIENT_ID_FILE=/config/id -e CLIENT_SECRET_FILE=/config/secret -v "$work:/config:ro"
         -v "$work/sa:/var/run/secrets/kubernetes.io/serviceaccount:ro")
  log "training run (offline): in-cluster settings, unreachable API server, SIGTERM after 10 s"
  TSOP_TIME=1 timeout -s TERM 10 "$repo/image/run-image.sh" "${args[@]}" "$tarball" > "$work/train.log" 2>&1 || true
fi
grep '^TIME' "$work/train.log" >&2 || true
if [[ ! -s "$work/cds/operator.aot" ]]; then
  log "no AOT cache was written; the training run's output:"; tail -20 "$work/train.log" >&2; exit 1
fi
mkdir -p "$(dirname "$out")"
cp "$work/cds/operator.aot" "$out"
echo "$mode" > "$out.workload"
log "AOT cache $(du -h "$out" | cut -f1) ($mode workload)"
