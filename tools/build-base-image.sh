#!/usr/bin/env bash
# Builds the operator image's base without a container runtime or an image registry: a minimal Debian 13
# root filesystem (glibc with the C.UTF-8 locale, zlib, libstdc++/libgcc, CA certificates, tzdata, passwd/group with the non-root
# user 65532) plus a Java 25 runtime made with jlink from Debian's openjdk-25 jmods, holding only the modules the
# operator needs. Packed as a reproducible Docker-format image tarball with two layers (OS, Java runtime) that Jib
# uses as `tar://` base (see docs/image.md).
#
# The result is cached outside the repository, keyed by this script, the packer, the JDK and the Debian
# package versions:
#   ${TSOP_IMAGE_CACHE:-~/.cache/tailscale-operator/image}/base/<key>/base.tar   the image
#   ${TSOP_IMAGE_CACHE:-~/.cache/tailscale-operator/image}/base-jre25.tar        symlink to the current one
# Prints the path of base-jre25.tar on standard output (progress goes to standard error). Runs in ~30 s when
# the cache is cold (jlink), instantly when warm.
#
# Needs: a Debian host with apt (12 or 13: the packages are fetched with `apt-get download` through a private apt
# state for Debian 13 "trixie", made from the host's own mirrors; nothing is installed and the host's apt state is not
# touched), dpkg-deb, python3, and a JDK 25 for its jlink (on this machine kind: /usr/lib/jvm/temurin-25-jdk-amd64;
# on Debian 13: openjdk-25-jdk-headless). Java 25 comes from Debian 13 because Debian 12 has none; its runtime needs
# Debian 13's glibc, hence the Debian 13 root filesystem.
#
# Every architecture (linux/amd64 and linux/arm64, on either host) is built the same way and needs no emulation: the
# Debian packages of the target architecture, and jlink (the host's JDK 25) links the jmods of the target's
# openjdk-25-jdk-headless package. No default CDS archive is generated (that runs the target's java, which needs the
# target's glibc): the image carries an AOT cache of its own instead (tools/build-image.sh), on the host architecture.
#
#   tools/build-base-image.sh [--arch amd64|arm64] [--jmods deb]
#     --arch   target architecture (default: the host's)
#     --jmods  deb (the only choice, kept for older callers): the jmods of the Debian package openjdk-25-jdk-headless
#              of the target architecture, at its current version, so that both architectures carry the same Java
# Environment:
#   JDK_HOME          JDK 25 whose jlink links the jmods (default: found under /usr/lib/jvm)
#   JLINK_MODULES     comma-separated modules (default below, found with jdeps; see docs/image.md)
#   DEBIAN_SUITE      Debian release of the packages (default trixie)
#   TSOP_IMAGE_CACHE  cache directory
#   FORCE=1           rebuild even if cached
set -euo pipefail

host_arch="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
arch="$host_arch"
jmods_from=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --arch=*) arch="${1#--arch=}"; shift ;;
    --jmods) jmods_from="$2"; shift 2 ;;
    --jmods=*) jmods_from="${1#--jmods=}"; shift ;;
    *) echo "build-base-image: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$arch" in
  amd64) triplet=x86_64-linux-gnu ;;
  arm64) triplet=aarch64-linux-gnu ;;
  *) echo "build-base-image: unsupported architecture $arch (amd64 or arm64)" >&2; exit 2 ;;
esac
[[ -n "$jmods_from" ]] || jmods_from=deb
[[ "$jmods_from" == deb ]] || { echo "build-base-image: --jmods $jmods_from: only deb (Debian's openjdk-25 jmods)" >&2; exit 2; }
suite="${DEBIAN_SUITE:-trixie}"
java_feature=25
jdk_pkg="openjdk-${java_feature}-jdk-headless"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${TSOP_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tailscale-operator/image}"
log() { echo "build-base-image: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Modules of the operator's class path (jdeps --print-module-deps, minus java.desktop, which only optional
# code paths of Jackson and Micrometer touch) plus the ones jdeps cannot see: jdk.crypto.ec (TLS with EC
# keys and X25519, loaded as a security provider) and java.xml (explicit, Logback's optional XML config).
default_modules=java.base,java.compiler,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml
default_modules+=,jdk.crypto.ec,jdk.httpserver,jdk.management,jdk.unsupported
modules="${JLINK_MODULES:-$default_modules}"
debs=(libc6 libc-bin zlib1g libgcc-s1 libstdc++6 ca-certificates tzdata base-files)   # + gcc-NN-base, below

# --- JDK (for its jlink) -----------------------------------------------------------------------------
find_jdk() {
  local c
  for c in "${JDK_HOME:-}" /usr/lib/jvm/temurin-${java_feature}-jdk-$host_arch /usr/lib/jvm/java-${java_feature}-openjdk-$host_arch \
      /usr/lib/jvm/temurin-${java_feature}-jdk /usr/lib/jvm/java-${java_feature}-openjdk \
      "$(dirname "$(dirname "$(readlink -f "$(command -v jlink || echo /nonexistent)")")")"; do
    if [[ -n "$c" && -x "$c/bin/jlink" ]] && grep -q "^JAVA_VERSION=\"${java_feature}[.\"]" "$c/release" 2>/dev/null; then
      echo "$c"; return
    fi
  done
  die "no JDK ${java_feature} with jlink found (this machine kind: /usr/lib/jvm/temurin-${java_feature}-jdk-amd64; Debian 13: apt-get install ${jdk_pkg}), or set JDK_HOME"
}
jdk="$(find_jdk)"

# --- Debian packages ----------------------------------------------------------------------------------
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "needs apt-get and dpkg-deb (Debian/Ubuntu)"
command -v python3 >/dev/null || die "needs python3"
# A private apt state for the target architecture and Debian release: sources made from the host's own mirrors with
# the suite replaced, its own lists and cache. Refreshed daily, so security updates reach the next build (they change
# the cache key below).
apt_dir="$cache/apt-$suite-$arch"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
# An empty dpkg status, created once: touching it would make apt rebuild its cache on every call.
[[ -e "$apt_dir/status" ]] || : > "$apt_dir/status"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -s "$keyring" ]] || die "no $keyring (Debian's debian-archive-keyring package)"
{ { cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    sed -n -E 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p'
} | sed 's#/*$##' | sort -u | while read -r uri; do
  [[ -n "$uri" ]] || continue
  if [[ "$uri" == *-security ]]; then echo "deb [signed-by=$keyring] $uri $suite-security main"
  else echo "deb [signed-by=$keyring] $uri $suite main"; echo "deb [signed-by=$keyring] $uri $suite-updates main"; fi
done > "$apt_dir/sources.list.new"
[[ -s "$apt_dir/sources.list.new" ]] || die "found no Debian mirror in the host's apt sources"
cmp -s "$apt_dir/sources.list.new" "$apt_dir/sources.list" 2>/dev/null || mv "$apt_dir/sources.list.new" "$apt_dir/sources.list"
rm -f "$apt_dir/sources.list.new"
apt_opts=(-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::State::status=$apt_dir/status" -o "Dir::Cache=$apt_dir" -o "Dir::Cache::archives=$apt_dir/archives"
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/nonexistent" -o "Debug::NoLocking=1")
if [[ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | sed -n 1p)" ]]; then
  log "apt-get update for $suite $arch (private lists in $apt_dir)"
  apt-get "${apt_opts[@]}" update -qq >&2 || die "apt-get update for $suite $arch failed"
fi
# libstdc++6's documentation is a link to its gcc-NN-base package's: take that one too.
gcc_base="$(apt-cache "${apt_opts[@]}" show --no-all-versions libgcc-s1 2>/dev/null |
  sed -n -E 's/^(Pre-)?Depends:.*\b(gcc-[0-9]+-base)\b.*/\2/p' | sed -n 1p)"
[[ -n "$gcc_base" ]] || die "cannot find the gcc-NN-base package of libgcc-s1 in $suite"
debs+=("$gcc_base")
# The pool file name of every package this script may fetch, in one apt-cache call (each call parses the lists).
declare -A deb_filename=()
while IFS=$'\t' read -r pkg fn; do
  [[ -n "${deb_filename[$pkg]:-}" ]] || deb_filename[$pkg]=$fn
done < <(apt-cache "${apt_opts[@]}" show --no-all-versions "${debs[@]}" "$jdk_pkg" 2>/dev/null |
  awk '/^Package: /{p=$2} /^Filename: /{print p "\t" $2}')
# download_deb PACKAGE: prints the path of the cached .deb of PACKAGE (target architecture, candidate version).
download_deb() {
  local p=$1 fn f tmpd
  fn="${deb_filename[$p]:-}"
  [[ -n "$fn" ]] || die "apt knows no package $p for $arch"
  f="$cache/debs/$(basename "$fn")"
  if [[ ! -s "$f" ]]; then
    log "downloading $p ($arch)"
    tmpd="$(mktemp -d)"; chmod 777 "$tmpd"
    (cd "$tmpd" && apt-get "${apt_opts[@]}" download -q "$p" >&2) || die "apt-get download $p failed"
    mv "$tmpd"/*.deb "$f"
    rm -rf "$tmpd"
  fi
  printf '%s' "$f"
}
mkdir -p "$cache/debs"
deb_files=()
for p in "${debs[@]}"; do
  deb_files+=("$(download_deb "$p")")
done

# --- the jmods to link: those of the target's openjdk-25-jdk-headless package ------------------------------------------
jdk_deb="$(download_deb "$jdk_pkg")"
jmods_dir="$cache/jmods/$(basename "$jdk_deb" .deb)"
if [[ ! -s "$jmods_dir/jmods/java.base.jmod" ]]; then
  log "unpacking the jmods of $(basename "$jdk_deb")"
  tmpd="$(mktemp -d)"
  dpkg-deb -x "$jdk_deb" "$tmpd"
  src="$(dirname "$(find "$tmpd" -name java.base.jmod -path '*/jmods/*' | sed -n 1p)")"
  [[ -d "$src" ]] || die "$(basename "$jdk_deb") has no jmods"
  rm -rf "$jmods_dir"; mkdir -p "$jmods_dir"
  cp -a "$src" "$jmods_dir/jmods"
  # The runtime's version, from the package (the release file is in the JDK's jre package, not here).
  dpkg-deb -f "$jdk_deb" Version > "$jmods_dir/deb-version"
  rm -rf "$tmpd"
fi
jmods="$jmods_dir/jmods"
deb_version="$(cat "$jmods_dir/deb-version")"          # e.g. 25.0.5+8-1~deb13u1
jdk_runtime_version="${deb_version%%-*}"                # 25.0.5+8
jdk_version="${jdk_runtime_version%%+*}"                # 25.0.5
jdk_id="$(basename "$jdk_deb")"
[[ -n "$jdk_version" ]] || die "cannot read the Java version of $jmods"
[[ "${jdk_version%%.*}" == "$java_feature" ]] || die "$jmods is Java $jdk_version, not $java_feature"

# --- cache key ----------------------------------------------------------------------------------------
key="$( { cat "$here/build-base-image.sh" "$repo/image/pack-image.py" "$jdk/release"; echo "$modules";
  echo "$arch $suite $jdk_id"; sha256sum "$jmods/java.base.jmod" | cut -d' ' -f1;
  printf '%s\n' "${deb_files[@]##*/}"; } | sha256sum | cut -c1-16)"
out_dir="$cache/base/$key"
# The host architecture's base is base-jre25.tar (the Jib base that operator/pom.xml names); others are
# base-jre25-<arch>.tar. (base-jre.tar and base-jre-<arch>.tar were the Java 17 bases: work trees of older commits
# sharing this cache keep using them.)
if [[ "$arch" == "$host_arch" ]]; then link="$cache/base-jre${java_feature}.tar"
else link="$cache/base-jre${java_feature}-$arch.tar"; fi
if [[ -s "$out_dir/base.tar" && "${FORCE:-}" != 1 ]]; then
  ln -sfn "base/$key/base.tar" "$link"
  log "cached: $out_dir/base.tar (Java $jdk_runtime_version)"
  echo "$link"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
os="$work/os"; jre="$work/jre"; x="$work/x"
mkdir -p "$os" "$jre" "$x"

# --- layer 1: the OS --------------------------------------------------------------------------------
log "unpacking ${debs[*]}"
for f in "${deb_files[@]}"; do
  p="$(dpkg-deb -f "$f" Package)"
  mkdir -p "$x/$p"
  dpkg-deb -x "$f" "$x/$p"
done
# Merged /usr, as a Debian install has it.
mkdir -p "$os"/usr/{bin,sbin,lib/$triplet,share/doc} "$os"/etc/ssl/certs
ln -s usr/bin "$os/bin"; ln -s usr/sbin "$os/sbin"; ln -s usr/lib "$os/lib"
if [[ "$arch" == amd64 ]]; then mkdir -p "$os/usr/lib64"; ln -s usr/lib64 "$os/lib64"; fi
# Shared libraries only: no binaries, no gconv modules (Java does its own charset conversion), no locales.
for p in libc6 zlib1g libgcc-s1 libstdc++6; do
  for d in lib/$triplet usr/lib/$triplet; do
    [[ -d "$x/$p/$d" ]] || continue
    find "$x/$p/$d" -maxdepth 1 \( -type f -o -type l \) -name '*.so*' -exec cp -a {} "$os/usr/lib/$triplet/" \;
  done
done
# The dynamic loader where the ELF interpreter path of each architecture points.
case "$arch" in
  amd64) ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$os/usr/lib64/ld-linux-x86-64.so.2" ;;
  arm64) ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$os/usr/lib/ld-linux-aarch64.so.1" ;;
esac
# The compiled C.UTF-8 locale (from libc-bin; glibc has only "C" built in), so that LANG=C.UTF-8 gives the
# JVM UTF-8 as its default, file name and console encoding instead of ASCII.
mkdir -p "$os/usr/lib/locale"
cp -a "$x/libc-bin/usr/lib/locale/C.utf8" "$os/usr/lib/locale/C.utf8"
# CA certificates: the Mozilla bundle as update-ca-certificates would write it (for anything that is not
# Java; the JVM uses the runtime's own lib/security/cacerts, see docs/image.md).
find "$x/ca-certificates/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort | xargs cat \
  > "$os/etc/ssl/certs/ca-certificates.crt"
# Time zones, without the leap-second "right/" copies.
mkdir -p "$os/usr/share"
cp -a "$x/tzdata/usr/share/zoneinfo" "$os/usr/share/zoneinfo"
rm -rf "$os/usr/share/zoneinfo/right"
ln -s /usr/share/zoneinfo/Etc/UTC "$os/etc/localtime"
echo "Etc/UTC" > "$os/etc/timezone"
# OS identification (for vulnerability scanners) and the dpkg records of what is in the image, one file per
# package in /var/lib/dpkg/status.d as distroless does.
cp "$x/base-files/usr/lib/os-release" "$os/usr/lib/os-release"
ln -s ../usr/lib/os-release "$os/etc/os-release"
cp "$x/base-files/etc/debian_version" "$os/etc/debian_version"
mkdir -p "$os/var/lib/dpkg/status.d"
for f in "${deb_files[@]}"; do
  p="$(dpkg-deb -f "$f" Package)"
  { echo "Package: $(dpkg-deb -f "$f" Package)"; echo "Status: install ok installed"
    dpkg-deb -f "$f" | grep -v '^Package:'; } > "$os/var/lib/dpkg/status.d/$p"
  if [[ -L "$x/$p/usr/share/doc/$p" ]]; then  # e.g. libstdc++6 -> gcc-12-base
    cp -a "$x/$p/usr/share/doc/$p" "$os/usr/share/doc/$p"
  else
    mkdir -p "$os/usr/share/doc/$p"
    cp "$x/$p/usr/share/doc/$p/copyright" "$os/usr/share/doc/$p/copyright"
  fi
done
# Users: root, nobody, and nonroot (65532, as in distroless) whose home is the working directory.
cat > "$os/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat > "$os/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
cat > "$os/etc/nsswitch.conf" <<'EOF'
passwd: files
group:  files
shadow: files
hosts:  files dns
networks: files
protocols: files
services: files
EOF
mkdir -p "$os/tmp" "$os/root" "$os/home/nonroot"
chmod 1777 "$os/tmp"; chmod 700 "$os/root" "$os/home/nonroot"

# --- layer 2: the Java runtime ----------------------------------------------------------------------
log "jlink ($jdk) of $jmods ($arch, Java $jdk_runtime_version): $modules"
# --strip-debug also strips native symbols with the host's objcopy, which cannot read a foreign architecture's ELF
# files; strip the Java debug attributes only there. Debian keeps the native debug symbols in separate *.debuginfo
# files (600 MB for libjvm): left out.
strip_flag=(--strip-debug)
[[ "$arch" == "$host_arch" ]] || strip_flag=(--strip-java-debug-attributes)
"$jdk/bin/jlink" --module-path "$jmods" --add-modules "$modules" \
  "${strip_flag[@]}" --exclude-files='**.debuginfo' --no-header-files --no-man-pages \
  --output "$jre/opt/java/openjdk" >&2
# jlink copies files with their modes but not always world-readable ones; normalise.
chmod -R u+rwX,go+rX,go-w "$jre/opt" "$os"
chmod 1777 "$os/tmp"; chmod 700 "$os/root" "$os/home/nonroot"

# --- pack ---------------------------------------------------------------------------------------------
debian_release="$(sed -n 's/^VERSION_ID="\(.*\)"/\1/p' "$x/base-files/usr/lib/os-release")"
versions="$(for f in "${deb_files[@]}"; do printf '%s=%s ' "$(dpkg-deb -f "$f" Package)" "$(dpkg-deb -f "$f" Version)"; done)"
mkdir -p "$out_dir"
log "packing $out_dir/base.tar"
python3 "$repo/image/pack-image.py" --out "$out_dir/base.tar" --arch "$arch" \
  --tag "tailops/jre-base:${jdk_version}" \
  --layer "$os:debian ${debian_release} minimal rootfs: ${versions% }" \
  --layer "$jre:jlink java ${jdk_runtime_version} --add-modules ${modules}" \
  --owner /home/nonroot=65532:65532 \
  --env PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env JAVA_HOME=/opt/java/openjdk \
  --env JAVA_VERSION="$jdk_runtime_version" \
  --env LANG=C.UTF-8 \
  --env TZ=Etc/UTC \
  --label "org.opencontainers.image.title=tailops JRE base" \
  --label "org.opencontainers.image.description=Debian ${debian_release} minimal rootfs + jlink'ed Java ${jdk_runtime_version} (${modules}), linux/${arch}" \
  --label "io.tailops.base.debian-packages=${versions% }" \
  --label "io.tailops.base.java-modules=${modules}" \
  --user 65532:65532 --workdir /home/nonroot > "$out_dir/pack.json"
{ echo "key=$key"; echo "arch=$arch"; echo "jmods=$jmods"; echo "java=$jdk_runtime_version"; echo "modules=$modules"
  echo "debian=${versions% }"; echo "sha256=$(sha256sum "$out_dir/base.tar" | cut -d' ' -f1)"; } > "$out_dir/info.txt"
ln -sfn "base/$key/base.tar" "$link"
log "built $out_dir/base.tar ($(du -h "$out_dir/base.tar" | cut -f1), os $(du -sh "$os" | cut -f1), jre $(du -sh "$jre" | cut -f1))"
echo "$link"
