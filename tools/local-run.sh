#!/usr/bin/env bash
# The README's run command: the operator end to end on this machine (see local/).
# Builds the Go binaries (once: kube-apiserver, etcd, kube-controller-manager, headscale, containerboot, tailscaled,
# tailscale) and the project, then runs io.tailops.local.LocalRun. Arguments are passed on, e.g.
#   bash tools/local-run.sh                      # real tailnet: headscale + real proxies + a tailnet client (root)
#   bash tools/local-run.sh --exit-when-ready    # print the table and the curls, check them, exit 0/1
#   bash tools/local-run.sh --simulated          # fake Tailscale API + proxy simulator (no root needed)
# The real stack runs kernel-mode Service proxies in network namespaces and adds addresses to a bridge: it needs root
# (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2; without them it says what is missing. Ctrl-C removes everything.
# The operator runs in this JVM on the image's runtime (Java 25 with compact object headers, docs/image.md): the JDK
# in JAVA25_HOME, else /usr/lib/jvm/temurin-25-jdk-amd64 or Debian's openjdk-25; without one, the `java` on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
env_out=$(bash tools/build-binaries.sh)
eval "$env_out"
# Package without installing (~/.m2 is shared by every work tree here): the reactor's own jars go on the class path.
./mvnw -q -B --no-transfer-progress package -DskipTests -pl local -am -Dtsop.binaries="$TSOP_BINARIES"
mkdir -p local-run
java=java
flags=(-XX:+UseSerialGC -Xss512k)
for home in "${JAVA25_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-*; do
  if [[ -n "$home" && -x "$home/bin/java" ]]; then
    java="$home/bin/java"; flags+=(-XX:+UseCompactObjectHeaders); break
  fi
done
[[ "$java" != java ]] || echo "local-run: no Java 25 found; running on $(java -version 2>&1 | sed -n 1p)" >&2
exec "$java" "${flags[@]}" -cp "local/target/classes:$(cat local/target/classpath.txt)" \
  io.tailops.local.LocalRun "$@"
