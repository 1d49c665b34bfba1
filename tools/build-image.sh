#!/usr/bin/env bash
# Builds the operator's container image as a tarball, without a Docker daemon or registry (docs/image.md):
#   1. the base image (tools/build-base-image.sh, cached in ~/.cache/tailscale-operator/image);
#   2. the image, with Jib: ./mvnw -pl operator -am package -DskipTests -Dtsop.image
#   3. the AOT cache for that image (JDK 25; image/cds/train.sh: a training run of the image itself, cached by base +
#      application layers + flags), then the image again with the cache as one more layer;
#   4. a check that the image starts with its AOT cache; prints the tarball, its size, digest and tag.
# Output: operator/target/jib-image.tar (docker-archive; `docker load -i`, `podman load -i`, ...).
#
#   tools/build-image.sh [MAVEN_ARG...]      e.g. -o (offline), -Djib.from.image=eclipse-temurin:25-jre
# Environment:
#   CDS=0        skip step 3 (steps 3 and 4 need root: they run the image with unshare/chroot)
#   BASE_IMAGE   use this Jib base (e.g. a registry image) instead of the local one; skips steps 1, 3 and 4
#   TSOP_IMAGE_BASE  a base image tarball to use instead of step 1's (e.g. tools/build-base-image.sh --arch arm64):
#                the image gets the base's architecture; for another architecture than the host's, steps 3 and 4
#                are skipped (they run the image)
#   TSOP_IMAGE_TAR   where to write the image tarball (default operator/target/jib-image.tar)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"
cache="${TSOP_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tailscale-operator/image}"
log() { echo "build-image: $*" >&2; }
t0=$(date +%s)

mvn_args=(-B -ntp "$@")
cds="${CDS:-1}"
foreign=0
if [[ -n "${BASE_IMAGE:-}" ]]; then
  mvn_args+=("-Djib.from.image=$BASE_IMAGE"); cds=0
else
  base="${TSOP_IMAGE_BASE:-$(bash tools/build-base-image.sh)}"
  mvn_args+=("-Dtsop.image.base=tar://$(readlink -f "$base")")
  base_arch="$(python3 -c '
import json, sys, tarfile
t = tarfile.open(sys.argv[1]); m = json.load(t.extractfile("manifest.json"))[0]
print(json.load(t.extractfile(m["Config"]))["architecture"])' "$(readlink -f "$base")")"
  if [[ "$base_arch" != "$(dpkg --print-architecture 2>/dev/null || echo amd64)" ]]; then
    log "base is linux/$base_arch: no AOT cache and no start check (they run the image)"
    cds=0; foreign=1
  fi
fi
for a in "$@"; do [[ "$a" == -Djib.from.image=* ]] && cds=0; done
if [[ "$cds" == 1 && $(id -u) != 0 ]]; then
  log "not root: building without the AOT cache (CDS=0)"; cds=0
fi

tar_out="${TSOP_IMAGE_TAR:-operator/target/jib-image.tar}"
mvn_args+=("-Djib.outputPaths.tar=$(readlink -m "$tar_out")")
rm -rf operator/target/jib-cds
log "jib: ./mvnw ${mvn_args[*]} -pl operator -am package -DskipTests -Dtsop.image"
./mvnw "${mvn_args[@]}" -q -pl operator -am package -DskipTests -Dtsop.image

if [[ "$cds" == 1 ]]; then
  # The cache depends on the JVM (base layers), the class path (application layers) and the JVM flags: all
  # in the image config. Same inputs, same cached cache, same image digest.
  config_sha="$(python3 -c '
import json, sys, tarfile
t = tarfile.open(sys.argv[1]); m = json.load(t.extractfile("manifest.json"))[0]
c = json.load(t.extractfile(m["Config"]))
print(json.dumps([c["rootfs"]["diff_ids"], c["config"].get("Entrypoint")]))' "$tar_out" | sha256sum | cut -c1-64)"
  key="$( { echo "$config_sha"; cat image/cds/train.sh image/cluster/ClusterHarness.java image/cluster/harness.sh; } | sha256sum | cut -c1-16)"
  aot="$cache/cds/$key/operator.aot"
  if [[ -s "$aot" ]]; then
    log "AOT cache: cached $aot ($(cat "$aot.workload" 2>/dev/null) workload)"
  else
    log "AOT cache: training run"
    bash image/cds/train.sh "$tar_out" "$aot"
  fi
  mkdir -p operator/target/jib-cds/app/cds
  cp "$aot" operator/target/jib-cds/app/cds/operator.aot
  chmod 644 operator/target/jib-cds/app/cds/operator.aot
  log "jib: again, with the AOT cache (-Dtsop.image.cds)"
  ./mvnw "${mvn_args[@]}" -q -o -pl operator -am package -DskipTests -Dtsop.image -Dtsop.image.cds
  # The cache must be usable: -XX:AOTMode=on makes the JVM fail instead of silently running without it.
  if ! out="$(image/run-image.sh --java-opt -XX:AOTMode=on "$tar_out" --version 2>&1)"; then
    log "error: the image does not start with its AOT cache:"; echo "$out" >&2; exit 1
  fi
  log "check: $out (read-only root, user 65532, AOT cache used)"
elif [[ -z "${BASE_IMAGE:-}" && $(id -u) == 0 && "$foreign" == 0 ]]; then
  log "check: $(image/run-image.sh "$tar_out" --version 2>&1)"
fi

# run-image.sh unpacks each image it runs into /tmp/tsop-rootfs-<image id>; keep only the latest image's.
# (sed -n 1p reads everything: `| head -1` could fail the pipeline with SIGPIPE; no folder at all is not an error.)
keep="$(ls -td /tmp/tsop-rootfs-* 2>/dev/null | sed -n 1p || true)"
for d in /tmp/tsop-rootfs-*; do [[ -d "$d" && "$d" != "$keep" ]] && rm -rf "$d"; done

python3 - "$tar_out" <<'EOF'
import json, os, sys, tarfile
t = tarfile.open(sys.argv[1]); m = json.load(t.extractfile("manifest.json"))[0]
d = os.path.dirname(sys.argv[1])
info = json.load(open(os.path.join(d, "jib-image.json")))
layers = [(l, t.getmember(l).size) for l in m["Layers"]]
print("image:    %s" % ", ".join(m["RepoTags"]))
print("tarball:  %s (%.1f MiB, %d layers)" % (os.path.abspath(sys.argv[1]), os.path.getsize(sys.argv[1]) / 2**20, len(layers)))
print("digest:   %s" % info["imageDigest"])
print("image id: %s" % info["imageId"])
EOF
log "done in $(( $(date +%s) - t0 )) s"
