#!/usr/bin/env bash
# Builds the real Go programs that the tests and the local environment run (kube-apiserver, etcd, kubectl,
# kube-controller-manager; containerboot, tailscaled, tailscale; headscale) from the Go modules pinned under tools/,
# into a cache OUTSIDE the repository. Idempotent: a binary is rebuilt only when it is missing or when the recipe that
# made it changed (its module's go.mod/go.sum, the package, the ldflags, the build tags). Safe to run before every
# test run.
#
# Usage:
#   bash tools/build-binaries.sh                 # build every group that is out of date
#   bash tools/build-binaries.sh --only k8s      # only these groups (comma-separated)
#   bash tools/build-binaries.sh --only release  # the release tools (registry, crane, cosign, helm, actionlint), which
#                                                # are not built by default: only the release tests need them
#   bash tools/build-binaries.sh --only k8s-operator  # the official operator (golden files, benchmark baseline)
#   bash tools/build-binaries.sh --force         # rebuild even if up to date
#   bash tools/build-binaries.sh --print-env     # build nothing, print the exports only
#   bash tools/build-binaries.sh --list          # list the groups
#   env_out=$(bash tools/build-binaries.sh) && eval "$env_out"   # build, then export the variables
#
# Progress and Go's own errors go to stderr; stdout carries only the `export NAME=value` lines, so the output can be
# eval'ed (capture it in a variable first, as above: `eval "$(...)"` would hide a failed build).
#
# Cache layout (${TSOP_BINARIES:-$HOME/.cache/tailscale-operator}):
#   k8s/<k8s version>-linux-amd64/{kube-apiserver,etcd,kubectl,kube-controller-manager}
#       exactly what io.fabric8:kube-api-test 7.5.2 expects in offline mode (BinaryManager: <dir>/k8s/<version>
#       -<os.name lower-cased>-<amd64|arm64|ppc64le>/ with files named kube-apiserver, etcd and kubectl, all three
#       required) with KUBE_API_TEST_DIR=<cache> and KUBE_API_TEST_OFFLINE_MODE=true.
#   k8s/<...>/.stamps/<binary>   the recipe hash each binary was built from.
#   Other tool groups MUST NOT go under k8s/: kube-api-test takes every k8s/*-linux-amd64 folder for a Kubernetes
#   version and parses its name as one. Use <group>/<version>-<os>-<arch>/, e.g. tailscale/1.94.2-linux-amd64/.
#   tailscale/<tailscale.com version>-linux-amd64/{containerboot,tailscaled,tailscale}
#       the programs of the tailscale/tailscale proxy image, built with -tags ts_kube,ts_package_container like the
#       official image (module tools/tailscale); containerboot finds tailscaled and tailscale on PATH, so put this
#       folder first on the PATH of a containerboot process.
#   tailscale/<tailscale.com version>-linux-amd64/k8s-nameserver     (module tools/k8s-nameserver) the program of the
#       tailscale/k8s-nameserver image (a DNSConfig's nameserver), which the local pod runner runs for nameserver Pods.
#   headscale/<headscale version>-linux-amd64/headscale     (module tools/headscale)
#   k8s-operator/<tailscale.com version>-linux-amd64/k8s-operator     (module tools/k8s-operator; optional group: only
#       with --only k8s-operator, never in CI) the official operator, for the golden files (tools/golden/regenerate.sh)
#       and as the benchmark's baseline.
#
# Adding a tool group (e.g. tailscale's containerboot/tailscaled/tailscale, headscale):
#   1. put a Go module under tools/<something>/ (go.mod + go.sum, a tools.go or main.go naming the packages);
#   2. write a function group_<name>() below that derives the version from that go.mod and calls go_build once per
#      binary (see group_k8s), and add <name> to ALL_GROUPS;
#   3. add the variables the tests need to print_env.
set -euo pipefail

# Bump when the way binaries are built changes (flags, layout) so that every cached binary is rebuilt.
readonly RECIPE_VERSION=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
CACHE=${TSOP_BINARIES:-$HOME/.cache/tailscale-operator}
readonly ALL_GROUPS=(k8s tailscale k8s-nameserver headscale)
# Built only when asked for (--only): the release tools, which only the release tests (module release-tests) and
# tools/release.sh need (that module's build asks for them before its tests), and the official operator (k8s-operator),
# which only tools/golden/regenerate.sh and the benchmark baseline run.
readonly RELEASE_TOOLS=(registry crane cosign helm actionlint)
readonly OPTIONAL_GROUPS=("${RELEASE_TOOLS[@]}" k8s-operator)
readonly RELEASE_GROUPS=registry,crane,cosign,helm,actionlint
CURRENT_TMP=""

log() { printf '[build-binaries] %s\n' "$*" >&2; }
die() { printf '[build-binaries] ERROR: %s\n' "$*" >&2; exit 1; }

case "$(uname -m)" in
  x86_64 | amd64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  ppc64le) ARCH=ppc64le ;;
  *) die "unsupported machine architecture $(uname -m)" ;;
esac
OS=$(uname -s | tr '[:upper:]' '[:lower:]')
readonly ARCH OS
PLATFORM="${OS}-${ARCH}"
readonly PLATFORM

hash_files() { cat "$@" | sha256sum | cut -c1-64; }

# Prints the version a go.mod requires for a module, e.g. `module_version go.mod k8s.io/kubernetes` -> v1.34.4.
module_version() {
  local gomod=$1 module=$2 v
  v=$(grep -E "^[[:space:]]*(require[[:space:]]+)?${module//./\\.}[[:space:]]+v[0-9]" "$gomod" | sed -n 1p |
    awk '{print $NF}') || true
  [[ -n "$v" ]] || die "cannot find the version of ${module} in ${gomod}"
  printf '%s' "$v"
}

# go_build MODULE_DIR PACKAGE OUTPUT [LDFLAGS...]
# Builds PACKAGE of the Go module in MODULE_DIR into OUTPUT unless OUTPUT exists and its stamp matches the recipe.
# Writes to a temporary file first and renames it, so an interrupted build never leaves a half-written binary.
# Build tags: set GO_BUILD_TAGS (comma-separated) for the call, e.g. `GO_BUILD_TAGS=a,b go_build ...`; they are part of
# the recipe (and left out of it when empty, so that the stamps of tag-less binaries stay what they were).
go_build() {
  local module_dir=$1 pkg=$2 out=$3
  shift 3
  local ldflags="-s -w${*:+ $*}"
  local tags=${GO_BUILD_TAGS:-}
  local name stamp_dir stamp want have tagline=""
  [[ -z "$tags" ]] || tagline="tags=${tags}"$'\n'
  name=$(basename "$out")
  stamp_dir="$(dirname "$out")/.stamps"
  stamp="${stamp_dir}/${name}"
  want=$(printf 'recipe=%s\npkg=%s\nldflags=%s\ngo.mod+go.sum=%s\n%s' "$RECIPE_VERSION" "$pkg" "$ldflags" \
    "$(hash_files "$module_dir/go.mod" "$module_dir/go.sum")" "$tagline" | sha256sum | cut -c1-64)
  have=$(cat "$stamp" 2>/dev/null || true)
  if [[ "$FORCE" != true && -x "$out" && "$want" == "$have" ]]; then
    log "up to date: ${out}"
    return 0
  fi
  if [[ -x "$out" ]]; then
    log "rebuilding ${name} (recipe or pinned version changed${FORCE:+, or --force})"
  fi
  mkdir -p "$(dirname "$out")" "$stamp_dir"
  local tmp="${out}.tmp.$$"
  CURRENT_TMP=$tmp
  local -a cmd=(go build -mod=readonly -trimpath -buildvcs=false ${tags:+-tags "$tags"} -ldflags "$ldflags" -o "$tmp" "$pkg")
  log "building ${name}: (cd ${module_dir#"$ROOT"/} && CGO_ENABLED=0 ${cmd[*]@Q})"
  local started=$SECONDS rc=0
  (cd "$module_dir" && CGO_ENABLED=0 "${cmd[@]}") || rc=$?
  if [[ $rc -ne 0 ]]; then
    rm -f "$tmp"
    cmd[${#cmd[@]} - 2]=$out
    die "go build of ${name} (${pkg}) failed (exit ${rc}); Go's error is printed above. To reproduce: cd ${module_dir} && CGO_ENABLED=0 ${cmd[*]@Q}"
  fi
  mv -f "$tmp" "$out"
  CURRENT_TMP=""
  printf '%s\n' "$want" >"$stamp"
  log "built ${out} in $((SECONDS - started))s"
}

# --- group k8s: kube-apiserver, kubectl, kube-controller-manager (tools/testbin/k8s) and etcd (tools/testbin/etcd)
K8S_MODULE="$ROOT/tools/testbin/k8s"
ETCD_MODULE="$ROOT/tools/testbin/etcd"

k8s_version() { # without the leading v, e.g. 1.34.4
  local v
  v=$(module_version "$K8S_MODULE/go.mod" k8s.io/kubernetes)
  printf '%s' "${v#v}"
}

k8s_dir() { printf '%s/k8s/%s-%s' "$CACHE" "$(k8s_version)" "$PLATFORM"; }

group_k8s() {
  local version major minor patch dir
  version=$(k8s_version)
  IFS=. read -r major minor patch <<<"$version"
  [[ -n "$patch" ]] || die "unexpected k8s.io/kubernetes version '${version}' in ${K8S_MODULE}/go.mod"
  # Every staging module must be replaced by the matching v0.<minor>.<patch> release, or the build silently mixes
  # versions (k8s.io/kubernetes' own go.mod points them at ./staging, which a module consumer cannot use).
  local bad
  bad=$(grep -E '^[[:space:]]*k8s\.io/[a-z0-9-]+[[:space:]]+=>[[:space:]]+k8s\.io/' "$K8S_MODULE/go.mod" |
    grep -v -E "=>[[:space:]]+k8s\.io/[a-z0-9-]+[[:space:]]+v0\.${minor}\.${patch}\$" || true)
  [[ -z "$bad" ]] || die "replace lines in ${K8S_MODULE}/go.mod do not match k8s.io/kubernetes v${version} (want v0.${minor}.${patch}):
${bad}"
  dir=$(k8s_dir)
  log "group k8s: Kubernetes v${version}, etcd $(module_version "$ETCD_MODULE/go.mod" go.etcd.io/etcd/server/v3) -> ${dir}"

  # The same variables as kubernetes' hack/lib/version.sh sets, so that --version prints the real release.
  local -a ver=()
  local key val
  for key in gitVersion gitMajor gitMinor; do
    case $key in
      gitVersion) val="v${version}" ;;
      gitMajor) val="${major}" ;;
      gitMinor) val="${minor}" ;;
    esac
    ver+=("-X k8s.io/component-base/version.${key}=${val}" "-X k8s.io/client-go/pkg/version.${key}=${val}")
  done
  ver+=("-X k8s.io/component-base/version.gitTreeState=clean" "-X k8s.io/client-go/pkg/version.gitTreeState=clean")

  go_build "$K8S_MODULE" k8s.io/kubernetes/cmd/kube-apiserver "$dir/kube-apiserver" "${ver[@]}"
  go_build "$K8S_MODULE" k8s.io/kubernetes/cmd/kubectl "$dir/kubectl" "${ver[@]}"
  go_build "$K8S_MODULE" k8s.io/kubernetes/cmd/kube-controller-manager "$dir/kube-controller-manager" "${ver[@]}"
  go_build "$ETCD_MODULE" . "$dir/etcd"

  # Cheap sanity check that also catches a binary that does not run on this machine.
  local got
  got=$("$dir/kube-apiserver" --version 2>&1) || die "${dir}/kube-apiserver --version failed: ${got}"
  [[ "$got" == "Kubernetes v${version}" ]] || die "${dir}/kube-apiserver --version printed '${got}', want 'Kubernetes v${version}'"
  # Not `| head -1`: with pipefail, etcd's SIGPIPE on its later lines fails the check at random.
  got=$("$dir/etcd" --version 2>&1) || die "${dir}/etcd --version failed: ${got}"
  got=${got%%$'\n'*}
  log "ok: kube-apiserver v${version}, ${got}"
}

# Fails unless the go.mod of MODULE@VERSION (as published, from the module cache or the Go module proxy) is free of
# `replace` and `exclude` lines: those only apply when that module is the main module, so a build of it as a
# dependency (which is what tools/<group>/ does) would silently differ from the upstream release.
require_no_replace() {
  local module_dir=$1 module=$2 version=$3 gomod
  gomod=$(cd "$module_dir" && go mod download -json "${module}@${version}" |
    sed -n -E 's/^[[:space:]]*"GoMod":[[:space:]]*"(.*)",?$/\1/p') || true
  [[ -n "$gomod" && -f "$gomod" ]] || die "cannot find the go.mod of ${module}@${version} (go mod download failed?)"
  if grep -q -E '^[[:space:]]*(replace|exclude)([[:space:]]|\()' "$gomod"; then
    die "${module}@${version}'s go.mod has replace/exclude lines, so building it as a dependency in ${module_dir#"$ROOT"/} would not reproduce the release:
$(grep -n -E '^[[:space:]]*(replace|exclude)' "$gomod")"
  fi
}

# --- group tailscale: containerboot, tailscaled, tailscale (tools/tailscale), the programs of the proxy image
TAILSCALE_MODULE="$ROOT/tools/tailscale"

tailscale_version() { # without the leading v, e.g. 1.94.2
  local v
  v=$(module_version "$TAILSCALE_MODULE/go.mod" tailscale.com)
  printf '%s' "${v#v}"
}

tailscale_dir() { printf '%s/tailscale/%s-%s' "$CACHE" "$(tailscale_version)" "$PLATFORM"; }

group_tailscale() {
  local version dir
  version=$(tailscale_version)
  dir=$(tailscale_dir)
  log "group tailscale: tailscale.com v${version} -> ${dir}"
  require_no_replace "$TAILSCALE_MODULE" tailscale.com "v${version}"
  # As the official image (build_docker.sh, target client): build tags ts_kube,ts_package_container and the version
  # stamps (a plain module build would call itself <version>-dev<date>). No git commit is known here.
  local -a ver=("-X tailscale.com/version.longStamp=${version}" "-X tailscale.com/version.shortStamp=${version}")
  local bin
  for bin in containerboot tailscaled tailscale; do
    GO_BUILD_TAGS=ts_kube,ts_package_container go_build "$TAILSCALE_MODULE" "tailscale.com/cmd/${bin}" "$dir/${bin}" \
      "${ver[@]}"
  done
  local got
  got=$("$dir/tailscaled" --version 2>&1) || die "${dir}/tailscaled --version failed: ${got}"
  got=${got%%$'\n'*} # first line (not `| head -1`: under pipefail its early exit can fail the program with SIGPIPE)
  [[ "$got" == "$version" ]] || die "${dir}/tailscaled --version printed '${got}', want '${version}'"
  got=$("$dir/tailscale" version 2>&1) || die "${dir}/tailscale version failed: ${got}"
  got=${got%%$'\n'*} # first line (not `| head -1`: under pipefail its early exit can fail the program with SIGPIPE)
  [[ "$got" == "$version" ]] || die "${dir}/tailscale version printed '${got}', want '${version}'"
  [[ -x "$dir/containerboot" ]] || die "${dir}/containerboot is missing"
  log "ok: tailscaled and tailscale ${version}, containerboot"
}

# --- group k8s-nameserver: the ts.net nameserver a DNSConfig deploys (tools/k8s-nameserver), the program of the
# tailscale/k8s-nameserver image; same tailscale.com release as the proxy programs, so it goes into their folder.
K8S_NAMESERVER_MODULE="$ROOT/tools/k8s-nameserver"

group_k8s-nameserver() {
  local version dir
  version=$(tailscale_version)
  dir=$(tailscale_dir)
  [[ "$(module_version "$K8S_NAMESERVER_MODULE/go.mod" tailscale.com)" == "v${version}" ]] ||
    die "${K8S_NAMESERVER_MODULE}/go.mod pins another tailscale.com than tools/tailscale (v${version}); keep them equal"
  log "group k8s-nameserver: tailscale.com/cmd/k8s-nameserver v${version} -> ${dir}"
  require_no_replace "$K8S_NAMESERVER_MODULE" tailscale.com "v${version}"
  GO_BUILD_TAGS=ts_kube,ts_package_container go_build "$K8S_NAMESERVER_MODULE" tailscale.com/cmd/k8s-nameserver \
    "$dir/k8s-nameserver" "-X tailscale.com/version.longStamp=${version}" "-X tailscale.com/version.shortStamp=${version}"
  # The program has no version flag (it starts serving at once); check the module the linker recorded instead.
  local modinfo
  modinfo=$(go version -m "$dir/k8s-nameserver") || die "go version -m ${dir}/k8s-nameserver failed"
  grep -q -E "^[[:space:]]+(mod|dep)[[:space:]]+tailscale\.com[[:space:]]+v${version//./\\.}([[:space:]]|\$)" <<<"$modinfo" ||
    die "${dir}/k8s-nameserver is not built from tailscale.com v${version} (go version -m)"
  log "ok: k8s-nameserver ${version}"
}

# --- group headscale: headscale (tools/headscale)
HEADSCALE_MODULE="$ROOT/tools/headscale"

headscale_version() { # without the leading v, e.g. 0.29.2
  local v
  v=$(module_version "$HEADSCALE_MODULE/go.mod" github.com/juanfont/headscale)
  printf '%s' "${v#v}"
}

headscale_dir() { printf '%s/headscale/%s-%s' "$CACHE" "$(headscale_version)" "$PLATFORM"; }

group_headscale() {
  local version dir
  version=$(headscale_version)
  dir=$(headscale_dir)
  log "group headscale: github.com/juanfont/headscale v${version} -> ${dir}"
  require_no_replace "$HEADSCALE_MODULE" github.com/juanfont/headscale "v${version}"
  # No version ldflags: headscale v0.29 has no linker variable for its version and reads it from the build info.
  go_build "$HEADSCALE_MODULE" github.com/juanfont/headscale/cmd/headscale "$dir/headscale"
  local got
  # -c /dev/null: no config search in /etc/headscale etc.; the env var keeps the CLI from asking GitHub for releases.
  got=$(HEADSCALE_DISABLE_CHECK_UPDATES=true "$dir/headscale" version -o json 2>&1) ||
    die "${dir}/headscale version failed: ${got}"
  log "ok: headscale $(printf '%s' "$got" | tr -d '\n' | cut -c1-120) (module v${version})"
}

# --- release tools (tools/release/<name>): one Go module each, so their dependency graphs do not mix.
#   registry    the distribution registry (OCI registry server), started on loopback by the release tests
#   crane       pushes the multi-arch image index (go-containerregistry)
#   cosign      signs the image and attaches its SBOM as a signed attestation
#   helm        packages the chart and pushes it as an OCI artifact
#   actionlint  lints .github/workflows
RELEASE_TOOLS_DIR="$ROOT/tools/release"
release_tool_module() { # NAME -> the Go module that the tool comes from
  case $1 in
    registry) printf 'github.com/distribution/distribution/v3' ;;
    crane) printf 'github.com/google/go-containerregistry' ;;
    cosign) printf 'github.com/sigstore/cosign/v2' ;;
    helm) printf 'helm.sh/helm/v3' ;;
    actionlint) printf 'github.com/rhysd/actionlint' ;;
  esac
}
release_tool_version() { # NAME -> version without the leading v
  local v
  v=$(module_version "$RELEASE_TOOLS_DIR/$1/go.mod" "$(release_tool_module "$1")")
  printf '%s' "${v#v}"
}
release_tool_dir() { printf '%s/%s/%s-%s' "$CACHE" "$1" "$(release_tool_version "$1")" "$PLATFORM"; }

build_release_tool() { # NAME PACKAGE VERSION-LDFLAGS...
  local name=$1 pkg=$2 version dir module
  shift 2
  module=$(release_tool_module "$name")
  version=$(release_tool_version "$name")
  dir=$(release_tool_dir "$name")
  log "group ${name}: ${module} v${version} -> ${dir}"
  require_no_replace "$RELEASE_TOOLS_DIR/$name" "$module" "v${version}"
  go_build "$RELEASE_TOOLS_DIR/$name" "$pkg" "$dir/$name" "$@"
}

group_registry() {
  local v; v=$(release_tool_version registry)
  build_release_tool registry github.com/distribution/distribution/v3/cmd/registry \
    "-X github.com/distribution/distribution/v3/version.version=v${v}"
  "$(release_tool_dir registry)/registry" --version >&2 || die "registry --version failed"
}
group_crane() {
  local v; v=$(release_tool_version crane)
  build_release_tool crane github.com/google/go-containerregistry/cmd/crane \
    "-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=v${v}"
  log "ok: crane $("$(release_tool_dir crane)/crane" version 2>&1)"
}
group_cosign() {
  local v; v=$(release_tool_version cosign)
  build_release_tool cosign github.com/sigstore/cosign/v2/cmd/cosign \
    "-X sigs.k8s.io/release-utils/version.gitVersion=v${v}"
  "$(release_tool_dir cosign)/cosign" version >/dev/null 2>&1 || die "cosign version failed"
  log "ok: cosign v${v}"
}
group_helm() {
  local v; v=$(release_tool_version helm)
  build_release_tool helm helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=v${v}"
  log "ok: helm $("$(release_tool_dir helm)/helm" version --short 2>&1)"
}
group_actionlint() {
  local v; v=$(release_tool_version actionlint)
  build_release_tool actionlint github.com/rhysd/actionlint/cmd/actionlint \
    "-X github.com/rhysd/actionlint.version=v${v}"
  local got
  got=$("$(release_tool_dir actionlint)/actionlint" -version 2>&1) || die "actionlint -version failed: ${got}"
  log "ok: actionlint ${got%%$'\n'*}"
}

# --- optional group k8s-operator: the official operator (tools/k8s-operator), same tailscale.com release as the proxies
K8S_OPERATOR_MODULE="$ROOT/tools/k8s-operator"

k8s_operator_version() { # without the leading v, e.g. 1.94.2
  local v
  v=$(module_version "$K8S_OPERATOR_MODULE/go.mod" tailscale.com)
  printf '%s' "${v#v}"
}

k8s_operator_dir() { printf '%s/k8s-operator/%s-%s' "$CACHE" "$(k8s_operator_version)" "$PLATFORM"; }

group_k8s-operator() {
  local version dir
  version=$(k8s_operator_version)
  dir=$(k8s_operator_dir)
  log "group k8s-operator: tailscale.com/cmd/k8s-operator v${version} -> ${dir}"
  require_no_replace "$K8S_OPERATOR_MODULE" tailscale.com "v${version}"
  # As the official image (build_docker.sh, target k8s-operator): tags ts_kube,ts_package_container, version stamps.
  # The binary keeps its upstream name: tsnet names its state folder after it (tsnet-k8s-operator).
  # One change, to its metrics listener only: controller-runtime's default ":8080" (all interfaces, fixed, no setting
  # in the operator) becomes a free port on loopback, so that it can run beside anything else on this machine.
  local -a ver=("-X tailscale.com/version.longStamp=${version}" "-X tailscale.com/version.shortStamp=${version}"
    "-X sigs.k8s.io/controller-runtime/pkg/metrics/server.DefaultBindAddress=127.0.0.1:0")
  GO_BUILD_TAGS=ts_kube,ts_package_container go_build "$K8S_OPERATOR_MODULE" tailscale.com/cmd/k8s-operator \
    "$dir/k8s-operator" "${ver[@]}"
  # The operator has no --version flag (it starts at once); check the stamp the linker put into the binary instead.
  local modinfo
  modinfo=$(go version -m "$dir/k8s-operator") || die "go version -m ${dir}/k8s-operator failed"
  # (grep on a variable, not on a pipe from go: grep -q exits at the first match, and under pipefail that can fail go.)
  grep -q -E "^[[:space:]]+(mod|dep)[[:space:]]+tailscale\.com[[:space:]]+v${version//./\\.}([[:space:]]|\$)" <<<"$modinfo" ||
    die "${dir}/k8s-operator is not built from tailscale.com v${version} (go version -m)"
  log "ok: k8s-operator ${version}"
}

print_env() {
  local dir
  dir=$(k8s_dir)
  # The launcher in testkit (io.tailops.testkit.kube) reads TSOP_BINARIES; fabric8 kube-api-test reads the others.
  # Maven: the root pom passes TSOP_BINARIES to the tests from the property tsop.binaries (-Dtsop.binaries=...).
  printf 'export TSOP_BINARIES=%q\n' "$CACHE"
  printf 'export TSOP_KUBE_VERSION=%q\n' "$(k8s_version)"
  printf 'export KUBE_API_TEST_DIR=%q\n' "$CACHE"
  printf 'export KUBE_API_TEST_OFFLINE_MODE=true\n'
  printf 'export KUBE_API_TEST_API_SERVER_VERSION=%q\n' "$(k8s_version)"
  printf 'export TSOP_KUBE_BIN_DIR=%q\n' "$dir"
  # Read by io.tailops.testkit.headscale (which otherwise derives the same folders from TSOP_BINARIES and the pins in
  # tools/tailscale/go.mod and tools/headscale/go.mod).
  printf 'export TSOP_TAILSCALE_VERSION=%q\n' "$(tailscale_version)"
  printf 'export TSOP_TAILSCALE_BIN_DIR=%q\n' "$(tailscale_dir)"
  printf 'export TSOP_HEADSCALE_VERSION=%q\n' "$(headscale_version)"
  printf 'export TSOP_HEADSCALE_BIN_DIR=%q\n' "$(headscale_dir)"
  # The release tools (optional groups): where each one is, built or not.
  local t
  for t in "${RELEASE_TOOLS[@]}"; do
    printf 'export TSOP_%s=%q\n' "$(printf '%s' "$t" | tr '[:lower:]' '[:upper:]')" "$(release_tool_dir "$t")/$t"
  done
  # The official operator (optional group k8s-operator; the folder may not exist). Read by tools/golden/regenerate.sh.
  printf 'export TSOP_K8S_OPERATOR_BIN_DIR=%q\n' "$(k8s_operator_dir)"
}

main() {
  local only="" print_only=false
  FORCE=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --only) [[ $# -ge 2 ]] || die "--only needs a value (one of: ${ALL_GROUPS[*]})"; only=$2; shift 2 ;;
      --only=*) only=${1#--only=}; shift ;;
      --force) FORCE=true; shift ;;
      --print-env) print_only=true; shift ;;
      --list) printf '%s\n' "${ALL_GROUPS[@]}"; printf '%s (only with --only)\n' "${OPTIONAL_GROUPS[@]}"; return 0 ;;
      -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; return 0 ;;
      *) die "unknown argument '$1' (see --help)" ;;
    esac
  done
  readonly FORCE

  if [[ "$print_only" == true ]]; then
    print_env
    return 0
  fi

  # One build at a time per cache (two at once on 2 cores would only slow each other down).
  mkdir -p "$CACHE"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE/.build.lock"
    if ! flock -n 9; then
      log "another build-binaries.sh is running on ${CACHE}; waiting for it"
      flock 9
    fi
  fi
  trap 'rm -f "${CURRENT_TMP:-}"' EXIT

  command -v go >/dev/null 2>&1 || die "the Go toolchain (go) is not on PATH; it is needed to build the test binaries"
  log "$(go version); cache ${CACHE}; GOCACHE $(go env GOCACHE)"

  local -a groups
  if [[ -n "$only" ]]; then
    IFS=, read -r -a groups <<<"${only//release/$RELEASE_GROUPS}"
  else
    groups=("${ALL_GROUPS[@]}")
  fi
  local g started=$SECONDS
  for g in "${groups[@]}"; do
    declare -F "group_${g}" >/dev/null || die "unknown group '${g}' (known: ${ALL_GROUPS[*]} ${OPTIONAL_GROUPS[*]}, release = ${RELEASE_GROUPS})"
  done
  for g in "${groups[@]}"; do
    "group_${g}"
  done
  log "done in $((SECONDS - started))s"
  print_env
}

main "$@"
