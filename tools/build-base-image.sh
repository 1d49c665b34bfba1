#!/usr/bin/env bash
# Builds the operator image's base without a container runtime or an image registry: a minimal Debian 12
# root filesystem (glibc with the C.UTF-8 locale, zlib, libstdc++/libgcc, CA certificates, tzdata, passwd/group with the non-root
# user 65532) plus a Java runtime made with jlink from the local JDK, holding only the modules the operator
# needs. Packed as a reproducible Docker-format image tarball with two layers (OS, Java runtime) that Jib
# uses as `tar://` base (see docs/image.md).
#
# The result is cached outside the repository, keyed by this script, the packer, the JDK and the Debian
# package versions:
#   ${TSOP_IMAGE_CACHE:-~/.cache/tailscale-operator/image}/base/<key>/base.tar   the image
#   ${TSOP_IMAGE_CACHE:-~/.cache/tailscale-operator/image}/base-jre.tar          symlink to the current one
# Prints the path of base-jre.tar on standard output (progress goes to standard error). Runs in ~30 s when
# the cache is cold (jlink), instantly when warm.
#
# Needs: a Debian 12 (bookworm) host with apt (packages are fetched with `apt-get download`, nothing is installed),
# dpkg-deb, python3, and a JDK 17+ with jmods (Debian: openjdk-17-jdk-headless).
#
# Other architectures (linux/arm64 on an amd64 host, and the reverse) need no emulation: the Debian packages of the
# target architecture are fetched with apt-get through a private apt state (its own package lists and cache under
# the cache directory; the host's dpkg architectures and lists are not touched), and jlink (the host's) links the
# target's jmods, taken from the target's openjdk-17-jdk-headless package. The JDK's default CDS archive cannot be
# generated for a foreign architecture (it runs the target's java), so such a runtime has none.
#
#   tools/build-base-image.sh [--arch amd64|arm64] [--jmods host|deb]
#     --arch   target architecture (default: the host's)
#     --jmods  host: the jmods of the local JDK (default for the host's architecture);
#              deb:  those of the Debian package openjdk-17-jdk-headless of the target architecture, at its current
#                    version (the default for a foreign architecture; the release uses it for both, so that both
#                    images carry the same, current Java runtime)
# Environment:
#   JDK_HOME          JDK used for jlink (default: the JDK 17 of the machine)
#   JLINK_MODULES     comma-separated modules (default below, found with jdeps; see docs/image.md)
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
[[ -n "$jmods_from" ]] || { [[ "$arch" == "$host_arch" ]] && jmods_from=host || jmods_from=deb; }
[[ "$jmods_from" == host && "$arch" != "$host_arch" ]] && { echo "build-base-image: --jmods host cannot build $arch on $host_arch" >&2; exit 2; }

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
debs=(libc6 libc-bin zlib1g libgcc-s1 libstdc++6 gcc-12-base ca-certificates tzdata base-files)

# --- JDK ----------------------------------------------------------------------------------------------
find_jdk() {
  local c
  for c in "${JDK_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk \
      "$(dirname "$(dirname "$(readlink -f "$(command -v jlink || echo /nonexistent)")")")"; do
    if [[ -n "$c" && -x "$c/bin/jlink" && -d "$c/jmods" ]]; then echo "$c"; return; fi
  done
  die "no JDK with jlink and jmods found (Debian: apt-get install openjdk-17-jdk-headless), or set JDK_HOME"
}
jdk="$(find_jdk)"

# --- Debian packages ----------------------------------------------------------------------------------
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "needs apt-get and dpkg-deb (Debian/Ubuntu)"
command -v python3 >/dev/null || die "needs python3"
apt_opts=()
if [[ "$arch" != "$host_arch" || "$jmods_from" == deb ]]; then
  # A private apt state for the target architecture: the host's sources, its own lists and cache. Refreshed daily,
  # so security updates reach the next build (they change the cache key below).
  apt_dir="$cache/apt-$arch"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  # An empty dpkg status, created once: touching it would make apt rebuild its cache on every call.
  [[ -e "$apt_dir/status" ]] || : > "$apt_dir/status"
  apt_opts=(-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::State::status=$apt_dir/status" -o "Dir::Cache=$apt_dir" -o "Dir::Cache::archives=$apt_dir/archives"
    -o "Debug::NoLocking=1")
  if [[ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]]; then
    log "apt-get update for $arch (private lists in $apt_dir)"
    apt-get "${apt_opts[@]}" update -qq >&2 || die "apt-get update for $arch failed"
  fi
elif ! apt-cache show --no-all-versions libc6 >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]]; then log "apt package lists are empty: apt-get update"; apt-get update -qq >&2
  else die "apt package lists are empty: run 'sudo apt-get update' first"; fi
fi
# The pool file name of every package this script may fetch, in one apt-cache call (each call parses the lists).
declare -A deb_filename=()
while IFS=$'\t' read -r pkg fn; do
  [[ -n "${deb_filename[$pkg]:-}" ]] || deb_filename[$pkg]=$fn
done < <(apt-cache "${apt_opts[@]}" show --no-all-versions "${debs[@]}" openjdk-17-jdk-headless 2>/dev/null |
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

# --- the jmods to link: the local JDK's, or those of the target's openjdk-17-jdk-headless package ------------------
if [[ "$jmods_from" == deb ]]; then
  jdk_deb="$(download_deb openjdk-17-jdk-headless)"
  jmods_dir="$cache/jmods/$(basename "$jdk_deb" .deb)"
  if [[ ! -s "$jmods_dir/jmods/java.base.jmod" ]]; then
    log "unpacking the jmods of $(basename "$jdk_deb")"
    tmpd="$(mktemp -d)"
    dpkg-deb -x "$jdk_deb" "$tmpd"
    src="$(dirname "$(find "$tmpd" -name java.base.jmod -path '*/jmods/*' | head -1)")"
    [[ -d "$src" ]] || die "$(basename "$jdk_deb") has no jmods"
    rm -rf "$jmods_dir"; mkdir -p "$jmods_dir"
    cp -a "$src" "$jmods_dir/jmods"
    # The runtime's version, from the package (the release file is in the JDK's jre package, not here).
    dpkg-deb -f "$jdk_deb" Version > "$jmods_dir/deb-version"
    rm -rf "$tmpd"
  fi
  jmods="$jmods_dir/jmods"
  deb_version="$(cat "$jmods_dir/deb-version")"          # e.g. 17.0.21.1+2-1~deb12u1
  jdk_runtime_version="${deb_version%%-*}"                # 17.0.21.1+2
  jdk_version="${jdk_runtime_version%%+*}"                # 17.0.21.1
  jdk_id="$(basename "$jdk_deb")"
else
  jmods="$jdk/jmods"
  jdk_version="$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$jdk/release")"
  jdk_runtime_version="$(sed -n 's/^JAVA_RUNTIME_VERSION="\(.*\)"/\1/p' "$jdk/release")"
  jdk_id="$(cat "$jdk/release")"
fi
[[ -n "$jdk_version" ]] || die "cannot read the Java version of $jmods"
(( ${jdk_version%%.*} >= 17 )) || die "$jmods is Java $jdk_version; the operator needs 17 or newer"

# --- cache key ----------------------------------------------------------------------------------------
key="$( { cat "$here/build-base-image.sh" "$repo/image/pack-image.py" "$jdk/release"; echo "$modules";
  echo "$arch $jmods_from $jdk_id"; sha256sum "$jmods/java.base.jmod" | cut -d' ' -f1;
  printf '%s\n' "${deb_files[@]##*/}"; } | sha256sum | cut -c1-16)"
out_dir="$cache/base/$key"
# The host architecture's base keeps its historical name; others are base-jre-<arch>.tar (and with --jmods deb,
# base-jre-<arch>-deb.tar).
if [[ "$arch" == "$host_arch" && "$jmods_from" == host ]]; then link="$cache/base-jre.tar"
elif [[ "$arch" != "$host_arch" ]]; then link="$cache/base-jre-$arch.tar"
else link="$cache/base-jre-$arch-deb.tar"; fi
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
# Merged /usr, as a Debian 12 install has it.
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
cds_flag=(--generate-cds-archive)
[[ "$arch" == "$host_arch" ]] || cds_flag=()   # it runs the target's java: not possible for a foreign architecture
# --strip-debug also strips native symbols with the host's objcopy, which cannot read a foreign architecture's ELF
# files (Debian's are stripped already); strip the Java debug attributes only.
strip_flag=(--strip-debug)
[[ "$arch" == "$host_arch" ]] || strip_flag=(--strip-java-debug-attributes)
"$jdk/bin/jlink" --module-path "$jmods" --add-modules "$modules" \
  "${strip_flag[@]}" --no-header-files --no-man-pages "${cds_flag[@]}" \
  --output "$jre/opt/java/openjdk" >&2
# The CDS archive for heaps over 32 GB (no compressed oops) is of no use to an operator.
rm -f "$jre/opt/java/openjdk/lib/server/classes_nocoops.jsa"
# jlink copies files with their modes but not always world-readable ones; normalise.
chmod -R u+rwX,go+rX,go-w "$jre/opt" "$os"
chmod 1777 "$os/tmp"; chmod 700 "$os/root" "$os/home/nonroot"

# --- pack ---------------------------------------------------------------------------------------------
versions="$(for f in "${deb_files[@]}"; do printf '%s=%s ' "$(dpkg-deb -f "$f" Package)" "$(dpkg-deb -f "$f" Version)"; done)"
mkdir -p "$out_dir"
log "packing $out_dir/base.tar"
python3 "$repo/image/pack-image.py" --out "$out_dir/base.tar" --arch "$arch" \
  --tag "tailops/jre-base:${jdk_version}" \
  --layer "$os:debian 12 minimal rootfs: ${versions% }" \
  --layer "$jre:jlink java ${jdk_runtime_version} --add-modules ${modules}" \
  --owner /home/nonroot=65532:65532 \
  --env PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env JAVA_HOME=/opt/java/openjdk \
  --env JAVA_VERSION="$jdk_runtime_version" \
  --env LANG=C.UTF-8 \
  --env TZ=Etc/UTC \
  --label "org.opencontainers.image.title=tailops JRE base" \
  --label "org.opencontainers.image.description=Debian 12 minimal rootfs + jlink'ed Java ${jdk_runtime_version} (${modules}), linux/${arch}" \
  --label "io.tailops.base.debian-packages=${versions% }" \
  --label "io.tailops.base.java-modules=${modules}" \
  --user 65532:65532 --workdir /home/nonroot > "$out_dir/pack.json"
{ echo "key=$key"; echo "arch=$arch"; echo "jmods=$jmods"; echo "java=$jdk_runtime_version"; echo "modules=$modules"
  echo "debian=${versions% }"; echo "sha256=$(sha256sum "$out_dir/base.tar" | cut -d' ' -f1)"; } > "$out_dir/info.txt"
ln -sfn "base/$key/base.tar" "$link"
log "built $out_dir/base.tar ($(du -h "$out_dir/base.tar" | cut -f1), os $(du -sh "$os" | cut -f1), jre $(du -sh "$jre" | cut -f1))"
echo "$link"
