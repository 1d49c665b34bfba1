#!/usr/bin/env bash
# Measures the image's start-up (docs/image.md, "Measured"): runs the image's own entrypoint with
# image/run-image.sh (read-only root, user 65532) in several JVM variants, RUNS times each, interleaved, and
# prints the median and the minimum wall-clock time and the median CPU time (user + sys) and peak RSS.
#
#   image/measure-startup.sh TARBALL [RUNS]        (default 5 runs; needs root)
#
# Workloads:
#   help      `--help`: JVM start to picocli's usage, exit
#   config    `run` with no settings: JVM start to the "invalid setting" errors, exit 2
#   started   `run` against a real API server + fake Tailscale API (image/cluster/harness.sh): JVM start to the
#             "operator started" log line (informers synced, 10 Services to reconcile), then SIGTERM
#   busy30    the same, but stopped 30 s after "operator started": CPU of start-up plus reconciling
# Variants (JVM flags appended after the image's own): as built (with its AOT cache); without the AOT cache
# (-XX:AOTMode=off; the JDK 25 runtime of the image has no default CDS archive either, so this is also "no CDS");
# full tiered compilation with C2 (-XX:TieredStopAtLevel=4).
# WORKLOADS="help config started busy30" and VARIANTS="built noaot c2" select a subset.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tarball="$(readlink -f "$1")"; runs="${2:-5}"
workloads=(${WORKLOADS:-help config started busy30})
variants=(${VARIANTS:-built noaot c2})
source "$here/cluster/harness.sh"
work="$(mktemp -d)"; chmod 755 "$work"
trap 'harness_stop; rm -rf "$work"' EXIT

flags() {
  case "$1" in
    built) ;;
    noaot) echo "--java-opt -XX:AOTMode=off" ;;
    c2) echo "--java-opt -XX:TieredStopAtLevel=4" ;;
  esac
}

need_cluster=0
for w in "${workloads[@]}"; do [[ $w == started || $w == busy30 ]] && need_cluster=1; done
if [[ $need_cluster == 1 ]]; then
  if harness_start "$work/h" 10; then harness_args "$work/h"
  else echo "measure: no cluster; skipping started/busy30" >&2
    workloads=($(printf '%s\n' "${workloads[@]}" | grep -v -e started -e busy30)); fi
fi

one() {  # workload variant -> "wall_ms cpu_s rss_mib"
  local w="$1" v="$2" out
  case "$w" in
    help) out="$(TSOP_TIME=1 "$here/run-image.sh" $(flags "$v") "$tarball" --help 2>&1 >/dev/null)" ;;
    config) out="$(TSOP_TIME=1 "$here/run-image.sh" $(flags "$v") "$tarball" 2>&1 >/dev/null)" ;;
    started|busy30)
      local stop=0; [[ $w == busy30 ]] && stop=30
      out="$(TSOP_TIME=1 TSOP_TIME_UNTIL="operator started" TSOP_TIME_STOP=$stop timeout -s KILL 120 \
        "$here/run-image.sh" "${HARNESS_ARGS[@]}" -e OPERATOR_LEADER_ELECTION=false $(flags "$v") "$tarball" 2>&1 >/dev/null)" ;;
  esac
  python3 - "$w" "$out" <<'EOF'
import re, sys
w, out = sys.argv[1], sys.argv[2]
until = re.search(r"TIME until /.*?/: (\d+) ms", out)
ex = re.search(r"TIME to exit: (\d+) ms .*cpu user ([\d.]+) s sys ([\d.]+) s, max rss (\d+) MiB", out)
wall = until.group(1) if (w == "started" and until) else (ex.group(1) if ex else "nan")
print(wall, float(ex.group(2)) + float(ex.group(3)) if ex else "nan", ex.group(4) if ex else "nan")
EOF
}

declare -A res
for ((i = 1; i <= runs; i++)); do
  for w in "${workloads[@]}"; do
    for v in "${variants[@]}"; do
      res[$w,$v]+="$(one "$w" "$v");"
    done
  done
  echo "measure: round $i/$runs done" >&2
done

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
printf '%-8s %-9s %12s %10s %12s %10s\n' workload variant "median ms" "min ms" "median cpu s" "rss MiB"
for w in "${workloads[@]}"; do
  for v in "${variants[@]}"; do
    python3 - "$w" "$v" "${res[$w,$v]}" <<'EOF'
import statistics, sys
w, v, data = sys.argv[1], sys.argv[2], [r.split() for r in sys.argv[3].split(";") if r.strip()]
wall = [float(r[0]) for r in data if r[0] != "nan"]; cpu = [float(r[1]) for r in data if r[1] != "nan"]
rss = [float(r[2]) for r in data if r[2] != "nan"]
f = lambda xs, g: ("%.0f" % g(xs)) if xs else "-"
print("%-8s %-9s %12s %10s %12s %10s" % (w, v, f(wall, statistics.median), f(wall, min),
      ("%.2f" % statistics.median(cpu)) if cpu else "-", f(rss, statistics.median)))
EOF
  done
done
