#!/usr/bin/env bash
# Runs an image tarball (docker-archive, e.g. operator/target/jib-image.tar) without a container runtime,
# the way a restricted Kubernetes pod would: the layers unpacked into a root filesystem, mounted read-only,
# an empty writable /tmp (the chart's emptyDir), a private /proc and a minimal /dev, the image's
# environment, working directory and entrypoint, as the image's numeric user (65532), in private mount and
# PID namespaces (the network is the host's, so loopback servers are reachable). For checking and measuring
# the image here; it is not a sandbox. Needs root (for unshare/mount/chroot) and python3.
#
#   image/run-image.sh [options] TARBALL [ARG...]      ARGs replace the image's Cmd (default: run)
#     -e NAME=VALUE      add an environment variable (repeatable)
#     -v HOST:PATH[:ro]  bind-mount a host file or directory (repeatable; PATH must exist in the image or
#                        under /tmp)
#     --java-opt FLAG    add a JVM flag after the image's own (so it wins; repeatable; for experiments)
#     --rootfs DIR       where to unpack (default: /tmp/tsop-rootfs-<image id>; reused if already there)
#     --user UID:GID     run as this user instead of the image's
#     --writable         do not mount the root filesystem read-only
#   TSOP_TIME=1 [TSOP_TIME_UNTIL=REGEX] [TSOP_TIME_STOP=SECONDS]  print the wall-clock time from exec to
#                      the first output line matching REGEX and to the exit, with the CPU time and peak RSS;
#                      TSOP_TIME_STOP: send SIGTERM that many seconds after the match
set -euo pipefail

envs=(); vols=(); jopts=(); rootfs=""; user=""; writable=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -e) envs+=("$2"); shift 2 ;;
    -v) vols+=("$2"); shift 2 ;;
    --java-opt) jopts+=("$2"); shift 2 ;;
    --rootfs) rootfs="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --writable) writable=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "run-image: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { echo "usage: $0 [options] TARBALL [ARG...]" >&2; exit 2; }
tarball="$(readlink -f "$1")"; shift
[[ $(id -u) == 0 ]] || { echo "run-image: needs root (unshare, mount, chroot)" >&2; exit 1; }

# The image's config and layer list.
meta="$(mktemp)"; trap 'rm -f "$meta"' EXIT
python3 - "$tarball" > "$meta" <<'EOF'
import json, sys, tarfile, hashlib
t = tarfile.open(sys.argv[1])
m = json.load(t.extractfile("manifest.json"))[0]
raw = t.extractfile(m["Config"]).read()
c = json.loads(raw)["config"]
print(json.dumps({"id": hashlib.sha256(raw).hexdigest()[:16], "layers": m["Layers"],
                  "entrypoint": c.get("Entrypoint") or [], "cmd": c.get("Cmd") or [],
                  "env": c.get("Env") or [], "user": c.get("User") or "0:0",
                  "workdir": c.get("WorkingDir") or "/"}))
EOF
q() { python3 -c "import json,sys; v=json.load(open('$meta'))$1; print(v if isinstance(v,str) else '\n'.join(v))"; }
id="$(q "['id']")"
rootfs="${rootfs:-/tmp/tsop-rootfs-$id}"
if [[ ! -f "$rootfs/.tsop-image-id" || "$(cat "$rootfs/.tsop-image-id")" != "$id" ]]; then
  rm -rf "$rootfs"; mkdir -p "$rootfs"
  layers_dir="$(mktemp -d)"
  tar -xf "$tarball" -C "$layers_dir"
  while read -r l; do
    # No whiteouts in these images (each layer only adds files); plain extraction is enough.
    tar --warning=no-unknown-keyword --numeric-owner -xpf "$layers_dir/$l" -C "$rootfs"
  done < <(q "['layers']")
  rm -rf "$layers_dir"
  mkdir -p "$rootfs/proc" "$rootfs/dev" "$rootfs/sys" "$rootfs/tmp"
  echo "$id" > "$rootfs/.tsop-image-id"
fi

mapfile -t image_env < <(q "['env']")
mapfile -t entrypoint < <(q "['entrypoint']")
if [[ $# -gt 0 ]]; then cmd=("$@"); else mapfile -t cmd < <(q "['cmd']"); fi
user="${user:-$(q "['user']")}"
workdir="$(q "['workdir']")"
# --java-opt flags go after the image's JVM flags (just before -cp), so they win over them.
cp_at=${#entrypoint[@]}
for i in "${!entrypoint[@]}"; do [[ "${entrypoint[$i]}" == -cp ]] && { cp_at=$i; break; }; done
argv=("${entrypoint[@]:0:$cp_at}" "${jopts[@]}" "${entrypoint[@]:$cp_at}" "${cmd[@]}")

export TSOP_TIME_UNTIL="${TSOP_TIME_UNTIL-}"
[[ -n "${TSOP_TIME+x}" ]] || unset TSOP_TIME_UNTIL
export TSOP_ROOT="$rootfs" TSOP_USER="$user" TSOP_WORKDIR="$workdir" TSOP_WRITABLE="$writable"
vol_spec="$(printf '%s\n' "${vols[@]}")"
env_spec="$(printf '%s\n' "${image_env[@]}" "HOME=/home/nonroot" "HOSTNAME=tailscale-operator" "${envs[@]}")"
exec unshare --mount --pid --fork --propagation private -- bash -c '
  set -euo pipefail
  r="$TSOP_ROOT"
  mount --bind "$r" "$r"
  mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
  mount -t tmpfs -o nosuid,nodev,mode=1777,size=256m tmpfs "$r/tmp"
  mount -t tmpfs -o nosuid,mode=755,size=64k tmpfs "$r/dev"
  for d in null zero full random urandom tty; do touch "$r/dev/$d"; mount --bind "/dev/$d" "$r/dev/$d"; done
  ln -s /proc/self/fd "$r/dev/fd"
  while IFS= read -r v; do
    [[ -n "$v" ]] || continue
    IFS=: read -r src dst mode <<< "$v"
    [[ -d "$src" ]] && mkdir -p "$r$dst" || { mkdir -p "$(dirname "$r$dst")"; touch "$r$dst"; }
    mount --bind "$src" "$r$dst"
    [[ "$mode" == ro ]] && mount -o remount,bind,ro "$r$dst"
  done <<< "$1"
  [[ "$TSOP_WRITABLE" == 1 ]] || mount -o remount,bind,ro "$r"
  shift
  exec python3 -c "
import os, sys, re, resource, signal, subprocess, time  # all imports before chroot: the image has no Python
root, user, wd = os.environ[\"TSOP_ROOT\"], os.environ[\"TSOP_USER\"], os.environ[\"TSOP_WORKDIR\"]
env = dict(l.split(\"=\", 1) for l in sys.argv[1].splitlines() if l)
uid, _, gid = user.partition(\":\")
os.chroot(root); os.chdir(wd)
os.setgroups([]); os.setgid(int(gid or uid)); os.setuid(int(uid))
path = env.get(\"PATH\", \"/usr/bin:/bin\")
exe = sys.argv[2]
if \"/\" not in exe:
    exe = next((os.path.join(p, exe) for p in path.split(\":\") if os.access(os.path.join(p, exe), os.X_OK)), exe)
until = os.environ.get(\"TSOP_TIME_UNTIL\")
if until is None:
    os.execve(exe, sys.argv[2:], env)
# Timing mode: run the command as a child, pass its output through, and report the wall-clock time from
# just before exec to the first output line matching TSOP_TIME_UNTIL (or, when empty, to the exit).
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], executable=exe, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, lambda n, f: p.send_signal(n))
hit = None
stop = os.environ.get(\"TSOP_TIME_STOP\")
for line in p.stdout:
    sys.stdout.buffer.write(line); sys.stdout.flush()
    if until and hit is None and re.search(until, line.decode(errors=\"replace\")):
        hit = time.monotonic() - t0
        ru = resource.getrusage(resource.RUSAGE_SELF)
        sys.stderr.write(\"TIME until /%s/: %.0f ms\\n\" % (until, hit * 1000)); sys.stderr.flush()
        if stop is not None:
            signal.signal(signal.SIGALRM, lambda n, f: p.send_signal(signal.SIGTERM))
            signal.setitimer(signal.ITIMER_REAL, max(float(stop), 0.001))
rc = p.wait()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write(\"TIME to exit: %.0f ms (exit code %d), cpu user %.2f s sys %.2f s, max rss %d MiB\\n\" % (
    (time.monotonic() - t0) * 1000, rc, ru.ru_utime, ru.ru_stime, ru.ru_maxrss // 1024))
sys.exit(rc)
" "$1" "${@:2}"
' run-image "$vol_spec" "$env_spec" "${argv[@]}"
