#!/usr/bin/env bash
# Builds, tests and publishes a release: the steps of the release workflow (.github/workflows/release.yml), which runs
# this script on a version tag; ReleaseScriptTest runs it against a registry on loopback. See docs/release.md.
#
#   tools/release.sh --version 0.1.0 [options]
#
# Steps (each logged as "==> step N/9 ..."):
#   1. checks: the version is x.y.z; the chart's version and appVersion are that version; the Maven project version is
#      that version or its -SNAPSHOT; CHANGELOG.md has a section "## <version>"
#   2. a copy of the source tree (the files git tracks, as they are in the work tree) with the Maven version set to the
#      release version, so that the jar, the image label and `tailscale-operator --version` name the release
#   3. ./mvnw -B verify in that copy (all the tests; --skip-tests leaves them to an earlier CI job)
#   4. the base images for linux/amd64 and linux/arm64 (tools/build-base-image.sh --arch X --jmods deb: Debian
#      packages and Debian's Java runtime of that architecture, no emulation) and the operator image on each (Jib);
#      the amd64 image also gets its AOT cache when root can run the training (CDS=0 skips it)
#   5. the SBOM of each image (CycloneDX: the Maven plugin's BOM of the operator plus the base's Debian packages and
#      Java runtime)
#   6. the multi-arch image index, pushed to <registry>/<image path>:<version> (crane)
#   7. signatures (cosign, the index and each image) and the SBOMs as signed CycloneDX attestations of each image
#   8. the chart, packaged with version = appVersion = <version>, pushed as an OCI artifact to
#      oci://<chart registry>/tailscale-operator:<version>, and signed
#   9. release notes: the CHANGELOG section plus the published references, digests and verify commands
#
# Options:
#   --version X          the release version (default: GITHUB_REF_NAME without the leading v)
#   --registry HOST      push to this registry instead of the one in tools/release/published.env (same paths), e.g.
#                        127.0.0.1:5000 for a local registry
#   --plain-http         talk HTTP to the registry (a registry on loopback)
#   --key FILE           sign with this cosign private key (COSIGN_PASSWORD in the environment), without the
#                        transparency log; without --key, cosign signs keyless (Sigstore, OIDC: in GitHub Actions with
#                        id-token: write) and records the signatures in the public transparency log
#   --skip-tests         skip step 3
#   --out DIR            where the artefacts go (default: target/release/<version>)
# Tools: crane, cosign and helm from $TSOP_CRANE/$TSOP_COSIGN/$TSOP_HELM, else from PATH, else built by
# `bash tools/build-binaries.sh --only crane,cosign,helm`; python3, git, a JDK 17 (the build), a JDK 25 (its jlink) and
# apt-get (Debian) for the images.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
started=$SECONDS
step_no=0
step() { step_no=$((step_no + 1)); printf '\n==> step %d/9 [%ds] %s\n' "$step_no" "$((SECONDS - started))" "$*" >&2; }
log() { printf 'release: %s\n' "$*" >&2; }
die() { printf 'release: ERROR: %s\n' "$*" >&2; exit 1; }

version="${GITHUB_REF_NAME:-}"
version="${version#v}"
registry=""
plain_http=false
key=""
skip_tests=false
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --registry) registry="$2"; shift 2 ;;
    --plain-http) plain_http=true; shift ;;
    --key) key="$2"; shift 2 ;;
    --skip-tests) skip_tests=true; shift ;;
    --out) out="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

# --- where: tools/release/published.env, the one place that names the published locations ----------------------
# shellcheck source=release/published.env
source "$ROOT/tools/release/published.env"
image_repo="$IMAGE_REPOSITORY"
chart_registry="$CHART_REGISTRY"
if [[ -n "$registry" ]]; then
  image_repo="$registry/${IMAGE_REPOSITORY#*/}"
  chart_registry="$registry/${CHART_REGISTRY#*/}"
fi
out="${out:-$ROOT/target/release/$version}"

tool() { # NAME -> path of the tool
  local name=$1 var path
  var="TSOP_$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')"
  path="${!var:-}"
  if [[ -z "$path" || ! -x "$path" ]]; then
    path="$(bash "$ROOT/tools/build-binaries.sh" --print-env | sed -n "s/^export ${var}=//p")"
    path="${path//\'/}"
  fi
  if [[ ! -x "$path" ]]; then
    if command -v "$name" >/dev/null 2>&1; then path="$(command -v "$name")"; else
      log "building $name (tools/build-binaries.sh --only $name)"
      bash "$ROOT/tools/build-binaries.sh" --only "$name" >/dev/null
    fi
  fi
  [[ -x "$path" ]] || die "$name not found (bash tools/build-binaries.sh --only $name)"
  printf '%s' "$path"
}

# ---------------------------------------------------------------------------------------------------------------
step "checks: version ${version:-?}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "the version must be x.y.z (got '${version}'); pass --version or run on a tag vX.Y.Z"
chart_version="$(sed -n 's/^version:[[:space:]]*//p' "$ROOT/chart/tailscale-operator/Chart.yaml" | tr -d '"')"
chart_app="$(sed -n 's/^appVersion:[[:space:]]*//p' "$ROOT/chart/tailscale-operator/Chart.yaml" | tr -d '"')"
[[ "$chart_version" == "$version" && "$chart_app" == "$version" ]] ||
  die "chart/tailscale-operator/Chart.yaml has version ${chart_version} and appVersion ${chart_app}: both must be ${version}"
pom_version="$(sed -n '0,/<version>/s/.*<version>\(.*\)<\/version>.*/\1/p' "$ROOT/pom.xml" | sed -n 1p)"
[[ "$pom_version" == "$version" || "$pom_version" == "$version-SNAPSHOT" ]] ||
  die "the Maven project version is ${pom_version}: it must be ${version} or ${version}-SNAPSHOT"
grep -q "^## ${version//./\\.}\b" "$ROOT/CHANGELOG.md" || die "CHANGELOG.md has no section '## ${version}'"
values_repo="$(sed -n '/^operatorConfig:/,/^[a-z]/{s/^    repository:[[:space:]]*//p}' "$ROOT/chart/tailscale-operator/values.yaml" | sed -n 1p)"
[[ "$values_repo" == "$IMAGE_REPOSITORY" ]] ||
  die "values.yaml's operatorConfig.image.repository is ${values_repo}, tools/release/published.env says ${IMAGE_REPOSITORY}"
crane="$(tool crane)"; cosign="$(tool cosign)"; helm="$(tool helm)"
log "image ${image_repo}:${version}, chart oci://${chart_registry}/tailscale-operator:${version}, out ${out}"
rm -rf "$out"; mkdir -p "$out"

# ---------------------------------------------------------------------------------------------------------------
step "source copy with version ${version}"
src="$out/src"
mkdir -p "$src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e "$f" || -L "$f" ]] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$src"
revision="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ "$pom_version" != "$version" ]]; then
  # The project's own version only (parent and module versions): no other artifact has a -SNAPSHOT version here.
  find "$src" -name pom.xml -not -path '*/target/*' -print0 |
    xargs -0 sed -i "s|<version>${pom_version}</version>|<version>${version}</version>|g"
fi
log "copied $(cd "$src" && git -C "$ROOT" ls-files | wc -l) files to ${src} (revision ${revision})"

# ---------------------------------------------------------------------------------------------------------------
if [[ "$skip_tests" == true ]]; then
  step "tests: skipped (--skip-tests)"
else
  step "tests: ./mvnw -B verify"
  (cd "$src" && ./mvnw -B -ntp verify)
fi

# ---------------------------------------------------------------------------------------------------------------
step "images for linux/amd64 and linux/arm64"
images=()
for arch in amd64 arm64; do
  base="$(bash "$src/tools/build-base-image.sh" --arch "$arch" --jmods deb)"
  tar_out="$src/operator/target/jib-image-$arch.tar"
  cds=0
  if [[ "$arch" == "$(dpkg --print-architecture)" && "${CDS:-1}" == 1 && $(id -u) == 0 ]]; then cds=1; fi
  log "linux/${arch}: base $(readlink -f "$base"), AOT cache: $([[ $cds == 1 ]] && echo yes || echo no)"
  # -DskipTests (step 3 ran the tests, on the same copy), not -Dmaven.test.skip: the api module's CRD generator is
  # in its test sources, and the CRDs it writes ship in the api jar.
  (cd "$src" && CDS=$cds TSOP_IMAGE_BASE="$base" TSOP_IMAGE_TAR="$tar_out" bash tools/build-image.sh \
    -DskipTests "-Dtsop.image.repository=${image_repo}" "-Dtsop.image.tag=${version}" >&2)
  images+=("$tar_out")
done

# ---------------------------------------------------------------------------------------------------------------
step "SBOMs (CycloneDX)"
(cd "$src" && ./mvnw -B -q -pl operator -am org.cyclonedx:cyclonedx-maven-plugin:2.9.3:makeBom \
  -DoutputFormat=json -DoutputName=bom -DincludeTestScope=false -DincludeProvidedScope=false \
  -DincludeSystemScope=false)
for arch in amd64 arm64; do
  python3 "$ROOT/image/sbom.py" --maven-bom "$src/operator/target/bom.json" \
    --image "$src/operator/target/jib-image-$arch.tar" --name "$IMAGE_REPOSITORY" --version "$version" \
    --out "$out/sbom-linux-$arch.cdx.json" >&2
done

# ---------------------------------------------------------------------------------------------------------------
step "image index: ${image_repo}:${version}"
python3 "$ROOT/image/oci-index.py" --out "$out/image-layout" "${images[@]/#/--image=}" \
  --annotation "org.opencontainers.image.version=${version}" \
  --annotation "org.opencontainers.image.revision=${revision}" \
  --annotation "org.opencontainers.image.source=https://${SOURCE_REPOSITORY}" > "$out/image-index.json"
crane_flags=()
[[ "$plain_http" == true ]] && crane_flags+=(--insecure)
"$crane" push "${crane_flags[@]}" --index "$out/image-layout" "${image_repo}:${version}" >&2
digest="$("$crane" digest "${crane_flags[@]}" "${image_repo}:${version}")"
want="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["index"])' "$out/image-index.json")"
[[ "$digest" == "$want" ]] || die "the registry serves ${image_repo}:${version} as ${digest}, not the index pushed (${want})"
log "pushed ${image_repo}@${digest}"

# ---------------------------------------------------------------------------------------------------------------
step "signatures and SBOM attestations (cosign)"
cosign_flags=(--yes)
[[ "$plain_http" == true ]] && cosign_flags+=(--allow-insecure-registry --allow-http-registry)
if [[ -n "$key" ]]; then
  cosign_flags+=(--key "$key" --tlog-upload=false)
fi
"$cosign" sign "${cosign_flags[@]}" --recursive "${image_repo}@${digest}" >&2
for arch in amd64 arm64; do
  manifest="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["platforms"]["linux/"+sys.argv[2]]["manifest"])' \
    "$out/image-index.json" "$arch")"
  "$cosign" attest "${cosign_flags[@]}" --type cyclonedx --predicate "$out/sbom-linux-$arch.cdx.json" \
    "${image_repo}@${manifest}" >&2
done

# ---------------------------------------------------------------------------------------------------------------
step "chart: oci://${chart_registry}/tailscale-operator:${version}"
"$helm" package "$src/chart/tailscale-operator" --version "$version" --app-version "$version" -d "$out" >&2
"$helm" lint "$out/tailscale-operator-${version}.tgz" >&2
helm_flags=()
[[ "$plain_http" == true ]] && helm_flags+=(--plain-http)
push_out="$("$helm" push "$out/tailscale-operator-${version}.tgz" "oci://${chart_registry}" "${helm_flags[@]}" 2>&1)"
printf '%s\n' "$push_out" >&2
chart_digest="$(printf '%s\n' "$push_out" | sed -n 's/^Digest: //p')"
[[ -n "$chart_digest" ]] || die "helm push printed no digest"
"$cosign" sign "${cosign_flags[@]}" "${chart_registry}/tailscale-operator@${chart_digest}" >&2

# ---------------------------------------------------------------------------------------------------------------
step "release notes"
if [[ -n "$key" ]]; then
  verify_with="--key cosign.pub --insecure-ignore-tlog=true"
else
  verify_with="--certificate-identity-regexp '^https://${SOURCE_REPOSITORY}/' --certificate-oidc-issuer https://token.actions.githubusercontent.com"
fi
verify_commands="cosign verify ${verify_with} ${IMAGE_REPOSITORY}@${digest}
cosign verify-attestation --type cyclonedx ${verify_with} ${IMAGE_REPOSITORY}@<manifest of one platform>
cosign verify ${verify_with} ${CHART_REGISTRY}/tailscale-operator@${chart_digest}"
{
  awk -v v="$version" '$0 ~ "^## "v"( |$)" {on=1; next} on && /^## / {exit} on' "$ROOT/CHANGELOG.md" |
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
  cat <<EOF

## Install

\`\`\`sh
helm install tailscale-operator oci://${CHART_REGISTRY}/tailscale-operator --version ${version} \\
  --namespace tailscale --create-namespace
\`\`\`

Flux: a \`HelmRepository\` with \`type: oci\` and \`url: oci://${CHART_REGISTRY}\`, and \`version: ${version}\` in the
HelmRelease (see docs/flux.md).

## Artefacts

| what | reference |
| --- | --- |
| image (linux/amd64, linux/arm64) | \`${IMAGE_REPOSITORY}:${version}\` = \`${IMAGE_REPOSITORY}@${digest}\` |
| chart | \`oci://${CHART_REGISTRY}/tailscale-operator:${version}\` = \`@${chart_digest}\` |
| SBOMs (CycloneDX) | attached to each image as signed attestations; also \`sbom-linux-amd64.cdx.json\`, \`sbom-linux-arm64.cdx.json\` |
| source | \`${revision}\` |

Verify (docs/release.md):

\`\`\`sh
${verify_commands}
\`\`\`
EOF
} > "$out/release-notes.md"
cat > "$out/release.env" <<EOF
VERSION=${version}
IMAGE=${image_repo}:${version}
IMAGE_DIGEST=${digest}
CHART=oci://${chart_registry}/tailscale-operator
CHART_DIGEST=${chart_digest}
REVISION=${revision}
EOF
rm -rf "$src"
log "done in $((SECONDS - started)) s: $(tr '\n' ' ' < "$out/release.env")"
