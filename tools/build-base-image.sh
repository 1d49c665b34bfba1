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
# dpkg-deb, python3, and a JDK 17+ with jmods (Debian: openjdk-17-jdk-headless). Environment:
#   JDK_HOME          JDK used for jlink (default: the JDK 17 of the machine)
#   JLINK_MODULES     comma-separated modules (default below, found with jdeps; see docs/image.md)
#   TSOP_IMAGE_CACHE  cache directory
#   FORCE=1           rebuild even if cached
set -euo pipefail

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
jdk_version="$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$jdk/release")"
jdk_runtime_version="$(sed -n 's/^JAVA_RUNTIME_VERSION="\(.*\)"/\1/p' "$jdk/release")"
[[ -n "$jdk_version" ]] || die "cannot read the Java version from $jdk/release"
(( ${jdk_version%%.*} >= 17 )) || die "$jdk is Java $jdk_version; the operator needs 17 or newer"

# --- Debian packages ----------------------------------------------------------------------------------
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "needs apt-get and dpkg-deb (Debian/Ubuntu)"
command -v python3 >/dev/null || die "needs python3"
if ! apt-cache show --no-all-versions libc6 >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]]; then log "apt package lists are empty: apt-get update"; apt-get update -qq >&2
  else die "apt package lists are empty: run 'sudo apt-get update' first"; fi
fi
mkdir -p "$cache/debs"
deb_files=()
for p in "${debs[@]}"; do
  # sed -n 1p, not head -1: head exits early and, under pipefail, the writer's SIGPIPE would fail the assignment.
  fn="$(apt-cache show --no-all-versions "$p" | sed -n 's/^Filename: //p' | sed -n 1p)"
  [[ -n "$fn" ]] || die "apt knows no package $p"
  f="$cache/debs/$(basename "$fn")"
  if [[ ! -s "$f" ]]; then
    log "downloading $p"
    tmpd="$(mktemp -d)"; chmod 777 "$tmpd"
    (cd "$tmpd" && apt-get download -q "$p" >&2) || die "apt-get download $p failed"
    mv "$tmpd"/*.deb "$f"
    rm -rf "$tmpd"
  fi
  deb_files+=("$f")
done

# --- cache key ----------------------------------------------------------------------------------------
key="$( { cat "$here/build-base-image.sh" "$repo/image/pack-image.py" "$jdk/release"; echo "$modules";
  sha256sum "$jdk/jmods/java.base.jmod" | cut -d' ' -f1; printf '%s\n' "${deb_files[@]##*/}"; } \
  | sha256sum | cut -c1-16)"
out_dir="$cache/base/$key"
link="$cache/base-jre.tar"
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
mkdir -p "$os"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64,share/doc} "$os"/etc/ssl/certs
ln -s usr/bin "$os/bin"; ln -s usr/sbin "$os/sbin"; ln -s usr/lib "$os/lib"; ln -s usr/lib64 "$os/lib64"
# Shared libraries only: no binaries, no gconv modules (Java does its own charset conversion), no locales.
for p in libc6 zlib1g libgcc-s1 libstdc++6; do
  for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
    [[ -d "$x/$p/$d" ]] || continue
    find "$x/$p/$d" -maxdepth 1 \( -type f -o -type l \) -name '*.so*' -exec cp -a {} "$os/usr/lib/x86_64-linux-gnu/" \;
  done
done
ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$os/usr/lib64/ld-linux-x86-64.so.2"
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
  { dpkg-deb -f "$f" Package; echo "Status: install ok installed"
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
log "jlink from $jdk (Java $jdk_runtime_version): $modules"
"$jdk/bin/jlink" --module-path "$jdk/jmods" --add-modules "$modules" \
  --strip-debug --no-header-files --no-man-pages --generate-cds-archive \
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
python3 "$repo/image/pack-image.py" --out "$out_dir/base.tar" \
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
  --label "org.opencontainers.image.description=Debian 12 minimal rootfs + jlink'ed Java ${jdk_runtime_version} (${modules})" \
  --label "io.tailops.base.debian-packages=${versions% }" \
  --label "io.tailops.base.java-modules=${modules}" \
  --user 65532:65532 --workdir /home/nonroot > "$out_dir/pack.json"
{ echo "key=$key"; echo "jdk=$jdk"; echo "java=$jdk_runtime_version"; echo "modules=$modules"
  echo "debian=${versions% }"; echo "sha256=$(sha256sum "$out_dir/base.tar" | cut -d' ' -f1)"; } > "$out_dir/info.txt"
ln -sfn "base/$key/base.tar" "$link"
log "built $out_dir/base.tar ($(du -h "$out_dir/base.tar" | cut -f1), os $(du -sh "$os" | cut -f1), jre $(du -sh "$jre" | cut -f1))"
echo "$link"
