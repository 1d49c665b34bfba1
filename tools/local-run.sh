#!/usr/bin/env bash
# The README's run command: the operator end to end on this machine (see local/).
# Builds the Go binaries (once: kube-apiserver, etcd, kube-controller-manager, headscale, containerboot, tailscaled,
# tailscale) and the project, then runs io.tailops.local.LocalRun. Arguments are passed on, e.g.
#   bash tools/local-run.sh                      # real tailnet: headscale + real proxies + a tailnet client (root)
#   bash tools/local-run.sh --exit-when-ready    # print the table and the curls, check them, exit 0/1
#   bash tools/local-run.sh --simulated          # fake Tailscale API + proxy simulator (no root needed)
# The real stack runs kernel-mode Service proxies in network namespaces and adds addresses to a bridge: it needs root
# (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2; without them it says what is missing. Ctrl-C removes everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
env_out=$(bash tools/build-binaries.sh)
eval "$env_out"
./mvnw -q -B --no-transfer-progress install -DskipTests -pl local -am -Dtsop.binaries="$TSOP_BINARIES"
mkdir -p local-run
exec java -XX:+UseSerialGC -Xss512k -cp "local/target/classes:$(cat local/target/classpath.txt)" \
  io.tailops.local.LocalRun "$@"
