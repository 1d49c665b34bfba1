#!/usr/bin/env bash
# The README's run command: the operator end to end on a local embedded environment (see local/).
# Builds the Go binaries (once) and the project, then runs io.tailops.local.LocalRun. Arguments are passed on,
# e.g. `bash tools/local-run.sh --exit-when-ready`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
env_out=$(bash tools/build-binaries.sh)
eval "$env_out"
./mvnw -q -B --no-transfer-progress install -DskipTests -pl local -am -Dtsop.binaries="$TSOP_BINARIES"
mkdir -p local-run
exec java -XX:+UseSerialGC -Xss512k -cp "local/target/classes:$(cat local/target/classpath.txt)" \
  io.tailops.local.LocalRun "$@"
